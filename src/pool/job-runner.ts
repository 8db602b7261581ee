import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { errors, isPixveilError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Job, JobResult } from '../job.js';
import type { JobQueue, SettledJob } from '../queue/queue.js';
import { contentTypes, IMAGE_EXTS } from '../image-format.js';
import { VIDEO_EXTS, videoContentTypes, type VideoExt } from '../video-format.js';
import { storageKeys } from '../storage/keys.js';
import type { ObjectStore } from '../storage/storage.js';
import type { ImagePool } from './image-pool.js';
import type { DecodeBudget } from '../pipeline/decode-budget.js';

/** A finished video job's output (src/video/video-jobs.ts makes it); failures are thrown as PixveilErrors. */
export interface VideoOutcome {
  ok: true;
  /** The anonymized video on local disk: stored from there (ObjectStore.putFile), never read into memory whole. */
  file: string;
  /** Removes `file` and whatever else the job left on disk; the runner calls it once it is done with the outcome. */
  removeFiles(): Promise<void>;
  format: VideoExt;
  width: number;
  height: number;
  timings: Record<string, number>;
  models: Record<string, string>;
  summary: NonNullable<JobResult['video']>;
  /** Stored in the metadata record: kind, first and last frame, a box per frame. */
  tracks: unknown[];
  /** More fields for the metadata record (a segmented video's segments, a segment job's place). */
  record?: Record<string, unknown>;
}

/**
 * Runs video jobs (job.kind === 'video'); wired in by commands/node.ts because src/video/ sits
 * above the pool. Absent: a video job fails with VIDEO_UNAVAILABLE and is retried elsewhere.
 */
export interface VideoJobRunner {
  /** `fetchOriginal` streams the stored upload into the file named (the runner's storage retries included). */
  run(job: Job, fetchOriginal: (file: string) => Promise<void>, hooks: VideoJobHooks): Promise<VideoOutcome>;
}

export interface VideoJobHooks {
  onProgress: (framesDone: number, framesTotal: number) => void;
  signal: AbortSignal;
  /**
   * The job now only waits on other jobs (a segmented video on its segment jobs), then finishes
   * without the pool (a join): it stops counting against the jobs this worker feeds and holds, so
   * the worker claims more, those jobs among them. Called once; later calls change nothing.
   */
  onWaiting?: () => void;
}

/** What the runner needs of the pool (an ImagePool; a fake one in unit tests). */
export type ImageRunner = Pick<ImagePool, 'run' | 'capacity' | 'threads'>;

export interface JobRunnerOptions {
  keepOriginals: boolean;
  /** How long one claim call blocks waiting for work. */
  claimBlockMs: number;
  /** Pause after the queue backend failed, before claiming (or recording an outcome) again. */
  errorBackoffMs: number;
  /**
   * How long to keep trying to record an outcome (complete/fail) while the queue backend is
   * unreachable. Past it the job is left to be reclaimed and run again (under the next attempt's keys).
   */
  settleRetryMs?: number;
  /**
   * How long one storage call (fetch the original, store an output) is retried through
   * STORAGE_ERROR before the attempt fails (STORAGE_RETRY_MS). An S3 outage of seconds then costs no
   * attempts (MAX_ATTEMPTS); held jobs are heartbeated meanwhile, so they are not reclaimed. 0: no retry in place.
   */
  storageRetryMs: number;
  /** Decoded pixels in flight (DECODE_PIXEL_BUDGET): a job waits here, header read, before it goes to the pool. */
  decodeBudget?: Pick<DecodeBudget, 'reserveFor'>;
  /** Called for each job this node finished (completed or failed for good), for metrics; never for an attempt that lost the race. */
  onJobFinished?: (job: Job) => void;
  /** Video jobs; see VideoJobRunner. */
  videos?: VideoJobRunner;
}

/**
 * The worker side of a node: claims jobs, runs them through the pool, stores the outputs and
 * only then completes the job, so a crash at any point leaves the job to be retried.
 */
