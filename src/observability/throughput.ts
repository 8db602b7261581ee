/** Finished jobs in a sliding window, for images/s and latency percentiles in /v1/stats. */
export class ThroughputWindow {
  private readonly times: number[] = [];
  private readonly latencies: number[] = [];
  total = 0;
  failed = 0;

  constructor(private readonly windowMs = 60_000, private readonly maxSamples = 100_000) {}

  record(finishedAt: number, latencyMs: number, ok: boolean): void {
    this.total++;
    if (!ok) {
      this.failed++;
      return;
    }
    this.times.push(finishedAt);
    this.latencies.push(latencyMs);
    if (this.times.length > this.maxSamples) {
      this.times.shift();
      this.latencies.shift();
    }
  }

  private prune(now: number): void {
    let drop = 0;
    while (drop < this.times.length && this.times[drop] < now - this.windowMs) drop++;
    this.times.splice(0, drop);
    this.latencies.splice(0, drop);
  }

  snapshot(now = Date.now()) {
    this.prune(now);
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null);
    return {
      window_seconds: this.windowMs / 1000,
      completed_in_window: sorted.length,
      images_per_second: Math.round((sorted.length / (this.windowMs / 1000)) * 100) / 100,
      latency_ms: { p50: pct(50), p95: pct(95), p99: pct(99) },
    };
  }
}
