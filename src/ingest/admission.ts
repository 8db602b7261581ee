import type { Config } from '../config/config.js';
import { errors } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { DrainRateEstimator, predictedWaitSeconds, retryAfterSeconds, type DrainRate } from '../observability/drain-rate.js';
import type { JobQueue } from '../queue/queue.js';

const REFRESH_MS = 1000;

export interface AdmissionView {
  slo_seconds: number;
  /** ADMISSION_WAIT_FRACTION × SLO: the wait an upload may be predicted to have and still be admitted. */
  target_seconds: number;
  predicted_wait_seconds: number | null;
  /** How long the next job in line has waited (as last read, aged since). */
  oldest_waiting_seconds: number;
  drain_rate_per_second: number;
  drain_rate_source: DrainRate['source'];
  backlog: number;
}

/**
 * Latency-aware admission (LATENCY_SLO_SECONDS): an upload is refused with OVERLOADED (429,
 * Retry-After) when it would be predicted to wait past the target, ADMISSION_WAIT_FRACTION of
 * the SLO (the rest is margin: the drain rate can fall after a job is admitted). The predicted
 * wait is the larger of
 *  - the jobs ahead of it over the cluster's recent completion rate, and
 *  - how long the next job in line has already waited: when earlier predictions were too
 *    optimistic, the queue's real wait says so, and admission tightens until it is back in target.
 * The figures come from queue.stats() once a second in the background (cluster-wide in Redis
 * mode), plus the uploads this node accepted since; a request costs no queue round-trip. While
 * the queue cannot be read, the head's wait keeps growing and the drain rate counts the time as
 * nothing finished, so stale figures do not keep admitting. MAX_QUEUE_SIZE stays the hard cap.
 */
export class Admission {
  private readonly estimator: DrainRateEstimator;
  private backlog = 0;
  /** stats().oldestWaitingMs at the last reading, taken at readAt (this clock). */
  private oldestWaitingMs = 0;
  private readAt = 0;
  private consumers = 1;
  private acceptedSinceRefresh = 0;
  /** Admitted, not yet enqueued or given up: counted so that uploads racing in together cannot all pass. */
  private admitting = 0;
  private timer?: NodeJS.Timeout;
  private refreshing = false;

  constructor(
    private readonly queue: JobQueue,
    private readonly config: Pick<Config, 'latencySloSeconds' | 'admissionWaitFraction' | 'admissionPriorSecondsPerImage' | 'poolThreads'>,
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

  /** Reads the queue once; exposed for tests. A failed read counts as time in which nothing drained. */
  async refresh(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    const counted = this.acceptedSinceRefresh;
    try {
      const stats = await this.queue.stats();
      const at = this.clock();
      this.backlog = stats.waiting + stats.processing;
      this.oldestWaitingMs = stats.oldestWaitingMs;
      this.readAt = at;
      this.consumers = stats.consumers;
      this.acceptedSinceRefresh -= counted;
      this.estimator.observe(at, stats.completed + stats.failed, stats.waiting);
    } catch (err) {
      this.log.debug('admission: queue stats unavailable', { error: (err as Error).message });
      this.estimator.observeUnreadable(this.clock());
    } finally {
      this.publish();
      this.refreshing = false;
    }
  }

  /**
   * The figures as of now, and the predicted wait of `count` more jobs: behind the backlog at the
   * drain rate, and never less than the head of the queue has already waited.
   */
  private current(count: number): { backlog: number; rate: DrainRate; headWaitSeconds: number; wait: number } {
    const now = this.clock();
    // The head keeps waiting between readings (and through an outage) until a reading says otherwise.
    const headWaitSeconds = this.oldestWaitingMs > 0 ? (this.oldestWaitingMs + Math.max(0, now - this.readAt)) / 1000 : 0;
    const backlog = this.backlog + this.acceptedSinceRefresh + this.admitting;
    const rate = this.estimator.rate(now);
    return { backlog, rate, headWaitSeconds, wait: Math.max(predictedWaitSeconds(backlog + count, rate), headWaitSeconds) };
  }

  /** Seconds the admission target allows: ADMISSION_WAIT_FRACTION of LATENCY_SLO_SECONDS. */
  private targetSeconds(): number {
    return this.config.latencySloSeconds * this.config.admissionWaitFraction;
  }

  /** Throws OVERLOADED when `count` more jobs would wait past the target; LATENCY_SLO_SECONDS=0 admits all. */
  check(count = 1): void {
    if (this.config.latencySloSeconds <= 0) return;
    const target = this.targetSeconds();
    const { wait, rate } = this.current(count);
    if (wait <= target) return;
    throw errors.overloaded(wait, target, this.config.latencySloSeconds, rate.perSecond, retryAfterSeconds(wait, target, this.config.latencySloSeconds));
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
    const { wait, backlog, rate, headWaitSeconds } = this.current(0);
    return {
      slo_seconds: this.config.latencySloSeconds,
      target_seconds: Math.round(this.targetSeconds() * 10) / 10,
      predicted_wait_seconds: Number.isFinite(wait) ? Math.round(wait * 10) / 10 : null,
      oldest_waiting_seconds: Math.round(headWaitSeconds * 10) / 10,
      drain_rate_per_second: Math.round(rate.perSecond * 100) / 100,
      drain_rate_source: rate.source,
      backlog,
    };
  }
}
