// Segments as queued jobs: the worker running a long video queues one child job per segment,
// which any worker takes (in-process queue and Redis alike), and joins their outputs. Workers
// here are JobRunners in this process with the square clip's test-double pool (harness/square-clip.ts),
// so each test can see which worker ran which segment and what the video's output holds.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { newJobId, type Job } from '../../src/job.js';
import { silentLogger } from '../../src/observability/logger.js';
import { JobRunner, type ImageRunner, type VideoJobRunner } from '../../src/pool/job-runner.js';
import { MemoryJobQueue } from '../../src/queue/memory.js';
import type { JobQueue } from '../../src/queue/queue.js';
import { JOB_OBJECT_FOLDERS } from '../../src/storage/keys.js';
import { loadConfig } from '../../src/config/config.js';
import { LocalObjectStore } from '../../src/storage/local.js';
import { S3ObjectStore } from '../../src/storage/s3.js';
import type { ObjectStore } from '../../src/storage/storage.js';
import type { FrameRunner } from '../../src/video/process-video.js';
import { segmentJobId } from '../../src/video/segments/segment-job.js';
import { anonymizeVideoFile, VideoJobs } from '../../src/video/video-jobs.js';
import { faceVideoOptions } from '../../harness/clips.js';
import { connectQueue, randomQueueOptions, sleep, startRedisServer, type RedisServer } from '../../harness/redis-server.js';
import { startS3Server } from '../../harness/s3-server.js';
import { boxWhere, decodedFrames, frameTimes, green, makeSquareClip, squareFrames, streamTypes, type Seen } from '../../harness/square-clip.js';

/** The 4 s square clip in 1 s segments: 4 segment jobs. */
const SEGMENTS = 4;

interface Worker {
  runner: JobRunner;
  /** Segment job ids this worker's VideoJobs was handed. */
  ran: string[];
  /** Segment job ids this worker's parents enqueued. */
  enqueued: string[];
  tempDir: string;
}

/** A test double of the pool: no image jobs here; one thread, one slot, as the smallest worker has. */
const oneSlot: ImageRunner = { capacity: 1, threads: 1, run: async () => { throw new Error('no image jobs in this test'); } };

function startWorker(queue: JobQueue, store: ObjectStore, frames: FrameRunner = squareFrames({ detections: 0, detectedFrames: new Set() }, 0.95)): Worker {
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-segjobs-temp-'));
  const worker: Worker = { runner: undefined as unknown as JobRunner, ran: [], enqueued: [], tempDir };
  const counted = { enqueue: (job: Job) => (worker.enqueued.push(job.id), queue.enqueue(job)), get: (id: string) => queue.get(id), erase: (id: string) => queue.erase(id) };
  const videos = new VideoJobs({ ffmpeg: 'ffmpeg', ffprobe: 'ffprobe', timeoutSeconds: 120, segmentSeconds: 1, frames, tempDir, maxSeconds: 600, maxPixels: 1e8, segmentJobs: { queue: counted, store, pollMs: 50 } });
  const recording: VideoJobRunner = {
    run: (job, fetch, hooks) => {
      if (job.segment) worker.ran.push(job.id);
      return videos.run(job, fetch, hooks);
    },
  };
  worker.runner = new JobRunner(queue, store, oneSlot, silentLogger, { keepOriginals: false, claimBlockMs: 50, errorBackoffMs: 20, storageRetryMs: 1000, videos: recording });
  worker.runner.start();
  return worker;
}

async function submitVideo(queue: JobQueue, store: ObjectStore, clip: string): Promise<string> {
  const id = newJobId();
  const key = `original/${id}.mp4`;
  await store.putFile(key, clip, 'video/mp4');
  const now = Date.now();
  await queue.enqueue({ id, kind: 'video', status: 'queued', createdAt: now, updatedAt: now, attempts: 0, options: faceVideoOptions(), input: { key, filename: 'square.mp4', bytes: fs.statSync(clip).size, format: 'mp4' } });
  return id;
}

