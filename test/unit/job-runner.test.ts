// JobRunner against a fake queue, store and pool: the order "store outputs, then complete",
// failures and their retryability, recording through a queue outage, and abandoning at shutdown.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { errors } from '../../src/errors.js';
import { newJobId, type Job, type JobResult } from '../../src/job.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { ImageTaskFailure, ImageTaskResult } from '../../src/pool/task.js';
import { JobRunner, type ImageRunner, type JobRunnerOptions, type VideoJobRunner } from '../../src/pool/job-runner.js';
import type { FailureReport, JobQueue, QueueStats, SettledJob } from '../../src/queue/queue.js';
import { LocalObjectStore } from '../../src/storage/local.js';
import type { ObjectStore } from '../../src/storage/storage.js';
import { peakLiveBuffers } from '../../harness/live-memory.js';
import { processedResult } from '../../harness/pool-result.js';

type Call = { op: 'complete'; id: string; result: JobResult } | { op: 'fail'; id: string; failure: FailureReport };

/** Hands out the jobs it is given once each and records every outcome; `outage` makes complete/fail throw SERVICE_UNAVAILABLE. */
class FakeQueue implements JobQueue {
  readonly kind = 'memory' as const;
  readonly calls: Call[] = [];
  readonly events: string[];
  outage = 0;
  /** complete/fail calls refused by the outage. */
  refused = 0;
  readonly erased = new Set<string>();
  private readonly waiting: Job[];

  constructor(jobs: Job[], events: string[]) {
    this.waiting = [...jobs];
    this.events = events;
  }

  async claim(max: number, blockMs: number): Promise<Job[]> {
    if (this.waiting.length === 0) await new Promise((resolve) => setTimeout(resolve, Math.min(blockMs, 20)));
    return this.waiting.splice(0, max).map((job) => ({ ...job, status: 'processing', attempts: job.attempts + 1, startedAt: Date.now() }));
  }

  readonly webhooks = { claimDeliveries: async () => [], recordDelivery: async () => {} };

  private record(call: Call, status: Job['status']): SettledJob {
    // An erased job (DELETE /v1/jobs/:id) is unknown to the queue, as in memory.ts and the Lua scripts.
    if (this.erased.has(call.id)) throw errors.jobNotFound(call.id);
    if (this.outage > 0) {
      this.outage--;
      this.refused++;
      throw errors.unavailable('Redis');
    }
    this.calls.push(call);
    this.events.push(`${call.op}:${call.id}`);
    return { ...makeJob(call.id), status, settlement: status === 'queued' ? 'retrying' : status === 'processing' ? 'stale' : status };
  }

  async complete(id: string, result: JobResult): Promise<SettledJob> {
    return this.record({ op: 'complete', id, result }, 'completed');
  }

  async fail(id: string, failure: FailureReport): Promise<SettledJob> {
    return this.record({ op: 'fail', id, failure }, failure.retryable ? 'queued' : 'failed');
  }

  async erase(id: string): Promise<boolean> {
    this.erased.add(id);
    return true;
  }

