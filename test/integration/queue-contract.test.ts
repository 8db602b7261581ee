// The JobQueue contract, run against both backends: what ingest and the job runner rely on,
// whichever queue a deployment uses. Redis-only behaviour (stalled reclaim, dead letters,
// outages) stays in redis-queue.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { PixveilError } from '../../src/errors.js';
import { httpStatusOf } from '../../src/ingest/http-status.js';
import type { Job } from '../../src/job.js';
import { MemoryJobQueue, type MemoryQueueOptions } from '../../src/queue/memory.js';
import type { JobQueue } from '../../src/queue/queue.js';
import { queueKeys } from '../../src/redis/keys.js';
import { connectQueue, deleteQueueKeys, makeJob, makeResult, randomQueueOptions, sleep, startRedisServer, type RedisServer } from '../../harness/redis-server.js';

/** Options both backends take, under the same names. */
type Shared = Partial<Pick<MemoryQueueOptions, 'maxQueueSize' | 'maxAttempts' | 'retryBaseMs'>>;
/** Opens handles on one queue (for Redis each handle is its own node); closed when the test ends. */
type Factory = (t: TestContext, options?: Shared) => () => Promise<JobQueue>;

async function claimOne(queue: JobQueue, timeoutMs = 3000): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [job] = await queue.claim(1, 100);
    if (job) return job;
  }
  throw new Error('no job claimed in time');
}

async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

