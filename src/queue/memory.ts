import { EventEmitter } from 'node:events';
import { defaults } from '../config/defaults.js';
import { errors } from '../errors.js';
import { isFinished, type Job, type JobProgress, type JobResult } from '../job.js';
import { pickFairly, webhookLane, type DeliveryShares } from './webhook-lanes.js';
import type { FailureReport, JobQueue, QueueStats, Settlement, SettledJob, WebhookDelivery, WebhookPolicy, WebhookQueue } from './queue.js';

export interface MemoryQueueOptions {
  maxQueueSize: number;
  maxAttempts: number;
  /** Finished jobs are forgotten after this long. */
  jobTtlMs: number;
  /** First retry delay; doubles per attempt. */
  retryBaseMs: number;
}

// The settings' defaults (src/config/defaults.ts), for queues built without a Config (tests).
const DEFAULTS: MemoryQueueOptions = Object.freeze({
  maxQueueSize: defaults.maxQueueSize,
  maxAttempts: defaults.maxAttempts,
  jobTtlMs: defaults.jobTtlSeconds * 1000,
  retryBaseMs: defaults.retryBaseMs,
});

/** The embedded-mode queue: jobs and their status live in this process only. */
export class MemoryJobQueue implements JobQueue {
  readonly kind = 'memory' as const;
  private readonly options: MemoryQueueOptions;
  private readonly jobs = new Map<string, Job>();
  private readonly waiting: string[] = [];
  /** When each waiting job became claimable (ms): stats().oldestWaitingMs. */
  private readonly queuedAt = new Map<string, number>();
  private readonly claimers: Array<() => void> = [];
  private readonly finished = new EventEmitter();
  private readonly expiry = new Map<string, NodeJS.Timeout>();
  /** Idempotency key → job id and when the key lapses (ms); expired keys are swept on insert. */
  private readonly idempotency = new Map<string, { jobId: string; until: number }>();
  /** Webhook deliveries: job id → when it is next due (ms); an in-process retry list. */
  private readonly deliveries = new Map<string, number>();
  readonly webhooks: WebhookQueue = {
    claimDeliveries: async (max, leaseMs, shares) => this.claimDeliveries(max, leaseMs, shares),
    recordDelivery: async (delivery, error, policy) => this.recordDelivery(delivery, error, policy),
  };
  private processing = 0;
  private completed = 0;
  private failed = 0;
  private closed = false;

  constructor(options: Partial<MemoryQueueOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.finished.setMaxListeners(0);
  }

  async enqueue(job: Job): Promise<void> {
    if (this.waiting.length + this.processing >= this.options.maxQueueSize) {
      throw errors.queueFull(this.options.maxQueueSize, 1);
    }
    this.jobs.set(job.id, { ...job, status: 'queued', updatedAt: Date.now() });
    this.push(job.id);
  }

  private push(id: string): void {
    this.waiting.push(id);
    this.queuedAt.set(id, Date.now());
    this.claimers.shift()?.();
  }

  async reserveIdempotencyKey(key: string, jobId: string, ttlSeconds: number): Promise<string> {
    const now = Date.now();
    const held = this.idempotency.get(key);
    if (held && held.until > now) return held.jobId;
    // Insertion order is expiry order (one TTL for all), so the sweep stops at the first live key.
    for (const [k, v] of this.idempotency) {
      if (v.until > now) break;
      this.idempotency.delete(k);
    }
    this.idempotency.delete(key);
    this.idempotency.set(key, { jobId, until: now + ttlSeconds * 1000 });
    return jobId;
  }

  async releaseIdempotencyKey(key: string, jobId: string): Promise<void> {
    if (this.idempotency.get(key)?.jobId === jobId) this.idempotency.delete(key);
  }

  async reportProgress(id: string, progress: JobProgress): Promise<boolean> {
    const job = this.jobs.get(id);
    if (!job) return false;
    if (job.status === 'processing') job.progress = { ...progress };
    return true;
  }