export class JobRunner {
  private running = false;
  private loop?: Promise<void>;
  private readonly inFlight = new Set<Promise<void>>();
  /** Jobs claimed that the pool has not answered yet (fetching the original, queued for or in a thread). */
  private feeding = 0;
  private slotFreed?: () => void;
  /** Set when the shutdown grace ran out: jobs still running are left to be reclaimed, not failed. */
  private abandoned = false;
  /** Video jobs running here: aborted (their ffmpeg killed) when the shutdown grace runs out. */
  private readonly videoAborts = new Set<AbortController>();
  /** Jobs in hand that only wait on other jobs (VideoJobHooks.onWaiting): not counted against maxInHand. */
  private waitingOnJobs = 0;

  constructor(
    private readonly queue: JobQueue,
    private readonly store: ObjectStore,
    private readonly pool: ImageRunner,
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
    // Keep every pool slot busy with one more job per thread fetched and waiting, counting only jobs that
    // have not left the pool yet: a job storing its outputs holds no slot, so slow storage writes (queued
    // behind sharp's work on libuv's shared threads) never leave a thread without a task. Jobs in hand
    // stay bounded all the same.
    const feedTarget = this.pool.capacity + this.pool.threads;
    const maxInHand = 2 * this.pool.capacity + this.pool.threads;
    while (this.running) {
      const free = Math.min(feedTarget - this.feeding, maxInHand - (this.inFlight.size - this.waitingOnJobs));
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
        this.feeding++;
        let fed = false;
        const leftPool = () => {
          if (fed) return;
          fed = true;
          this.feeding--;
          this.wakeClaimLoop();
        };
        const task = this.runJob(job, leftPool).finally(() => {
          leftPool();
          this.inFlight.delete(task);
          this.wakeClaimLoop();
        });
        this.inFlight.add(task);
      }
    }
  }

  private wakeClaimLoop(): void {
    this.slotFreed?.();
    this.slotFreed = undefined;
  }

  /** `leftPool` is called once the pool has answered (or the job failed before reaching it). */
  private async runJob(job: Job, leftPool: () => void): Promise<void> {
    const log = this.log.child({ job_id: job.id });
    // Set while recording the outcome: an error then is the queue's, not the job's.
    let recording = false;
    // This attempt's outputs so far, deleted again if the attempt does not become the job's result.
    const written: string[] = [];
    // A video's output file, removed however the attempt ends.
    let videoOutput: VideoOutcome | undefined;
    try {
      const storeStart = performance.now();
      // A video is fetched straight into the file ffmpeg reads (runVideo), never held in memory whole.
      const original = job.kind === 'video' ? undefined : await this.storing(() => this.store.get(job.input.key));
      const fetchMs = performance.now() - storeStart;
      const outcome = original === undefined ? await this.runVideo(job, log, leftPool) : await this.runImage(job, original);
      leftPool();
      if (outcome.ok && 'file' in outcome) videoOutput = outcome;
      if (!outcome.ok) {
        log.warn('job failed', { code: outcome.code, error: outcome.message, retryable: outcome.retryable, attempt: job.attempts });
        recording = true;
        this.report(await this.settle(() => this.queue.fail(job.id, { code: outcome.code, message: outcome.message, retryable: outcome.retryable }, job.attempts)));
        return;
      }
      // Attempt-scoped keys: a late attempt of the same job never overwrites the recorded one's bytes.
      const processedKey = storageKeys.processed(job.id, outcome.format, job.attempts);
      const metadataKey = storageKeys.metadata(job.id, job.attempts);
      const putStart = performance.now();
      written.push(processedKey);
      if ('file' in outcome) await this.storing(() => this.store.putFile(processedKey, outcome.file, videoContentTypes[outcome.format]));
      else await this.storing(() => this.store.put(processedKey, Buffer.from(outcome.image), contentTypes[outcome.format]));
      const timings: Record<string, number> = { queue_wait: Math.max(0, (job.startedAt ?? Date.now()) - job.createdAt), fetch_original: round(fetchMs), ...outcome.timings };
      const result: JobResult = {
        processedKey,
        metadataKey,
        format: outcome.format,
        width: outcome.width,
        height: outcome.height,
        detections: 'file' in outcome ? [] : outcome.detections,
        timings,
        totalMs: 0,
        models: outcome.models,
        ...('file' in outcome ? { video: outcome.summary } : {}),
      };
      const record = { ...metadataRecord(job, result), ...('file' in outcome ? { video: outcome.summary, tracks: outcome.tracks, ...outcome.record } : {}) };
      written.push(metadataKey);
      const metadata = Buffer.from(JSON.stringify(record, null, 2));
      await this.storing(() => this.store.put(metadataKey, metadata, 'application/json'));
      timings.store = round(performance.now() - putStart);
      result.totalMs = Date.now() - job.createdAt;
      // Only reached once both outputs are stored; a failed put throws past this to fail().
      recording = true;
      const settled = await this.settle(() => this.queue.complete(job.id, result));
      recording = false;
      if (settled.settlement === 'stale') {
        // Another attempt finished first and its record stands: drop this attempt's outputs (never the winner's).
        log.info('job already finished by another attempt; discarding this attempt\'s outputs', { attempt: job.attempts, recorded_status: settled.status });
        await this.discard(written, settled, log);
        return;
      }
      this.report(settled);
      // Earlier attempts that died after storing (kill -9 between put and complete) left outputs under their own keys.
      if (job.attempts > 1) await this.discard(earlierAttemptKeys(job), settled, log);
      if (!this.options.keepOriginals) await this.store.delete(job.input.key).catch((err) => log.warn('could not delete original', { error: (err as Error).message }));
    } catch (err) {
      // Shutdown cut this job short (pool torn down): not the job's fault; another worker reclaims it.
      if (this.abandoned) return;
      if (recording && isPixveilError(err) && err.code === 'JOB_NOT_FOUND') {
        // Erased (DELETE /v1/jobs/:id) while it ran: what this attempt stored must not outlive the erasure.
        log.info('job was erased while processing; deleting its outputs');
        await this.eraseOutputs(job, written);
        return;
      }
      if (recording) {
        // The queue stayed unreachable (or refused): the job stays pending and is reclaimed and run again later.
        log.warn('could not record the outcome; the job will be reclaimed and run again', { error: (err as Error).message });
        return;
      }
      const { retryable, code } = isPixveilError(err) ? err : errors.processingFailed((err as Error).message);
      log.warn('job attempt failed', { code, error: (err as Error).message, attempt: job.attempts });
      await this.discard(written, undefined, log);
      await this.settle(() => this.queue.fail(job.id, { code, message: (err as Error).message, retryable }, job.attempts))
        .then((j) => this.report(j))
        .catch((e) => log.error('could not record failure; the job will be reclaimed', { error: (e as Error).message }));
    } finally {
      await videoOutput?.removeFiles().catch((err) => log.warn('could not remove a video job\'s temporary files', { error: (err as Error).message }));
    }
  }

  private async runImage(job: Job, original: Buffer) {
    const release = await this.options.decodeBudget?.reserveFor(original);
    return this.pool.run(original, job.options).finally(() => release?.());
  }

  /**
   * A video job, with its progress recorded (at most twice a second) for GET /v1/jobs/:id. When
   * the record is gone (DELETE while it runs) the job is stopped at once rather than at the end.
   */
  private async runVideo(job: Job, log: Logger, leftPool: () => void): Promise<VideoOutcome | { ok: false; code: string; message: string; retryable: boolean }> {
    if (!this.options.videos) return { ok: false, code: 'VIDEO_UNAVAILABLE', message: 'This worker cannot run video jobs (no ffmpeg); another worker may', retryable: true };
    const abort = new AbortController();
    this.videoAborts.add(abort);
    let lastReport = 0;
    let reporting: Promise<unknown> = Promise.resolve();
    const onProgress = (framesDone: number, framesTotal: number) => {
      const now = Date.now();
      if (now - lastReport < 500 && framesDone < framesTotal) return;
      lastReport = now;
      reporting = reporting.then(async () => {
        const present = await this.queue.reportProgress?.(job.id, { framesDone, framesTotal }).catch((err) => {
          log.debug('could not record progress', { error: (err as Error).message });
          return true;
        });
        if (present === false) abort.abort(errors.jobNotFound(job.id));
      });
    };
    let waiting = false;
    // Without this a worker whose slots all held waiting videos would never claim their segments (a 1-slot worker deadlocks).
    const onWaiting = () => {
      if (waiting) return;
      waiting = true;
      this.waitingOnJobs++;
      leftPool();
      this.wakeClaimLoop();
    };
    try {
      // Retried through STORAGE_ERROR like any fetch; a retry starts the file again.
      const fetchTo = (file: string) =>
        this.storing(async () => {
          const { stream } = await this.store.getStream(job.input.key);
          await pipeline(stream, fs.createWriteStream(file));
        });
      return await this.options.videos.run(job, fetchTo, { onProgress, signal: abort.signal, onWaiting });
    } catch (err) {
      // Erased while it ran: the recording step below answers JOB_NOT_FOUND and deletes what was stored.
      if (isPixveilError(err) && err.code === 'JOB_NOT_FOUND') throw err;
      if (isPixveilError(err)) return { ok: false, code: err.code, message: err.message, retryable: err.retryable };
      throw err;
    } finally {
      if (waiting) this.waitingOnJobs--;
      this.videoAborts.delete(abort);
      await reporting;
    }
  }

  private async eraseOutputs(job: Job, written: string[]): Promise<void> {
    for (const key of [job.input.key, ...written, ...earlierAttemptKeys(job)]) {
      await this.store.delete(key).catch((err) => this.log.warn('could not delete an erased job\'s output', { job_id: job.id, key, error: (err as Error).message }));
    }
  }

  /**
   * Records an outcome, retrying while the queue backend is unreachable (a Redis restart takes
   * seconds) so finished work is not thrown away; gives up after settleRetryMs or at shutdown.
   */
  private async settle(record: () => Promise<SettledJob>): Promise<SettledJob> {
    const deadline = Date.now() + (this.options.settleRetryMs ?? 30_000);
    for (;;) {
      try {
        return await record();
      } catch (err) {
        if (!isUnavailable(err) || this.abandoned || Date.now() >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, this.options.errorBackoffMs));
      }
    }
  }

  /** A storage call, retried with doubling pauses (up to 5 s) while it fails with STORAGE_ERROR, for storageRetryMs. */
  private async storing<T>(call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.options.storageRetryMs;
    let pause = this.options.errorBackoffMs;
    for (;;) {
      try {
        return await call();
      } catch (err) {
        const transient = isPixveilError(err) && err.code === 'STORAGE_ERROR';
        if (!transient || this.abandoned || Date.now() + pause >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, pause));
        pause = Math.min(pause * 2, 5000);
      }
    }
  }

  /** Only the call that finished the job reports it, so a job raced by two attempts counts once. */
  private report(job: SettledJob): void {
    if (job.settlement === 'completed' || job.settlement === 'failed') this.options.onJobFinished?.(job);
  }

  private async discard(keys: string[], recorded: Job | undefined, log: Logger): Promise<void> {
    const kept = new Set([recorded?.result?.processedKey, recorded?.result?.metadataKey]);
    for (const key of keys) {
      if (!kept.has(key)) await this.store.delete(key).catch((err) => log.warn('could not delete an unused output', { key, error: (err as Error).message }));
    }
  }

  /**
   * Stops claiming, then waits up to graceMs for jobs in hand, including any a claim in progress
   * still hands over. Returns how many were still running; those are abandoned: left pending for
   * other workers to reclaim after the stall timeout rather than recorded as failed.
   */
  async stop(graceMs: number): Promise<number> {
    this.running = false;
    this.slotFreed?.();
    const deadline = Date.now() + graceMs;
    const within = async (work: Promise<unknown>) => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timer);
    };
    // The loop ends once its current claim returns (claimBlockMs at most).
    await within(this.loop?.catch(() => {}) ?? Promise.resolve());
    await within(Promise.allSettled([...this.inFlight]));
    if (this.inFlight.size > 0) this.abandoned = true;
    // Their ffmpeg processes end with them; the jobs are reclaimed and run again elsewhere.
    for (const abort of this.videoAborts) abort.abort();
    return this.inFlight.size;
  }
}

/** Every key an earlier attempt of this job could have written. */
function earlierAttemptKeys(job: Job): string[] {
  const keys: string[] = [];
  for (let attempt = 1; attempt < job.attempts; attempt++) {
    for (const ext of [...IMAGE_EXTS, ...VIDEO_EXTS]) keys.push(storageKeys.processed(job.id, ext, attempt));
    keys.push(storageKeys.metadata(job.id, attempt));
  }
  return keys;
}

function isUnavailable(err: unknown): boolean {
  return isPixveilError(err) && err.code === 'SERVICE_UNAVAILABLE';
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
