/** Finished jobs in a sliding window, for images/s and latency percentiles in /v1/stats. */
export class ThroughputWindow {
  private readonly times: number[] = [];
  private readonly latencies: number[] = [];
  total = 0;
  failed = 0;

  private readonly startedAt: number;

  constructor(private readonly windowMs = 60_000, private readonly maxSamples = 100_000, now = Date.now()) {
    this.startedAt = now;
  }

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
    // A node up for less than the window has only been counting that long.
    const spanSeconds = Math.max(1, Math.min(this.windowMs, now - this.startedAt)) / 1000;
    return {
      window_seconds: this.windowMs / 1000,
      completed_in_window: sorted.length,
      images_per_second: Math.round((sorted.length / spanSeconds) * 100) / 100,
      latency_ms: { p50: pct(50), p95: pct(95), p99: pct(99) },
    };
  }
}