async function finished(queue: JobQueue, id: string, timeoutMs = 60_000): Promise<Job> {
  const job = await queue.waitForFinish(id, timeoutMs);
  assert.ok(job && (job.status === 'completed' || job.status === 'failed'), `job ${id} did not finish: ${JSON.stringify(job)}`);
  return job;
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting: ${what}`);
    await sleep(20);
  }
}

async function storedKeys(store: ObjectStore): Promise<string[]> {
  const keys: string[] = [];
  for (const folder of JOB_OBJECT_FOLDERS) for await (const object of store.list(folder)) keys.push(object.key);
  return keys.sort();
}

/** The unsegmented output of the clip, for comparison. */
async function wholeRun(clip: string, output: string): Promise<void> {
  const seen: Seen = { detections: 0, detectedFrames: new Set() };
  await anonymizeVideoFile({ ffmpeg: 'ffmpeg', ffprobe: 'ffprobe', input: clip, output, options: faceVideoOptions(), frames: squareFrames(seen, 0.95), limits: { maxSeconds: 600, maxPixels: 1e8 }, timeoutSeconds: 60, signal: new AbortController().signal, onProgress: () => {} });
}

/** The job's output matches the unsegmented run's frame for frame: count, times, blur, audio. */
async function assertSameAsWhole(store: ObjectStore, job: Job, dir: string, whole: string): Promise<void> {
  const file = path.join(dir, `${job.id}.mp4`);
  fs.writeFileSync(file, await store.get(job.result!.processedKey));
  assert.deepEqual(frameTimes(file), frameTimes(whole));
  assert.deepEqual(streamTypes(file), ['video', 'audio']);
  const a = decodedFrames(whole);
  const b = decodedFrames(file);
  assert.equal(b.length, 40);
  for (let i = 0; i < a.length; i++) assert.deepEqual(boxWhere(b[i], green), boxWhere(a[i], green), `frame ${i}: blurred as in the whole run`);
}

async function stopAll(workers: Worker[]): Promise<void> {
  for (const w of workers) await w.runner.stop(5000);
  for (const w of workers) {
    assert.deepEqual(fs.readdirSync(w.tempDir), [], 'no piece, segment or input is left on a worker\'s disk');
    fs.rmSync(w.tempDir, { recursive: true, force: true });
  }
}

describe('segments as queued jobs, in-process queue (embedded mode)', () => {
  let dir: string;
  let clip: string;
  let whole: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-segjobs-'));
    clip = makeSquareClip(dir);
    whole = path.join(dir, 'whole.mp4');
    await wholeRun(clip, whole);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a one-slot worker given three long videos at once runs their segment jobs (no deadlock) and joins each as the whole run', { timeout: 180_000 }, async () => {
    const queue = new MemoryJobQueue();
    const store = new LocalObjectStore(path.join(dir, 'store-1'));
    await store.check();
    // Three parents fill all three jobs a one-slot worker holds (2 × capacity + threads): they must wait without holding them.
    const worker = startWorker(queue, store);
    try {
      const ids = await Promise.all([1, 2, 3].map(() => submitVideo(queue, store, clip)));
      for (const id of ids) {
        const job = await finished(queue, id);
        assert.equal(job.status, 'completed', JSON.stringify(job.error));
        assert.deepEqual(job.progress, { framesDone: 40, framesTotal: 40 });
        assert.equal(job.result!.video!.frames, 40);
        assert.ok('join' in job.result!.timings && 'segments' in job.result!.timings, `ran as segment jobs: ${JSON.stringify(job.result!.timings)}`);
        await assertSameAsWhole(store, job, dir, whole);
        const metadata = JSON.parse((await store.get(job.result!.metadataKey)).toString());
        assert.deepEqual(metadata.segments.map((s: { job_id: string; first_frame: number }) => [s.job_id, s.first_frame]), Array.from({ length: SEGMENTS }, (_, n) => [segmentJobId(id, n), n * 10]));
        const tracked = new Set(metadata.tracks.flatMap((t: { boxes: Array<{ frame: number }> }) => t.boxes.map((b) => b.frame)));
        for (let i = 0; i < 40; i++) if (i < 8 || i > 12) assert.ok(tracked.has(i), `frame ${i} (square detected) is in a track, in the whole video's frame numbers`);
        for (let n = 0; n < SEGMENTS; n++) assert.equal(await queue.get(segmentJobId(id, n)), undefined, 'the segment jobs are erased once joined');
      }
      assert.equal(worker.ran.length, 3 * SEGMENTS);
      const keys = await storedKeys(store);
      assert.deepEqual(keys, ids.flatMap((id) => [`metadata/${id}.1.json`, `processed/${id}.1.mp4`]).sort(), 'only the videos\' outputs are left in the store');
      const stats = await queue.stats();
      assert.equal(stats.waiting + stats.processing, 0);
    } finally {
      await stopAll([worker]);
      await queue.close();
    }
  });

  test('a segment job that fails after its retries fails the video with SEGMENT_FAILED; its siblings and pieces are erased', { timeout: 120_000 }, async () => {
    const queue = new MemoryJobQueue({ maxAttempts: 2, retryBaseMs: 20 });
    const store = new LocalObjectStore(path.join(dir, 'store-2'));
    await store.check();
    // Detection fails on the square's frames from 3.5 s on (x = 20 + 2 × frame): the last segments' frames.
    const square = squareFrames({ detections: 0, detectedFrames: new Set() }, 0.95);
    const failing: FrameRunner = {
      capacity: square.capacity,
      runFrame: async (pixels, width, height, options, blur) => {
        const box = blur ? undefined : boxWhere(new Uint8Array(pixels), (r, g, b) => r > 200 && g > 200 && b > 200);
        if (box && box.x >= 20 + 2 * 35) return { ok: false, code: 'PROCESSING_ERROR', message: 'the detector gave up', retryable: true };
        return square.runFrame(pixels, width, height, options, blur);
      },
    };
    const worker = startWorker(queue, store, failing);
    try {
      const id = await submitVideo(queue, store, clip);
      const job = await finished(queue, id);
      assert.equal(job.status, 'failed');
      assert.equal(job.error!.code, 'SEGMENT_FAILED');
      assert.match(job.error!.message, /^Segment \d of the video failed \(PROCESSING_ERROR\): the detector gave up/);
      assert.ok(worker.ran.length > SEGMENTS, `the failing segment was tried again before the video failed (${worker.ran.length} segment runs)`);
      await until(() => worker.runner.activeJobs === 0, 'segment jobs still running stop');
      for (let n = 0; n < SEGMENTS; n++) assert.equal(await queue.get(segmentJobId(id, n)), undefined);
      assert.deepEqual(await storedKeys(store), [`original/${id}.mp4`], 'no piece, segment output or frame list is left (the failed video keeps its original)');
    } finally {
      await stopAll([worker]);
      await queue.close();
    }
  });

  test('erasing the video while its segments run (DELETE) erases the segment jobs, stops them and leaves nothing stored', { timeout: 120_000 }, async () => {
    const queue = new MemoryJobQueue();
    const store = new LocalObjectStore(path.join(dir, 'store-3'));
    await store.check();
    const square = squareFrames({ detections: 0, detectedFrames: new Set() }, 0.95);
    const slow: FrameRunner = { capacity: 1, runFrame: async (...args) => (await sleep(40), square.runFrame(...args)) };
    const worker = startWorker(queue, store, slow);
    try {
      const id = await submitVideo(queue, store, clip);
      await until(async () => ((await queue.get(id))?.progress?.framesDone ?? 0) > 0, 'the video makes progress');
      assert.ok(await queue.get(segmentJobId(id, SEGMENTS - 1)), 'every segment job is queued');
      // DELETE /v1/jobs/:id: the original goes, then the record (routes/jobs.ts); the worker running the video sees it at its next progress report.
      await store.delete(`original/${id}.mp4`);
      assert.equal(await queue.erase(id), true);
      await until(() => worker.runner.activeJobs === 0, 'the video and its segment jobs stop');
      for (let n = 0; n < SEGMENTS; n++) assert.equal(await queue.get(segmentJobId(id, n)), undefined, `segment job ${n} is erased`);
      assert.deepEqual(await storedKeys(store), []);
      assert.ok(worker.ran.length < SEGMENTS * 2, 'no segment job ran again after the erasure');
    } finally {
      await stopAll([worker]);
      await queue.close();
    }
  });
});