  async claim(max: number, blockMs: number): Promise<Job[]> {
    if (this.waiting.length === 0 && blockMs > 0 && !this.closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          const i = this.claimers.indexOf(wake);
          if (i >= 0) this.claimers.splice(i, 1);
          resolve();
        }, blockMs);
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        this.claimers.push(wake);
      });
    }
    const claimed: Job[] = [];
    while (claimed.length < max && this.waiting.length > 0) {
      const id = this.waiting.shift()!;
      this.queuedAt.delete(id);
      const job = this.jobs.get(id);
      if (!job || job.status !== 'queued') continue;
      const now = Date.now();
      job.status = 'processing';
      job.attempts += 1;
      job.startedAt = now;
      job.updatedAt = now;
      this.processing++;
      claimed.push(structuredClone(job));
    }
    return claimed;
  }

  async complete(id: string, result: JobResult): Promise<SettledJob> {
    const job = this.mustGet(id);
    // First finisher wins; a late attempt's result is not recorded, counted or published.
    if (isFinished(job)) return settled(job, 'stale');
    return this.finish(id, 'completed', (job) => {
      job.status = 'completed';
      job.result = result;
      delete job.error;
      this.completed++;
    });
  }

  async fail(id: string, failure: FailureReport, attempt?: number): Promise<SettledJob> {
    const job = this.mustGet(id);
    if (isFinished(job) || (attempt !== undefined && attempt !== job.attempts)) return settled(job, 'stale');
    if (failure.retryable && job.attempts < this.options.maxAttempts && !this.closed) {
      this.processing--;
      job.status = 'queued';
      job.error = { code: failure.code, message: failure.message };
      job.updatedAt = Date.now();
      const delay = this.options.retryBaseMs * 2 ** (job.attempts - 1);
      setTimeout(() => this.push(id), delay).unref();
      return settled(job, 'retrying');
    }
    return this.finish(id, 'failed', (j) => {
      j.status = 'failed';
      j.error = { code: failure.code, message: failure.message };
      this.failed++;
    });
  }

  private mustGet(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw errors.jobNotFound(id);
    return job;
  }

  private finish(id: string, settlement: 'completed' | 'failed', apply: (job: Job) => void): SettledJob {
    const job = this.mustGet(id);
    if (job.status === 'processing') this.processing--;
    apply(job);
    job.finishedAt = Date.now();
    job.updatedAt = job.finishedAt;
    if (job.callback) {
      job.webhook = { deliveryId: `${id}.${job.finishedAt}`, event: settlement === 'completed' ? 'job.completed' : 'job.failed', status: 'pending', attempts: 0 };
      this.deliveries.set(id, job.finishedAt);
    }
    const timer = setTimeout(() => {
      this.jobs.delete(id);
      this.expiry.delete(id);
      this.deliveries.delete(id);
    }, this.options.jobTtlMs);
    timer.unref();
    this.expiry.set(id, timer);
    const copy = structuredClone(job);
    this.finished.emit('finished', copy);
    this.finished.emit(id, copy);
    return settled(copy, settlement);
  }

  private claimDeliveries(max: number, leaseMs: number, shares?: DeliveryShares): WebhookDelivery[] {
    const now = Date.now();
    const due: Array<[id: string, job: Job & { webhook: NonNullable<Job['webhook']>; callback: NonNullable<Job['callback']> }]> = [];
    for (const [id, at] of this.deliveries) {
      const job = this.jobs.get(id);
      if (!job?.webhook || !job.callback || job.webhook.status !== 'pending') {
        this.deliveries.delete(id);
        continue;
      }
      if (at <= now) due.push([id, job as (typeof due)[number][1]]);
    }
    // Every due delivery is looked at (it is all in memory), so no lane can hide another's.
    const picked = shares ? pickFairly(due, ([, job]) => webhookLane(job), max, shares).picked : due.slice(0, max);
    return picked.map(([id, job]) => {
      job.webhook.attempts += 1;
      this.deliveries.set(id, now + leaseMs);
      return { job: structuredClone(job), url: job.callback.url, deliveryId: job.webhook.deliveryId, event: job.webhook.event, attempt: job.webhook.attempts };
    });
  }

  private recordDelivery(delivery: Pick<WebhookDelivery, 'job' | 'deliveryId'>, error: string | undefined, policy: WebhookPolicy): void {
    const job = this.jobs.get(delivery.job.id);
    const hook = job?.webhook;
    if (!hook || hook.deliveryId !== delivery.deliveryId || hook.status !== 'pending') return;
    if (error === undefined) {
      hook.status = 'delivered';
      delete hook.lastError;
      this.deliveries.delete(delivery.job.id);
      return;
    }
    hook.lastError = error;
    if (hook.attempts >= policy.maxAttempts) {
      hook.status = 'failed';
      this.deliveries.delete(delivery.job.id);
      return;
    }
    this.deliveries.set(delivery.job.id, Date.now() + Math.min(policy.retryBaseMs * 2 ** (hook.attempts - 1), policy.maxDelayMs));
  }

  async get(id: string): Promise<Job | undefined> {
    const job = this.jobs.get(id);
    return job && structuredClone(job);
  }

  async erase(id: string): Promise<boolean> {
    const job = this.jobs.get(id);
    if (!job) return false;
    if (job.status === 'processing') this.processing--;
    const waiting = this.waiting.indexOf(id);
    if (waiting >= 0) this.waiting.splice(waiting, 1);
    this.queuedAt.delete(id);
    clearTimeout(this.expiry.get(id));
    this.expiry.delete(id);
    this.jobs.delete(id);
    return true;
  }

  async waitForFinish(id: string, timeoutMs: number): Promise<Job | undefined> {
    const job = this.jobs.get(id);
    if (!job || isFinished(job) || timeoutMs <= 0) return job && structuredClone(job);
    return new Promise((resolve) => {
      const done = (finishedJob?: Job) => {
        clearTimeout(timer);
        this.finished.off(id, done);
        resolve(finishedJob ?? this.get(id));
      };
      const timer = setTimeout(() => done(), timeoutMs);
      this.finished.on(id, done);
    });
  }

  onFinished(listener: (job: Job) => void): () => void {
    this.finished.on('finished', listener);
    return () => this.finished.off('finished', listener);
  }

  async stats(): Promise<QueueStats> {
    const head = this.waiting.length > 0 ? this.queuedAt.get(this.waiting[0]) : undefined;
    const oldestWaitingMs = head === undefined ? 0 : Math.max(0, Date.now() - head);
    return { waiting: this.waiting.length, processing: this.processing, oldestWaitingMs, completed: this.completed, failed: this.failed, deadLetter: 0, consumers: 1 };
  }

  async check(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.claimers.splice(0)) wake();
    for (const timer of this.expiry.values()) clearTimeout(timer);
  }
}

function settled(job: Job, settlement: Settlement): SettledJob {
  return { ...structuredClone(job), settlement };
}
