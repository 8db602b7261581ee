import { performance } from 'node:perf_hooks';
import { isPixveilError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Job, JobResult } from '../queue/job.js';
import type { JobQueue } from '../queue/queue.js';
import { contentTypes, storageKeys } from '../storage/keys.js';
import type { ObjectStore } from '../storage/storage.js';
import type { ImagePool } from './image-pool.js';

export interface JobRunnerOptions {
  keepOriginals: boolean;
  /** How long one claim call blocks waiting for work. */
  claimBlockMs: number;
  /** Pause after the queue backend failed, before claiming again. */
  errorBackoffMs: number;
  /** Called for each job this node finished (completed or failed for good), for metrics. */
  onJobFinished?: (job: Job) => void;
}

/**
 * The worker side of a node: claims jobs, runs them through the pool, stores the outputs and
 * only then completes the job, so a crash at any point leaves the job to be retried.
 */
export class JobRunner {
  private running = false;
  private loop?: Promise<void>;
  private readonly inFlight = new Set<Promise<void>>();
  private slotFreed?: () => void;

  constructor(
    private readonly queue: JobQueue,
    private readonly store: ObjectStore,
    private readonly pool: ImagePool,
    private readonly log: Logger,
    private readonly options: JobRunnerOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.claimLoop();
  }

  get activeJobs(): number {
    return this.inFlight.size;
  }

  private async claimLoop(): Promise<void> {
    // Claim a little past the pool's slots so a decoded job is always waiting for a free thread.
    const target = this.pool.capacity + this.pool.threads;
    while (this.running) {
      const free = target - this.inFlight.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        continue;
      }
      let jobs: Job[];
      try {
        jobs = await this.queue.claim(free, this.options.claimBlockMs);
      } catch (err) {
        this.log.warn('claim failed; retrying', { error: (err as Error).message });
        await new Promise((resolve) => setTimeout(resolve, this.options.errorBackoffMs));
        continue;
      }
      for (const job of jobs) {
        const task = this.runJob(job).finally(() => {
          this.inFlight.delete(task);
          this.slotFreed?.();
          this.slotFreed = undefined;
        });
        this.inFlight.add(task);
      }
    }
  }

  private async runJob(job: Job): Promise<void> {
    const log = this.log.child({ job_id: job.id });
    try {
      const storeStart = performance.now();
      const original = await this.store.get(job.input.key);
      const fetchMs = performance.now() - storeStart;
      const outcome = await this.pool.run(original, job.options);
      if (!outcome.ok) {
        log.warn('job failed', { code: outcome.code, error: outcome.message, permanent: outcome.permanent, attempt: job.attempts });
        this.report(await this.queue.fail(job.id, { code: outcome.code, message: outcome.message, permanent: outcome.permanent }));
        return;
      }
      const processedKey = storageKeys.processed(job.id, outcome.format);
      const metadataKey = storageKeys.metadata(job.id);
      const putStart = performance.now();
      await this.store.put(processedKey, Buffer.from(outcome.image), contentTypes[outcome.format]);
      const timings: Record<string, number> = { queue_wait: Math.max(0, (job.startedAt ?? Date.now()) - job.createdAt), fetch_original: round(fetchMs), ...outcome.timings };
      const result: JobResult = {
        processedKey,
        metadataKey,
        format: outcome.format,
        width: outcome.width,
        height: outcome.height,
        detections: outcome.detections,
        timings,
        totalMs: 0,
        models: outcome.models,
      };
      const record = metadataRecord(job, result);
      await this.store.put(metadataKey, Buffer.from(JSON.stringify(record, null, 2)), 'application/json');
      timings.store = round(performance.now() - putStart);
      result.totalMs = Date.now() - job.createdAt;
      this.report(await this.queue.complete(job.id, result));
      if (!this.options.keepOriginals) await this.store.delete(job.input.key).catch((err) => log.warn('could not delete original', { error: (err as Error).message }));
    } catch (err) {
      const permanent = isPixveilError(err) ? err.permanent : false;
      const code = isPixveilError(err) ? err.code : 'PROCESSING_ERROR';
      log.warn('job attempt failed', { code, error: (err as Error).message, attempt: job.attempts });
      // If the queue itself is down the job stays claimed and is reclaimed or retried later.
      await this.queue
        .fail(job.id, { code, message: (err as Error).message, permanent })
        .then((j) => this.report(j))
        .catch((e) => log.error('could not record failure', { error: (e as Error).message }));
    }
  }

  private report(job: Job): void {
    if (job.status === 'completed' || job.status === 'failed') this.options.onJobFinished?.(job);
  }

  /** Stops claiming, then waits up to graceMs for jobs in hand. Returns how many were still running. */
  async stop(graceMs: number): Promise<number> {
    this.running = false;
    this.slotFreed?.();
    const pending = [...this.inFlight];
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(pending), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    await this.loop?.catch(() => {});
    return this.inFlight.size;
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** The JSON stored beside each anonymized image. */
export function metadataRecord(job: Job, result: JobResult) {
  return {
    job_id: job.id,
    created_at: new Date(job.createdAt).toISOString(),
    input: { filename: job.input.filename, bytes: job.input.bytes, format: job.input.format, key: job.input.key },
    output: { key: result.processedKey, format: result.format, width: result.width, height: result.height },
    options: job.options,
    models: result.models,
    detections: result.detections,
    timings_ms: result.timings,
  };
}