describe('segments as queued jobs over Redis (several workers)', () => {
  let server: RedisServer;
  let dir: string;
  let clip: string;
  let whole: string;
  before(async () => {
    server = await startRedisServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-segjobs-redis-'));
    clip = makeSquareClip(dir);
    whole = path.join(dir, 'whole.mp4');
    await wholeRun(clip, whole);
  });
  after(async () => {
    await server.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Detection that takes a while, so a segment job outlasts the queueing of the others. */
  function slowSquare(ms: number): FrameRunner {
    const square = squareFrames({ detections: 0, detectedFrames: new Set() }, 0.95);
    return { capacity: 1, runFrame: async (...args) => (await sleep(args[4] ? 0 : ms), square.runFrame(...args)) };
  }

  const stores: Array<{ name: string; open: () => Promise<ObjectStore & { close?: () => Promise<void> }> }> = [
    { name: 'local store', open: async () => new LocalObjectStore(path.join(dir, 'store-1')) },
    {
      // Pieces, segment outputs and the frame list go through S3 (multipart for the pieces over 5 MiB: none here, one PutObject each).
      name: 'S3 store',
      open: async () => {
        const s3 = await startS3Server();
        const config = loadConfig({ S3_BUCKET: s3.bucket, S3_ENDPOINT: s3.endpoint, AWS_REGION: s3.region, S3_FORCE_PATH_STYLE: 'true', S3_PREFIX: 'segjobs' });
        const store = await S3ObjectStore.fromConfig(config, { credentials: s3.credentials, maxAttempts: 2 });
        const closeStore = store.close.bind(store);
        return Object.assign(store, { close: async () => { await closeStore(); await s3.stop(); } });
      },
    },
  ];
  for (const kind of stores) test(`two workers each run segment jobs of one video (${kind.name}); the joined output is the whole run's`, { timeout: 180_000 }, async () => {
    const options = randomQueueOptions(server.url, { stalledMs: 5000 });
    const api = await connectQueue(server.url, options);
    const queues = [await connectQueue(server.url, options), await connectQueue(server.url, options)];
    const store = await kind.open();
    await store.check();
    const workers = queues.map((q) => startWorker(q, store, slowSquare(30)));
    try {
      const id = await submitVideo(api, store, clip);
      const job = await finished(api, id);
      assert.equal(job.status, 'completed', JSON.stringify(job.error));
      const children = Array.from({ length: SEGMENTS }, (_, n) => segmentJobId(id, n));
      assert.deepEqual([...workers[0].ran, ...workers[1].ran].sort(), children.sort(), 'each segment job ran once');
      assert.ok(workers[0].ran.length > 0 && workers[1].ran.length > 0, `both workers ran segments: ${workers[0].ran.length} and ${workers[1].ran.length}`);
      assert.deepEqual(job.progress, { framesDone: 40, framesTotal: 40 });
      await assertSameAsWhole(store, job, dir, whole);
      for (const child of children) assert.equal(await api.get(child), undefined);
      assert.deepEqual(await storedKeys(store), [`metadata/${id}.1.json`, `processed/${id}.1.mp4`]);
    } finally {
      await stopAll(workers);
      for (const q of [api, ...queues]) await q.close();
      await store.close?.();
    }
  });

  test('a video whose worker stops while it waits is reclaimed; the next attempt finds its segment jobs and queues none again', { timeout: 180_000 }, async () => {
    const options = randomQueueOptions(server.url, { stalledMs: 500 });
    const api = await connectQueue(server.url, options);
    const first = await connectQueue(server.url, options);
    const store = new LocalObjectStore(path.join(dir, 'store-2'));
    await store.check();
    const a = startWorker(first, store, slowSquare(40));
    const id = await submitVideo(api, store, clip);
    await until(async () => (await api.get(segmentJobId(id, SEGMENTS - 1))) !== undefined, 'every segment job is queued');
    const queuedAt = await Promise.all(Array.from({ length: SEGMENTS }, async (_, n) => (await api.get(segmentJobId(id, n)))!.createdAt));
    // Shutdown past its grace: the video and the segments this worker ran are left to be reclaimed.
    await a.runner.stop(0);
    await first.close();
    assert.deepEqual(a.enqueued.sort(), Array.from({ length: SEGMENTS }, (_, n) => segmentJobId(id, n)).sort());
    assert.equal((await api.get(id))?.status, 'processing');
    for (let n = 0; n < SEGMENTS; n++) assert.equal((await api.get(segmentJobId(id, n)))?.createdAt, queuedAt[n], `segment job ${n} is kept for the next attempt`);
    const second = await connectQueue(server.url, options);
    const b = startWorker(second, store, slowSquare(0));
    try {
      const job = await finished(api, id);
      assert.equal(job.status, 'completed', JSON.stringify(job.error));
      assert.equal(job.attempts, 2);
      assert.deepEqual(b.enqueued, [], 'the reclaimed video queued no segment job again');
      await assertSameAsWhole(store, job, dir, whole);
      await until(async () => (await storedKeys(store)).length === 2, 'only the video\'s outputs are left');
      assert.deepEqual(await storedKeys(store), [`metadata/${id}.2.json`, `processed/${id}.2.mp4`]);
    } finally {
      fs.rmSync(a.tempDir, { recursive: true, force: true });
      await stopAll([b]);
      for (const q of [api, second]) await q.close();
    }
  });
});
