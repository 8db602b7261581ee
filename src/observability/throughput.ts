/** What a finished job was: images and videos are timed apart, since one video takes as long as hundreds of images. */
export type FinishedKind = 'image' | 'video';

/** One kind's completions in the window: when each finished and how long it took from upload. */
class Completions {
  readonly times: number[] = [];
  readonly latencies: number[] = [];

  constructor(private readonly maxSamples: number) {}

  add(finishedAt: number, latencyMs: number): void {
    this.times.push(finishedAt);
    this.latencies.push(latencyMs);
    if (this.times.length > this.maxSamples) {
      this.times.shift();
      this.latencies.shift();
    }
  }

  prune(since: number): void {
    let drop = 0;
    while (drop < this.times.length && this.times[drop] < since) drop++;
    this.times.splice(0, drop);
    this.latencies.splice(0, drop);
  }

  percentiles() {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null);
    return { p50: pct(50), p95: pct(95), p99: pct(99) };
  }
}

/**
 * Finished jobs in a sliding window, for /v1/stats: images/s and image latency percentiles, and
 * videos apart (a ten-minute clip's latency is not an image's). `total` and `failed` count both.
 */
export class ThroughputWindow {
  private readonly completed: Record<FinishedKind, Completions>;
  total = 0;
  failed = 0;

  private readonly startedAt: number;

  constructor(private readonly windowMs = 60_000, maxSamples = 100_000, now = Date.now()) {
    this.startedAt = now;
    this.completed = { image: new Completions(maxSamples), video: new Completions(maxSamples) };
  }

  record(finishedAt: number, latencyMs: number, ok: boolean, kind: FinishedKind = 'image'): void {
    this.total++;
    if (!ok) {
      this.failed++;
      return;
    }
    this.completed[kind].add(finishedAt, latencyMs);
  }

  snapshot(now = Date.now()) {
    for (const completions of Object.values(this.completed)) completions.prune(now - this.windowMs);
    const { image, video } = this.completed;
    // A node up for less than the window has only been counting that long.
    const spanSeconds = Math.max(1, Math.min(this.windowMs, now - this.startedAt)) / 1000;
    return {
      window_seconds: this.windowMs / 1000,
      completed_in_window: image.times.length,
      images_per_second: Math.round((image.times.length / spanSeconds) * 100) / 100,
      latency_ms: image.percentiles(),
      videos: { completed_in_window: video.times.length, latency_ms: video.percentiles() },
    };
  }
}
