import type { Job, JobError, JobResult } from '../job.js';

export interface QueueStats {
  /** Jobs waiting to be claimed. */
  waiting: number;
  /** Jobs claimed by a worker and not yet finished. */
  processing: number;
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

/** Jobs whose attempts ran out, kept for an operator (`pixveil dlq`). */
export interface DeadLetterOperations {
  /** Oldest first, at most `count`, starting after `afterEntryId` (for paging). */
  list(options?: { count?: number; afterEntryId?: string }): Promise<DeadLetter[]>;
  /** Requeues one, by entry id or job id, with fresh attempts; the job id, or undefined when there is no such entry. */
  retry(entryOrJobId: string): Promise<string | undefined>;
  /** Requeues up to `max`, oldest first; their ids. */
  retryAll(max?: number): Promise<string[]>;
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
  /** Call only after the job's outputs are stored. */
  complete(id: string, result: JobResult): Promise<Job>;
  /** Permanent failures and exhausted retries end as `failed`; others go back to the queue. */
  fail(id: string, failure: FailureReport): Promise<Job>;
  get(id: string): Promise<Job | undefined>;
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
  /** Throws when the queue's backend is unreachable; used by /v1/ready. */
  check(): Promise<void>;
  close(): Promise<void>;
}