  async enqueue(): Promise<void> {}
  async get(): Promise<Job | undefined> {
    return undefined;
  }
  async waitForFinish(): Promise<Job | undefined> {
    return undefined;
  }
  // Ingest's business; the runner never reserves upload keys.
  async reserveIdempotencyKey(_key: string, jobId: string): Promise<string> {
    return jobId;
  }
  async releaseIdempotencyKey(): Promise<void> {}
  onFinished(): () => void {
    return () => {};
  }
  async stats(): Promise<QueueStats> {
    return { waiting: this.waiting.length, processing: 0, oldestWaitingMs: 0, completed: 0, failed: 0, deadLetter: 0, consumers: 1 };
  }
  async check(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Objects in a Map; `failPuts` makes put() throw STORAGE_ERROR (`failNext` only for that many calls). */
class FakeStore implements ObjectStore {
  readonly description = 'fake';
  readonly objects = new Map<string, Buffer>();
  failPuts = false;
  failNext = 0;

  constructor(private readonly events: string[]) {}

  async put(key: string, body: Buffer): Promise<void> {
    if (this.failPuts) throw errors.storage('put', key, new Error('disk full'));
    if (this.failNext > 0) {
      this.failNext--;
      throw errors.storage('put', key, new Error('503 ServiceUnavailable'));
    }
    this.objects.set(key, body);
    this.events.push(`put:${key}`);
  }
  async putFile(key: string, file: string): Promise<void> {
    await this.put(key, await fs.readFile(file));
  }
  async get(key: string): Promise<Buffer> {
    const body = this.objects.get(key);
    if (!body) throw errors.storage('get', key, new Error('no such key'));
    return body;
  }
  /** Video jobs fetch their original this way. */
  async getStream(key: string) {
    const body = await this.get(key);
    return { stream: Readable.from([body]), size: body.length, contentType: 'application/octet-stream' };
  }
  async *list(prefix: string) {
    for (const key of this.objects.keys()) if (key.startsWith(prefix)) yield { key, modifiedAt: 0 };
  }
  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }
  async delete(key: string): Promise<void> {
    this.objects.delete(key);
    this.events.push(`delete:${key}`);
  }
  async check(): Promise<void> {}
}

function makeJob(id = newJobId()): Job {
  const now = Date.now();
  return {
    id,
    status: 'queued',
    createdAt: now,
    updatedAt: now,
    attempts: 0,
    options: { blur: 'gaussian', shape: 'box', detect: { faces: true, plates: true, objects: false }, thresholds: { face: 0.6, plate: 0.15, object: 0.35 }, blurClasses: [], format: 'same', quality: 90 },
    input: { key: `original/${id}.jpg`, filename: 'a.jpg', bytes: 3, format: 'jpg' },
  };
}

const processed = (): ImageTaskResult => processedResult([1, 2, 3, 4], 'ultraface-rfb-320');

function setup(jobs: Job[], run: ImageRunner['run'], options: Partial<JobRunnerOptions> = {}) {
  const events: string[] = [];
  const queue = new FakeQueue(jobs, events);
  const store = new FakeStore(events);
  for (const job of jobs) store.objects.set(job.input.key, Buffer.from('jpg'));
  const finished: Job[] = [];
  const pool: ImageRunner = { run, capacity: 2, threads: 1 };
  const runner = new JobRunner(queue, store, pool, silentLogger, {
    keepOriginals: true,
    claimBlockMs: 20,
    errorBackoffMs: 5,
    settleRetryMs: 2000,
    storageRetryMs: 50,
    onJobFinished: (job) => finished.push(job),
    ...options,
  });
  return { queue, store, runner, events, finished };
}

async function until(check: () => boolean, what: string, withinMs = 5000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('a processed job has both outputs stored before it is completed, and is reported finished', async () => {
  const job = makeJob();
  const { queue, store, runner, events, finished } = setup([job], async () => processed());
  runner.start();
  await until(() => queue.calls.length === 1, 'complete');
  await runner.stop(1000);
  const call = queue.calls[0];
  assert.equal(call.op, 'complete');
  if (call.op !== 'complete') return;
  assert.equal(call.result.processedKey, `processed/${job.id}.1.jpg`);
  assert.equal(call.result.metadataKey, `metadata/${job.id}.1.json`);
  assert.deepEqual(events, [`put:processed/${job.id}.1.jpg`, `put:metadata/${job.id}.1.json`, `complete:${job.id}`]);
  assert.deepEqual([...store.objects.get(call.result.processedKey)!], [1, 2, 3, 4]);
  const record = JSON.parse(store.objects.get(call.result.metadataKey)!.toString());
  assert.equal(record.job_id, job.id);
  assert.equal(record.detections.length, 1);
  assert.deepEqual(finished.map((j) => j.status), ['completed']);
});

test('KEEP_ORIGINALS=false deletes the original only after the job completed', async () => {
  const job = makeJob();
  const { runner, events } = setup([job], async () => processed(), { keepOriginals: false });
  runner.start();
  await until(() => events.includes(`delete:${job.input.key}`), 'the original deleted');
  await runner.stop(1000);
  assert.ok(events.indexOf(`complete:${job.id}`) < events.indexOf(`delete:${job.input.key}`));
});

test('a bad image fails the job as not retryable, with the pool thread’s code', async () => {
  const failure: ImageTaskFailure = { ok: false, code: 'UNDECODABLE_IMAGE', message: 'not an image', retryable: false };
  const { queue, runner, store, finished } = setup([makeJob()], async () => failure);
  runner.start();
  await until(() => queue.calls.length === 1, 'fail');
  await runner.stop(1000);
  assert.deepEqual(queue.calls.map((c) => c.op === 'fail' && c.failure), [{ code: 'UNDECODABLE_IMAGE', message: 'not an image', retryable: false }]);
  assert.ok(![...store.objects.keys()].some((k) => k.startsWith('processed/')), 'nothing stored for a failed job');
  assert.deepEqual(finished.map((j) => j.status), ['failed']);
});

test('a storage failure while storing outputs fails the attempt as retryable and never completes it', async () => {
  const { queue, store, runner, finished } = setup([makeJob()], async () => processed());
  store.failPuts = true;
  runner.start();
  await until(() => queue.calls.length === 1, 'fail');
  await runner.stop(1000);
  const [call] = queue.calls;
  assert.equal(call.op, 'fail');
  if (call.op !== 'fail') return;
  assert.equal(call.failure.code, 'STORAGE_ERROR');
  assert.equal(call.failure.retryable, true);
  assert.deepEqual(finished, [], 'a retried job is not finished');
});

test('a storage outage shorter than storageRetryMs costs no attempt: the puts are retried and the job completes once', async () => {
  const job = makeJob();
  const { queue, store, runner, finished } = setup([job], async () => processed(), { storageRetryMs: 2000 });
  store.failNext = 4;
  runner.start();
  await until(() => queue.calls.length === 1, 'complete');
  await runner.stop(1000);
  assert.deepEqual(queue.calls.map((c) => c.op), ['complete'], 'no fail() recorded: the attempt was not spent');
  assert.equal(store.failNext, 0);
  const call = queue.calls[0];
  assert.ok(call.op === 'complete' && store.objects.has(call.result.metadataKey), 'the metadata was stored after the retries');
  assert.deepEqual(finished.map((j) => j.status), ['completed']);
});

test('an unexpected error in the pool is retryable PROCESSING_ERROR', async () => {
  const { queue, runner } = setup([makeJob()], async () => {
    throw new Error('thread crashed');
  });
  runner.start();
  await until(() => queue.calls.length === 1, 'fail');
  await runner.stop(1000);
  const [call] = queue.calls;
  assert.ok(call.op === 'fail' && call.failure.code === 'PROCESSING_ERROR' && call.failure.retryable === true);
});

test('settle: complete() is retried through a short queue outage, so finished work is recorded once', async () => {
  const job = makeJob();
  const { queue, runner, finished } = setup([job], async () => processed());
  queue.outage = 3;
  runner.start();
  await until(() => queue.calls.length === 1, 'complete after the outage');
  await runner.stop(1000);
  assert.equal(queue.outage, 0, 'every failed try was retried');
  assert.deepEqual(queue.calls.map((c) => `${c.op}:${c.id}`), [`complete:${job.id}`]);
  assert.equal(finished.length, 1);
});

test('settle gives up after settleRetryMs and leaves the job to be reclaimed: no fail() for a queue outage', async () => {
  const { queue, runner, finished } = setup([makeJob()], async () => processed(), { settleRetryMs: 30 });
  queue.outage = Number.POSITIVE_INFINITY;
  runner.start();
  await until(() => queue.refused > 1 && runner.activeJobs === 0, 'the runner to try, then give up');
  // Redis answers again: the runner must not come back to record anything for the job.
  queue.outage = 0;
  await runner.stop(1000);
  assert.deepEqual(queue.calls, []);
  assert.deepEqual(finished, []);
});

test('abandon: jobs still running when the grace runs out are left pending, not failed', async () => {
  let reject!: (err: Error) => void;
  const { queue, runner } = setup([makeJob()], () => new Promise((_resolve, fail) => (reject = fail)));
  runner.start();
  await until(() => runner.activeJobs === 1, 'the job to start');
  assert.equal(await runner.stop(20), 1, 'one job left running');
  // The pool is torn down under it: its error is not the job's and must not fail it.
  reject(new Error('pool destroyed'));
  await until(() => runner.activeJobs === 0, 'the job to end');
  assert.deepEqual(queue.calls, []);
});

test('stop within the grace lets a running job finish and record its outcome', async () => {
  let release!: (outcome: ImageTaskResult) => void;
  const job = makeJob();
  const { queue, runner } = setup([job], () => new Promise((resolve) => (release = resolve)));
  runner.start();
  await until(() => runner.activeJobs === 1, 'the job to start');
  const stopping = runner.stop(5000);
  release(processed());
  assert.equal(await stopping, 0);
  assert.deepEqual(queue.calls.map((c) => `${c.op}:${c.id}`), [`complete:${job.id}`]);
});

test('a job erased while it was processing leaves no outputs behind: the refused complete deletes them', async () => {
  const job = makeJob();
  let release!: () => void;
  let started = false;
  const { queue, store, runner, events, finished } = setup([job], async () => {
    started = true;
    await new Promise<void>((resolve) => (release = resolve));
    return processed();
  });
  runner.start();
  await until(() => started, 'the pool run to start');
  // What DELETE /v1/jobs/:id does while the pool thread works: storage first, then the record.
  await store.delete(job.input.key);
  await queue.erase(job.id);
  release();
  await until(() => events.includes(`delete:metadata/${job.id}.1.json`) && events.includes(`delete:processed/${job.id}.1.jpg`), 'the late outputs deleted');
  await runner.stop(1000);
  assert.ok(events.indexOf(`put:processed/${job.id}.1.jpg`) < events.lastIndexOf(`delete:processed/${job.id}.1.jpg`), 'stored, then deleted');
  assert.deepEqual([...store.objects.keys()], [], 'nothing of the erased job is left in the store');
  assert.equal(queue.calls.length, 0, 'the job was never recorded as completed');
  assert.deepEqual(finished, []);
});

test('jobs still storing their outputs hold no pool slot: the pool keeps getting work while the store is slow', async () => {
  const jobs = Array.from({ length: 12 }, () => makeJob());
  let poolCalls = 0;
  const { store, runner } = setup(jobs, async () => {
    poolCalls++;
    return processed();
  });
  // Every output write hangs until released, as when storage writes queue behind sharp's work on libuv's threads.
  const release: Array<() => void> = [];
  const put = store.put.bind(store);
  store.put = async (key, body) => {
    if (!key.startsWith('original/')) await new Promise<void>((resolve) => release.push(resolve));
    return put(key, body);
  };
  runner.start();
  // Pool of 2 slots and 1 thread: 3 jobs fed at once, at most 2 × 2 + 1 = 5 in hand.
  await until(() => poolCalls >= 5, 'the pool run for more jobs than the feed target while earlier jobs are storing');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(poolCalls, 5, 'jobs in hand stay bounded');
  assert.equal(runner.activeJobs, 5);
  while (poolCalls < 12 || runner.activeJobs > 0) {
    release.splice(0).forEach((go) => go());
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await runner.stop(1000);
  assert.equal(poolCalls, 12);
});

/** A video runner that fetches the original and "anonymizes" it into an output of `outputBytes` on disk. */
function fileVideos(outputBytes: number, removed: string[]): VideoJobRunner {
  return {
    run: async (job, fetchOriginal) => {
      const work = await fs.mkdtemp(path.join(os.tmpdir(), 'pixveil-fake-video-'));
      await fetchOriginal(path.join(work, 'input.mp4'));
      const file = path.join(work, 'output.mp4');
      const block = Buffer.alloc(MiB, job.id);
      const out = await fs.open(file, 'w');
      for (let left = outputBytes; left > 0; left -= block.length) await out.write(block, 0, Math.min(left, block.length));
      await out.close();
      return {
        ok: true,
        file,
        removeFiles: async () => {
          removed.push(work);
          await fs.rm(work, { recursive: true, force: true });
        },
        format: 'mp4',
        width: 16,
        height: 16,
        timings: {},
        models: {},
        summary: { frames: 1, fps: 1, durationSeconds: 1, audioStreams: 0, tracks: {}, detectEvery: 1 },
        tracks: [],
      };
    },
  };
}

const MiB = 1024 * 1024;

function videoJob(): Job {
  const job = makeJob();
  return { ...job, kind: 'video', input: { ...job.input, key: `original/${job.id}.mp4`, format: 'mp4' } };
}

test('a video\'s output goes from its file to storage, never read whole (100 MB stored holding a few MiB of buffers), and its files are removed', async () => {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pixveil-runner-video-'));
  const store = new LocalObjectStore(dataDir);
  const job = videoJob();
  await store.put(job.input.key, Buffer.from('an original'));
  const events: string[] = [];
  const queue = new FakeQueue([job], events);
  const removed: string[] = [];
  const runner = new JobRunner(queue, store, { run: async () => processed(), capacity: 1, threads: 1 }, silentLogger, {
    keepOriginals: true, claimBlockMs: 20, errorBackoffMs: 5, settleRetryMs: 2000, storageRetryMs: 50, videos: fileVideos(100 * MiB, removed),
  });
  const { peakBytes } = await peakLiveBuffers(async () => {
    runner.start();
    await until(() => queue.calls.length === 1 && removed.length === 1, 'the job completed and its files removed', 60_000);
  });
  await runner.stop(1000);
  const [call] = queue.calls;
  assert.equal(call.op, 'complete', JSON.stringify(call));
  if (call.op !== 'complete') return;
  const stored = await fs.stat(path.join(dataDir, call.result.processedKey));
  assert.equal(stored.size, 100 * MiB);
  assert.ok(peakBytes < 16 * MiB, `held ${(peakBytes / MiB).toFixed(1)} MiB of buffers at once for a 100 MiB output`);
  await assert.rejects(fs.access(removed[0]), 'the output file and its folder are gone');
  await fs.rm(dataDir, { recursive: true, force: true });
});

test('a video whose output cannot be stored fails the attempt (retryable) and its files are removed all the same', async () => {
  const job = videoJob();
  const removed: string[] = [];
  const { queue, store, runner } = setup([job], async () => processed(), { videos: fileVideos(MiB, removed) });
  store.failPuts = true;
  runner.start();
  await until(() => queue.calls.length === 1 && removed.length === 1, 'the attempt failed and its files removed');
  await runner.stop(1000);
  const [call] = queue.calls;
  assert.equal(call.op === 'fail' && call.failure.code, 'STORAGE_ERROR');
  await assert.rejects(fs.access(removed[0]));
});