function contract(backend: string, factory: Factory): void {
  describe(`JobQueue contract: ${backend}`, () => {
    test('enqueue → claim → complete; waitForFinish hears it from the event; onFinished and stats follow', async (t) => {
      const open = factory(t);
      const [ingest, worker] = [await open(), await open()];
      const heard: Job[] = [];
      const off = ingest.onFinished((job) => heard.push(job));
      assert.equal(await ingest.waitForFinish('unknown-job-id-0000', 100), undefined, 'unknown ids are undefined');

      const job = makeJob();
      await ingest.enqueue(job);
      const queued = await ingest.get(job.id);
      assert.equal(queued?.status, 'queued');
      assert.equal(queued?.attempts, 0);
      assert.deepEqual(queued?.options, job.options);

      const claimed = await claimOne(worker);
      assert.equal(claimed.id, job.id);
      assert.equal(claimed.status, 'processing');
      assert.equal(claimed.attempts, 1);
      assert.equal(typeof claimed.startedAt, 'number');
      assert.equal((await ingest.get(job.id))?.status, 'processing');

      const waiting = ingest.waitForFinish(job.id, 10_000);
      await sleep(30);
      const done = await worker.complete(job.id, makeResult(job.id));
      assert.equal(done.status, 'completed');
      assert.equal(typeof done.finishedAt, 'number');
      const finished = await waiting;
      assert.equal(finished?.status, 'completed', 'resolved by the finish, well before its 10 s timeout');
      assert.deepEqual(finished?.result, makeResult(job.id));

      await eventually(() => heard.length === 1);
      assert.equal(heard[0].id, job.id);
      off();
      const stats = await ingest.stats();
      assert.deepEqual([stats.completed, stats.failed, stats.waiting, stats.processing], [1, 0, 0, 0]);
    });

    test('a video job: its kind is kept, progress is recorded only while it runs and seen from every node; erased, it says so', async (t) => {
      const open = factory(t);
      const [ingest, worker] = [await open(), await open()];
      const job: Job = { ...makeJob(), kind: 'video' };
      await ingest.enqueue(job);
      assert.equal((await ingest.get(job.id))?.kind, 'video');
      assert.equal(await worker.reportProgress!(job.id, { framesDone: 1, framesTotal: 9 }), true);
      assert.equal((await ingest.get(job.id))?.progress, undefined, 'not while queued');
      await claimOne(worker);
      assert.equal(await worker.reportProgress!(job.id, { framesDone: 4, framesTotal: 9 }), true);
      assert.deepEqual((await ingest.get(job.id))?.progress, { framesDone: 4, framesTotal: 9 });
      await worker.complete(job.id, makeResult(job.id));
      assert.equal(await worker.reportProgress!(job.id, { framesDone: 5, framesTotal: 9 }), true);
      assert.deepEqual((await ingest.get(job.id))?.progress, { framesDone: 4, framesTotal: 9 }, 'a finished job keeps its last value');
      assert.equal(await ingest.erase(job.id), true);
      assert.equal(await worker.reportProgress!(job.id, { framesDone: 6, framesTotal: 9 }), false);
      assert.equal(await ingest.get(job.id), undefined, 'progress does not bring an erased job back');
    });

    test('waitForFinish returns the job as it stands once the timeout passes', async (t) => {
      const queue = await factory(t)();
      const job = makeJob();
      await queue.enqueue(job);
      await claimOne(queue);
      assert.equal((await queue.waitForFinish(job.id, 200))?.status, 'processing');
    });

    test('two claimers get every job exactly once', async (t) => {
      const open = factory(t);
      const [a, b] = [await open(), await open()];
      const ids = new Set<string>();
      for (let i = 0; i < 40; i++) {
        const job = makeJob();
        ids.add(job.id);
        await a.enqueue(job);
      }
      const delivered: string[] = [];
      const drain = async (queue: JobQueue) => {
        while (delivered.length < ids.size) {
          for (const job of await queue.claim(4, 50)) {
            delivered.push(job.id);
            await queue.complete(job.id, makeResult(job.id));
          }
        }
      };
      await Promise.all([drain(a), drain(b)]);
      assert.equal(delivered.length, ids.size);
      assert.deepEqual(new Set(delivered), ids);
    });

    test('a retryable failure goes back to the queue after a backoff, with its error, then completes', async (t) => {
      const queue = await factory(t, { retryBaseMs: 100, maxAttempts: 3 })();
      const job = makeJob();
      await queue.enqueue(job);
      await claimOne(queue);
      const retrying = await queue.fail(job.id, { code: 'STORAGE_ERROR', message: 'S3 timed out', retryable: true });
      assert.equal(retrying.status, 'queued');
      assert.deepEqual(retrying.error, { code: 'STORAGE_ERROR', message: 'S3 timed out' });
      assert.deepEqual(await queue.claim(1, 0), [], 'not claimable during the backoff');
      const second = await claimOne(queue);
      assert.equal(second.attempts, 2);
      const done = await queue.complete(job.id, makeResult(job.id));
      assert.equal(done.status, 'completed');
      assert.equal(done.error, undefined);
      assert.equal((await queue.stats()).failed, 0);
    });

    test('retries run out after maxAttempts: the job ends failed with the last error', async (t) => {
      const queue = await factory(t, { retryBaseMs: 20, maxAttempts: 2 })();
      const job = makeJob();
      await queue.enqueue(job);
      await claimOne(queue);
      await queue.fail(job.id, { code: 'INTERNAL', message: 'boom 1', retryable: true });
      await claimOne(queue);
      const failed = await queue.fail(job.id, { code: 'INTERNAL', message: 'boom 2', retryable: true });
      assert.equal(failed.status, 'failed');
      assert.equal(failed.attempts, 2);
      assert.deepEqual(failed.error, { code: 'INTERNAL', message: 'boom 2' });
      assert.equal((await queue.stats()).failed, 1);
    });

    test('a failure that is not retryable fails the job at once', async (t) => {
      const queue = await factory(t)();
      const job = makeJob();
      await queue.enqueue(job);
      await claimOne(queue);
      const failed = await queue.fail(job.id, { code: 'UNDECODABLE_IMAGE', message: 'not an image', retryable: false });
      assert.equal(failed.status, 'failed');
      assert.equal(failed.attempts, 1);
      assert.deepEqual(failed.error, { code: 'UNDECODABLE_IMAGE', message: 'not an image' });
      assert.equal((await queue.waitForFinish(job.id, 1000))?.status, 'failed');
      assert.deepEqual(await queue.claim(1, 100), []);
      const stats = await queue.stats();
      assert.equal(stats.failed, 1);
      assert.equal(stats.deadLetter, 0);
    });

    test('enqueue beyond maxQueueSize is QUEUE_FULL (429, Retry-After); claimed unfinished jobs count', async (t) => {
      const queue = await factory(t, { maxQueueSize: 3 })();
      for (let i = 0; i < 3; i++) await queue.enqueue(makeJob());
      const full = await queue.enqueue(makeJob()).then(
        () => assert.fail('enqueue should be refused'),
        (err: unknown) => err,
      );
      assert.ok(full instanceof PixveilError);
      assert.equal(full.code, 'QUEUE_FULL');
      assert.equal(full.retryable, false);
      assert.equal(httpStatusOf(full), 429);
      assert.ok(Number(full.headers['Retry-After']) >= 1);
      const claimed = await claimOne(queue);
      await assert.rejects(queue.enqueue(makeJob()), { code: 'QUEUE_FULL' }, 'a claimed, unfinished job still counts');
      await queue.complete(claimed.id, makeResult(claimed.id));
      await queue.enqueue(makeJob());
      assert.equal((await queue.stats()).waiting, 3);
    });

    test('stats().oldestWaitingMs is how long the next job in line has waited: 0 when none waits, the head once claimed is not counted', async (t) => {
      const queue = await factory(t)();
      assert.equal((await queue.stats()).oldestWaitingMs, 0, 'nothing waits');
      await queue.enqueue(makeJob());
      await sleep(300);
      await queue.enqueue(makeJob());
      const both = (await queue.stats()).oldestWaitingMs;
      assert.ok(both >= 250 && both < 5000, `the first job has waited ~300 ms: ${both}`);
      await claimOne(queue);
      const second = (await queue.stats()).oldestWaitingMs;
      assert.ok(second < 250, `the first was claimed; the second has waited less: ${second}`);
      await claimOne(queue);
      assert.equal((await queue.stats()).oldestWaitingMs, 0, 'both claimed: nothing waits');
    });

    test('a job finished twice keeps the first record: one event, counted once, one webhook delivery; stale failures change nothing', async (t) => {
      const open = factory(t);
      const [ingest, first, second] = [await open(), await open(), await open()];
      const heard: Job[] = [];
      const off = ingest.onFinished((job) => heard.push(job));
      t.after(off);
      const job = makeJob({ callback: { url: 'http://hooks.example/in' } });
      await ingest.enqueue(job);
      const claimed = await claimOne(first);
      const winner = { ...makeResult(job.id), processedKey: `processed/${job.id}.1.jpg` };
      const loser = { ...makeResult(job.id), processedKey: `processed/${job.id}.2.jpg` };
      const [a, b] = [await first.complete(job.id, winner), await second.complete(job.id, loser)];
      assert.equal(a.settlement, 'completed');
      assert.equal(b.settlement, 'stale', 'the second finisher is told it lost');
      assert.equal(b.result?.processedKey, winner.processedKey, 'and sees the record that stands');
      const late = await second.fail(job.id, { code: 'INTERNAL', message: 'late failure', retryable: false }, claimed.attempts);
      assert.equal(late.settlement, 'stale');
      const stored = await ingest.get(job.id);
      assert.equal(stored?.status, 'completed');
      assert.equal(stored?.result?.processedKey, winner.processedKey);
      await sleep(300);
      assert.equal(heard.filter((j) => j.id === job.id).length, 1, 'one completion event');
      assert.equal((await ingest.stats()).completed, 1, 'counted once');
      const deliveries = await first.webhooks.claimDeliveries(10, 60_000);
      assert.equal(deliveries.length, 1, 'one webhook delivery');
      assert.equal(deliveries[0].event, 'job.completed');
      assert.equal(deliveries[0].deliveryId, stored?.webhook?.deliveryId);
      assert.deepEqual(await second.webhooks.claimDeliveries(10, 60_000), [], 'leased: nobody else gets it meanwhile');
    });

    test('a failure from an attempt that is no longer current is stale; the current attempt still fails or completes', async (t) => {
      const queue = await factory(t, { maxAttempts: 3, retryBaseMs: 1 })();
      const job = makeJob();
      await queue.enqueue(job);
      const claimed = await claimOne(queue);
      const stale = await queue.fail(job.id, { code: 'INTERNAL', message: 'an older attempt', retryable: true }, claimed.attempts + 1);
      assert.equal(stale.settlement, 'stale');
      assert.equal((await queue.get(job.id))?.status, 'processing');
      const done = await queue.fail(job.id, { code: 'UNDECODABLE_IMAGE', message: 'bad', retryable: false }, claimed.attempts);
      assert.equal(done.settlement, 'failed');
    });

    test('recording an outcome for an unknown job is JOB_NOT_FOUND', async (t) => {
      const queue = await factory(t)();
      await assert.rejects(queue.complete('no-such-job-0000000', makeResult('no-such-job-0000000')), { code: 'JOB_NOT_FOUND' });
    });

    test('erase: a queued job is never claimed, a processing one cannot be completed or failed; the record is gone', async (t) => {
      const open = factory(t);
      const [ingest, worker] = [await open(), await open()];
      const queued = makeJob();
      await ingest.enqueue(queued);
      assert.equal(await ingest.erase(queued.id), true);
      assert.equal(await ingest.get(queued.id), undefined);
      assert.deepEqual(await worker.claim(5, 200), [], 'an erased queued job is not handed out');
      assert.equal((await ingest.stats()).processing, 0);

      const running = makeJob();
      await ingest.enqueue(running);
      const claimed = await claimOne(worker);
      assert.equal(claimed.id, running.id);
      assert.equal(await ingest.erase(running.id), true);
      assert.equal((await ingest.stats()).processing, 0, 'an erased job no longer counts as processing');
      await assert.rejects(worker.complete(running.id, makeResult(running.id)), { code: 'JOB_NOT_FOUND' }, 'a late complete is refused');
      await assert.rejects(worker.fail(running.id, { code: 'X', message: 'late', retryable: true }), { code: 'JOB_NOT_FOUND' });
      assert.equal(await ingest.get(running.id), undefined, 'nothing resurrected the record');
      assert.equal(await ingest.erase(running.id), false, 'a second erase finds nothing');
    });

    test('idempotency keys: the first job holds the key on every handle; only its own release frees it; keys lapse', async (t) => {
      const open = factory(t);
      const [a, b] = [await open(), await open()];
      const [first, second] = await Promise.all([a.reserveIdempotencyKey('key-1', 'job-a', 60), b.reserveIdempotencyKey('key-1', 'job-b', 60)]);
      assert.equal(first, second, 'two nodes racing for one key agree on one job');
      const holder = first;
      const loser = holder === 'job-a' ? 'job-b' : 'job-a';
      await b.releaseIdempotencyKey('key-1', loser);
      assert.equal(await a.reserveIdempotencyKey('key-1', 'job-c', 60), holder, 'another job\'s release leaves the key');
      await a.releaseIdempotencyKey('key-1', holder);
      assert.equal(await b.reserveIdempotencyKey('key-1', 'job-d', 60), 'job-d', 'a failed upload frees its key for the retry');
      assert.equal(await a.reserveIdempotencyKey('key-2', 'job-e', 1), 'job-e');
      await sleep(1100);
      assert.equal(await b.reserveIdempotencyKey('key-2', 'job-f', 60), 'job-f', 'an expired key is free again');
    });
  });
}

contract('MemoryJobQueue', (t, options = {}) => {
  const queue = new MemoryJobQueue(options);
  t.after(() => queue.close());
  // One process, one queue: every handle is the same instance.
  return async () => queue;
});

let server: RedisServer;
before(async () => {
  server = await startRedisServer();
});
after(async () => {
  await server.destroy();
});

contract('RedisStreamQueue', (t, options = {}) => {
  const queueOptions = randomQueueOptions(server.url, options);
  const opened: JobQueue[] = [];
  t.after(async () => {
    await Promise.all(opened.map((queue) => queue.close()));
    await deleteQueueKeys(server.url, queueKeys(queueOptions.prefix!, queueOptions.queueName!).pattern);
  });
  return async () => {
    const queue = await connectQueue(server.url, queueOptions);
    opened.push(queue);
    return queue;
  };
});
