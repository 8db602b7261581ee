import type { Job, JobError, JobProgress, JobResult, WebhookEvent } from '../job.js';
import type { DeliveryShares } from './webhook-lanes.js';

export interface QueueStats {
  /** Jobs waiting to be claimed. */
  waiting: number;
  /** Jobs claimed by a worker and not yet finished. */
  processing: number;
  /**
   * How long the job next in line to be claimed has waited (ms; 0 when none waits): what the queue
   * actually delivers, which admission holds its prediction against. Retries in backoff are not counted.
   */
  oldestWaitingMs: number;
  completed: number;
  failed: number;
  deadLetter: number;
  consumers: number;
}

export interface FailureReport extends JobError {
  /** false: fail now (bad image); true: retry until the attempt limit. */
  retryable: boolean;
}

export interface DeadLetter {
  /** Dead-letter stream entry id; pass it to retry(). */
  entryId: string;
  jobId: string;
  /** `exhausted`: transient failures used every attempt; `stalled`: workers died or hung holding it every time. */
  reason: string;
  code: string;
  message: string;
  attempts: number;
  failedAt: number;
  /** The job as enqueued (options, input); undefined if the entry lacks it. */
  job?: Pick<Job, 'id' | 'createdAt' | 'options' | 'input' | 'tenant'>;
}

/**
 * What complete() or fail() did. `stale`: nothing changed, because the job had already finished
 * (another attempt won) or, for fail(), another attempt now holds it. Only the call that
 * finishes a job publishes it, counts it and schedules its webhook.
 */
export type Settlement = 'completed' | 'failed' | 'retrying' | 'stale';
export type SettledJob = Job & { readonly settlement: Settlement };

/** One due webhook delivery, leased to the caller (see WebhookQueue.claimDeliveries). */
export interface WebhookDelivery {
  job: Job;
  url: string;
  deliveryId: string;
  event: WebhookEvent;
  /** Attempts so far, this one included. */
  attempt: number;
}

export interface WebhookPolicy {
  maxAttempts: number;
  /** First retry delay; doubles per attempt, capped at maxDelayMs. */
  retryBaseMs: number;
  maxDelayMs: number;
}

/**
 * Webhook deliveries, scheduled by the same atomic step that finishes a job, so a finished job
 * with a callback always has exactly one delivery (with one stable id) and it is never lost.
 */
export interface WebhookQueue {
  /**
   * Up to `max` deliveries due now, each leased for `leaseMs` and counted as an attempt: if the
   * caller dies before recordDelivery, the delivery becomes due again when the lease ends.
   * With `shares`, picks go round-robin across lanes (tenants) within each lane's cap (webhook-lanes.ts).
   */
  claimDeliveries(max: number, leaseMs: number, shares?: DeliveryShares): Promise<WebhookDelivery[]>;
  /** Records the attempt: delivered, or failed (retried after the backoff, or for good past maxAttempts). */
  recordDelivery(delivery: Pick<WebhookDelivery, 'job' | 'deliveryId'>, error: string | undefined, policy: WebhookPolicy): Promise<void>;
}

/** Jobs whose attempts ran out, kept for an operator (`pixveil dlq`). */
export interface DeadLetterOperations {
  /** Oldest first, at most `count`, starting after `afterEntryId` (for paging). */
  list(options?: { count?: number; afterEntryId?: string }): Promise<DeadLetter[]>;
  /**
   * Requeues one, by entry id or job id, with fresh attempts; the job id, or undefined when there is
   * no such entry or `runnable` says it cannot run (its original expired with its record).
   */
  retry(entryOrJobId: string, runnable?: (letter: DeadLetter) => Promise<boolean>): Promise<string | undefined>;
  /** Requeues up to `max`, oldest first, of those `runnable` accepts; their ids. */
  retryAll(max?: number, runnable?: (letter: DeadLetter) => Promise<boolean>): Promise<string[]>;
}

/**
 * Hands jobs from ingest to workers and keeps their status.
 * Implementations: MemoryJobQueue (embedded mode) and the Redis Streams queue (REDIS_URL).
 */
export interface JobQueue {
  readonly kind: 'memory' | 'redis';
  /** Present where failed jobs are dead-lettered (Redis); the in-process queue just fails them. */
  readonly deadLetters?: DeadLetterOperations;
  /** Records the job as queued and makes it claimable. Throws QUEUE_FULL (429) or SERVICE_UNAVAILABLE (503). */
  enqueue(job: Job): Promise<void>;
  /** Up to `max` jobs, waiting at most `blockMs` for the first; they come back marked `processing`. */
  claim(max: number, blockMs: number): Promise<Job[]>;
  readonly webhooks: WebhookQueue;
  /**
   * Call only after the job's outputs are stored. The first call wins: a job already finished
   * is left as it is (settlement `stale`) and the caller deletes its own outputs.
   */
  complete(id: string, result: JobResult): Promise<SettledJob>;
  /**
   * Permanent failures and exhausted retries end as `failed`; others go back to the queue.
   * With `attempt` (the claimed job's attempts), a failure of an attempt that is no longer the
   * current one changes nothing (`stale`): a reclaimed job is not failed or requeued under the worker now running it.
   */
  fail(id: string, failure: FailureReport, attempt?: number): Promise<SettledJob>;
  get(id: string): Promise<Job | undefined>;
  /**
   * Records how far a running video job is (GET /v1/jobs/:id shows it). Returns false when the
   * job is no longer there (erased), so the worker can stop it; a finished job keeps its last value.
   */
  reportProgress?(id: string, progress: JobProgress): Promise<boolean>;
  /**
   * Forgets the job (DELETE /v1/jobs/:id): its record goes and it is never claimed again; a worker
   * still running it is refused at complete/fail (JOB_NOT_FOUND) and deletes what it stored.
   * Returns false when there was no such job.
   */
  erase(id: string): Promise<boolean>;
  /**
   * Records `jobId` under an idempotency key for `ttlSeconds` unless the key already names a job,
   * atomically across every node; returns the job id the key names (`jobId` when it was free).
   */
  reserveIdempotencyKey(key: string, jobId: string, ttlSeconds: number): Promise<string>;
  /** Frees the key if it still names `jobId` (that upload failed, so its retry may try again). */
  releaseIdempotencyKey(key: string, jobId: string): Promise<void>;
  /** The job once finished, or as it stands after `timeoutMs`; undefined if unknown. */
  waitForFinish(id: string, timeoutMs: number): Promise<Job | undefined>;
  /** Called for every job that finishes, on any node. Returns an unsubscribe function. */
  onFinished(listener: (job: Job) => void): () => void;
  stats(): Promise<QueueStats>;
  /**
   * Where several nodes share the queue: true on the one node that takes the periodic task `name`
   * (the storage sweep) for the next `ms`. Absent where this process is the whole cluster.
   */
  claimRound?(name: string, ms: number): Promise<boolean>;
  /** Throws when the queue's backend is unreachable; used by /v1/ready. */
  check(): Promise<void>;
  close(): Promise<void>;
}
