import type { Config } from '../config/config.js';
import { errors } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { DrainRateEstimator, predictedWaitSeconds, retryAfterSeconds, type DrainRate } from '../observability/drain-rate.js';
import type { JobQueue } from '../queue/queue.js';

const REFRESH_MS = 1000;

export interface AdmissionView {
  slo_seconds: number;
  predicted_wait_seconds: number | null;
  drain_rate_per_second: number;
  drain_rate_source: DrainRate['source'];
  backlog: number;
}

/**
 * Latency-aware admission (LATENCY_SLO_SECONDS): an upload is refused with OVERLOADED (429,
 * Retry-After) when the jobs ahead of it, over the cluster's recent completion rate, would keep
 * it waiting past the SLO. The backlog and the finished counter come from queue.stats() once a
 * second in the background (cluster-wide in Redis mode), plus the uploads this node accepted
 * since; a request costs no queue round-trip. MAX_QUEUE_SIZE stays the hard cap in enqueue.
 */
export class Admission {
  private readonly estimator: DrainRateEstimator;
  private backlog = 0;
  private consumers = 1;
  private acceptedSinceRefresh = 0;
  /** Admitted, not yet enqueued or given up: counted so that uploads racing in together cannot all pass. */
  private admitting = 0;
  private timer?: NodeJS.Timeout;
  private refreshing = false;

  constructor(
    private readonly queue: JobQueue,
    private readonly config: Pick<Config, 'latencySloSeconds' | 'admissionPriorSecondsPerImage' | 'poolThreads'>,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    /** Pool threads on this node, or 0 on an api node (then consumers × POOL_THREADS). */
    private readonly localThreads: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.estimator = new DrainRateEstimator(() => this.priorPerSecond());
  }

  /** The prior: every thread needing ADMISSION_PRIOR_SECONDS_PER_IMAGE per image. */
  private priorPerSecond(): number {
    const threads = this.localThreads > 0 ? this.localThreads : Math.max(1, this.consumers) * this.config.poolThreads;
    return threads / this.config.admissionPriorSecondsPerImage;
  }

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Reads the queue once; exposed for tests. Failures keep the last figures (the queue reports its own outage). */
  async refresh(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    const counted = this.acceptedSinceRefresh;
    try {
      const stats = await this.queue.stats();
      this.backlog = stats.waiting + stats.processing;
      this.consumers = stats.consumers;
      this.acceptedSinceRefresh -= counted;
      this.estimator.observe(this.clock(), stats.completed + stats.failed, stats.waiting);
      this.publish();
    } catch (err) {
      this.log.debug('admission: queue stats unavailable', { error: (err as Error).message });
    } finally {
      this.refreshing = false;
    }
  }

  private current(): { backlog: number; rate: DrainRate } {
    return { backlog: this.backlog + this.acceptedSinceRefresh + this.admitting, rate: this.estimator.rate(this.clock()) };
  }

  /** Throws OVERLOADED when `count` more jobs would wait past the SLO; LATENCY_SLO_SECONDS=0 admits all. */
  check(count = 1): void {
    const slo = this.config.latencySloSeconds;
    if (slo <= 0) return;
    const { backlog, rate } = this.current();
    const wait = predictedWaitSeconds(backlog + count, rate);
    if (wait <= slo) return;
    throw errors.overloaded(wait, slo, rate.perSecond, retryAfterSeconds(backlog + count, rate, slo));
  }

  /**
   * Checks and holds room for `count` jobs until the returned release is called (after enqueue,
   * which counts them itself, or after the upload failed). Every upload route goes through here.
   */
  admit(count = 1): () => void {
    this.check(count);
    this.admitting += count;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.admitting -= count;
    };
  }

  /** An upload this node enqueued: counted in the backlog until the next refresh sees it. */
  noteEnqueued(count = 1): void {
    this.acceptedSinceRefresh += count;
  }

  private publish(): void {
    const view = this.view();
    this.metrics.predictedWait.set(view.predicted_wait_seconds ?? -1);
    this.metrics.drainRate.set(view.drain_rate_per_second);
  }

  view(): AdmissionView {
    const { backlog, rate } = this.current();
    const wait = predictedWaitSeconds(backlog, rate);
    return {
      slo_seconds: this.config.latencySloSeconds,
      predicted_wait_seconds: Number.isFinite(wait) ? Math.round(wait * 10) / 10 : null,
      drain_rate_per_second: Math.round(rate.perSecond * 100) / 100,
      drain_rate_source: rate.source,
      backlog,
    };
  }
}
