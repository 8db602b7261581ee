/**
 * The cluster's recent completion rate, from samples of the queue's cluster-wide finished counter
 * (completed + failed, every worker node) and its waiting count. Only intervals that began with
 * jobs waiting count: while nothing waits, workers idle and completions measure the arrival rate,
 * not what the cluster can drain. Before enough busy completions or busy time are seen, a prior
 * stands in. A reading that failed (queue unreachable) counts as busy time in which nothing
 * finished, so an outage lowers the rate instead of leaving the last figure standing.
 */
export interface DrainRateOptions {
  /** Busy intervals older than this are forgotten. */
  windowMs: number;
  /**
   * Completions in busy intervals needed before the measurement replaces the prior; recentMs of
   * busy time replaces it too, however few finished (a stall is a measurement, not a lack of one).
   */
  minFinished: number;
  /**
   * The last few seconds of busy time, too: when the rate falls (a worker died, ingest took the
   * CPU), the lower recent figure is used at once instead of after the whole window.
   */
  recentMs: number;
}

export const DRAIN_RATE_DEFAULTS: DrainRateOptions = Object.freeze({ windowMs: 30_000, minFinished: 10, recentMs: 5000 });

interface Interval {
  end: number;
  ms: number;
  finished: number;
}

export interface DrainRate {
  perSecond: number;
  source: 'measured' | 'prior';
}

export class DrainRateEstimator {
  private readonly options: DrainRateOptions;
  private readonly busy: Interval[] = [];
  private last?: { at: number; finished: number; waiting: number };
  /** All completions in the window, busy or not: a floor for the estimate (capacity is at least this). */
  private readonly all: Array<{ at: number; finished: number }> = [];

  constructor(private readonly priorPerSecond: () => number, options: Partial<DrainRateOptions> = {}) {
    this.options = { ...DRAIN_RATE_DEFAULTS, ...options };
  }

  /** One reading of the cluster-wide finished counter and the jobs waiting, at `at` (ms). */
  observe(at: number, finishedTotal: number, waiting: number): void {
    const prev = this.last;
    this.last = { at, finished: finishedTotal, waiting };
    if (!prev || at <= prev.at) return;
    const delta = finishedTotal - prev.finished;
    // A counter that went back (Redis restarted without its data) says nothing about the rate.
    if (delta < 0) return;
    this.all.push({ at, finished: delta });
    if (prev.waiting > 0) this.busy.push({ end: at, ms: at - prev.at, finished: delta });
    this.prune(at);
  }

  /**
   * A reading that could not be taken at `at`. With work waiting at the last reading, the time
   * since counts as busy time in which nothing finished; what did finish meanwhile shows up in the
   * next successful reading's delta (the counter is cumulative), so the window's total stays exact.
   */
  observeUnreadable(at: number): void {
    const prev = this.last;
    if (!prev || at <= prev.at) return;
    this.last = { ...prev, at };
    if (prev.waiting > 0) this.busy.push({ end: at, ms: at - prev.at, finished: 0 });
    this.prune(at);
  }

  private prune(now: number): void {
    const since = now - this.options.windowMs;
    while (this.busy.length > 0 && this.busy[0].end < since) this.busy.shift();
    while (this.all.length > 0 && this.all[0].at < since) this.all.shift();
  }

  /**
   * The slowest recentMs stretch of the window in which every reading saw jobs finish. Under load
   * the rate swings (measured 1.4–5.2 images/s within a minute embedded: retry waves, co-tenants),
   * and what is admitted now drains over the next SLO, so admission plans with the trough, not the
   * latest figure. Stretches with a reading in which nothing finished (an outage, a stall) are
   * left to the recent figure while they last, so an outage does not hold admission shut for the
   * whole window after recovery.
   */
  private slowestWorkingStretch(): number | undefined {
    let slowest: number | undefined;
    for (let last = 0; last < this.busy.length; last++) {
      const end = this.busy[last].end;
      let finished = 0;
      let ms = 0;
      let working = true;
      for (let i = last; i >= 0 && this.busy[i].end > end - this.options.recentMs; i--) {
        finished += this.busy[i].finished;
        ms += this.busy[i].ms;
        working &&= this.busy[i].finished > 0;
      }
      if (!working || ms < this.options.recentMs * 0.6) continue;
      const rate = (finished * 1000) / ms;
      slowest = slowest === undefined ? rate : Math.min(slowest, rate);
    }
    return slowest;
  }

  rate(now: number): DrainRate {
    this.prune(now);
    const prior = this.priorPerSecond();
    let finished = 0;
    let ms = 0;
    let recentFinished = 0;
    let recentMs = 0;
    for (const i of this.busy) {
      finished += i.finished;
      ms += i.ms;
      if (i.end > now - this.options.recentMs) {
        recentFinished += i.finished;
        recentMs += i.ms;
      }
    }
    if (ms > 0 && (finished >= this.options.minFinished || ms >= this.options.recentMs)) {
      // The whole window bounds the estimate: a burst of completions after an outage (jobs held in
      // storage retries finishing together) lifts the recent figure, never the window's average.
      const whole = (finished * 1000) / ms;
      // A recent stretch counts once it spans most of recentMs (a single short interval is noise).
      const recent = recentMs >= this.options.recentMs * 0.6 ? (recentFinished * 1000) / recentMs : whole;
      return { perSecond: Math.min(whole, recent, this.slowestWorkingStretch() ?? whole), source: 'measured' };
    }
    // Not enough busy time yet: the prior, or what idle-time completions already prove, whichever is higher.
    const seen = this.all.reduce((s, i) => s + i.finished, 0);
    const observed = seen / (this.options.windowMs / 1000);
    return observed > prior ? { perSecond: observed, source: 'measured' } : { perSecond: prior, source: 'prior' };
  }
}

/** Seconds a job accepted now should wait behind `backlog` jobs ahead of it (itself included). */
export function predictedWaitSeconds(backlog: number, rate: DrainRate): number {
  if (backlog <= 0) return 0;
  return rate.perSecond > 0 ? backlog / rate.perSecond : Number.POSITIVE_INFINITY;
}

/**
 * Retry-After while nothing drains (an outage, a stall): no wait can be predicted, and a recovery
 * shows in the rate within its 5 s recent stretch. Asking clients back after the whole SLO left the
 * queue idle for half a minute after a 10 s S3 outage (spike run, README "Service levels").
 */
export const STALLED_RETRY_AFTER_SECONDS = 10;

/**
 * When to come back: the predicted wait's excess over the admission target (the time the queue
 * needs to get back within it), at least 1 s and at most the SLO itself; a stalled cluster
 * (infinite wait) gets asked again after STALLED_RETRY_AFTER_SECONDS.
 */
export function retryAfterSeconds(predictedWait: number, targetSeconds: number, sloSeconds: number): number {
  if (!Number.isFinite(predictedWait)) return Math.max(1, Math.min(Math.ceil(sloSeconds), STALLED_RETRY_AFTER_SECONDS));
  const excess = predictedWait - targetSeconds;
  return Math.max(1, Math.min(Math.ceil(sloSeconds), Math.ceil(excess)));
}
