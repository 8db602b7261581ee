// Redis-only behaviour: key layout, reclaiming stalled jobs, heartbeats, backoff timing, dead letters.
// What every queue must do is in queue-contract.test.ts.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { Job } from '../../src/job.js';
import { queueKeys } from '../../src/redis/keys.js';
import type { RedisQueueOptions, RedisStreamQueue } from '../../src/queue/redis-streams.js';
import { connectQueue, deleteQueueKeys, makeJob, makeResult, randomQueueOptions, sleep, startRedisServer, type RedisServer } from '../../harness/redis-server.js';

let server: RedisServer;

before(async () => {
  server = await startRedisServer();
});

after(async () => {
  await server.destroy();
});

/** Opens queues on one random queue name; closes them and deletes its keys when the test ends. */
function queueFactory(t: TestContext, overrides: Partial<RedisQueueOptions> = {}) {
  const options = randomQueueOptions(server.url, overrides);
  const opened: RedisStreamQueue[] = [];
  t.after(async () => {
    await Promise.all(opened.map((queue) => queue.close()));
    await deleteQueueKeys(server.url, queueKeys(options.prefix!, options.queueName!).pattern);
  });
  return async (extra: Partial<RedisQueueOptions> = {}) => {
    const queue = await connectQueue(server.url, { ...options, ...extra });
    opened.push(queue);
    return queue;
  };
}

/** A client of our own for looking at the keys directly; the queue keeps its connections private. */
function rawClient(t: TestContext): Redis {
  const redis = new Redis(server.url);
  t.after(() => redis.disconnect());
  return redis;
}

async function claimOne(queue: RedisStreamQueue, timeoutMs = 3000): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [job] = await queue.claim(1, 100);
    if (job) return job;
  }
  throw new Error('no job claimed in time');
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

test('keys share one hash tag per queue and reject names that would break it', () => {
  const keys = queueKeys('pixveil', 'images');
  assert.equal(keys.stream, 'pixveil:{images}:stream');
  assert.equal(keys.job('abc'), 'pixveil:{images}:job:abc');
  assert.throws(() => queueKeys('pixveil', 'a{b}'), { code: 'INVALID_OPTION' });
});

test('enqueue → claim → complete, with waitForFinish and onFinished on another node', async (t) => {
  const open = queueFactory(t);
  const api = await open();
  const worker = await open();
  const heard: Job[] = [];
  const off = api.onFinished((job) => heard.push(job));
  // Resolves once the shared subscription is live, so no event below is missed.
  assert.equal(await api.waitForFinish('unknown-job', 200), undefined);

  const job = makeJob();
  await api.enqueue(job);
  const queued = await api.get(job.id);
  assert.equal(queued?.status, 'queued');
  assert.equal(queued?.attempts, 0);
  assert.deepEqual(queued?.options, job.options);

  const claimed = await worker.claim(5, 1000);
  assert.equal(claimed.length, 1);
  assert.equal(claimed[0].id, job.id);
  assert.equal(claimed[0].status, 'processing');
  assert.equal(claimed[0].attempts, 1);
  assert.equal(typeof claimed[0].startedAt, 'number');
  assert.deepEqual(claimed[0].options.blurClasses, []);
  assert.equal((await api.get(job.id))?.status, 'processing');

  const startedWaiting = Date.now();
  const waiting = api.waitForFinish(job.id, 5000);
  await sleep(50);
  const done = await worker.complete(job.id, makeResult(job.id));
  assert.equal(done.status, 'completed');
  assert.equal(typeof done.finishedAt, 'number');

  const finished = await waiting;
  assert.ok(Date.now() - startedWaiting < 2000, 'waitForFinish resolved from the event, not the timeout');
  assert.equal(finished?.status, 'completed');
  assert.equal(finished?.attempts, 1);
  assert.deepEqual(finished?.result, makeResult(job.id));

  await eventually(() => heard.length === 1);
  assert.equal(heard[0].id, job.id);
  assert.equal(heard[0].status, 'completed');
  off();

  const stats = await api.stats();
  assert.equal(stats.completed, 1);
  assert.equal(stats.waiting, 0);
  assert.equal(stats.processing, 0);
  assert.equal(stats.consumers, 1, 'only the worker has read from the group');
});

test('two consumers claiming concurrently get every job exactly once', async (t) => {
  const open = queueFactory(t);
  const a = await open({ consumerName: 'worker-a' });
  const b = await open({ consumerName: 'worker-b' });
  const ids = new Set<string>();
  for (let i = 0; i < 60; i++) {
    const job = makeJob();
    ids.add(job.id);
    await a.enqueue(job);
  }
  const delivered: string[] = [];
  const drain = async (queue: RedisStreamQueue) => {
    while (delivered.length < ids.size) {
      for (const job of await queue.claim(4, 100)) {
        delivered.push(job.id);
        await queue.complete(job.id, makeResult(job.id));
      }
    }
  };
  await Promise.all([drain(a), drain(b)]);
  assert.equal(delivered.length, ids.size);
  assert.deepEqual(new Set(delivered), ids);
  assert.equal((await a.stats()).consumers, 2);
});

test('a dead consumer’s job is reclaimed after stalledMs and completed elsewhere', async (t) => {
  const open = queueFactory(t, { stalledMs: 300 });
  const dying = await open({ consumerName: 'dying' });
  const survivor = await open({ consumerName: 'survivor' });
  const job = makeJob();
  await survivor.enqueue(job);
  assert.equal((await claimOne(dying)).attempts, 1);
  await dying.close();

  assert.deepEqual(await survivor.claim(1, 0), [], 'not reclaimed before stalledMs');
  const started = Date.now();
  const reclaimed = await claimOne(survivor);
  assert.ok(Date.now() - started >= 200, 'reclaimed only after the idle timeout');
  assert.equal(reclaimed.id, job.id);
  assert.equal(reclaimed.attempts, 2);
  const done = await survivor.complete(job.id, makeResult(job.id));
  assert.equal(done.status, 'completed');
  assert.equal(done.attempts, 2);
  assert.equal((await survivor.stats()).processing, 0);
});

test('a live consumer keeps a long job: the heartbeat stops others reclaiming it', async (t) => {
  const open = queueFactory(t, { stalledMs: 300 });
  const busy = await open({ consumerName: 'busy' });
  const other = await open({ consumerName: 'other' });
  const job = makeJob();
  await busy.enqueue(job);
  await claimOne(busy);
  const deadline = Date.now() + 1200;
  while (Date.now() < deadline) assert.deepEqual(await other.claim(1, 100), []);
  assert.equal((await busy.complete(job.id, makeResult(job.id))).attempts, 1);
});

test('transient failures retry with exponential backoff, then complete', async (t) => {
  const open = queueFactory(t, { retryBaseMs: 150, maxAttempts: 3 });
  const queue = await open();
  const job = makeJob();
  await queue.enqueue(job);
  await claimOne(queue);

  const retrying = await queue.fail(job.id, { code: 'STORAGE_ERROR', message: 'S3 timed out', retryable: true });
  assert.equal(retrying.status, 'queued');
  assert.deepEqual(retrying.error, { code: 'STORAGE_ERROR', message: 'S3 timed out' });
  let failedAt = Date.now();
  const second = await claimOne(queue);
  assert.ok(Date.now() - failedAt >= 120, 'first retry waits about retryBaseMs');
  assert.equal(second.attempts, 2);

  await queue.fail(job.id, { code: 'STORAGE_ERROR', message: 'S3 timed out again', retryable: true });
  failedAt = Date.now();
  const third = await claimOne(queue);
  assert.ok(Date.now() - failedAt >= 270, 'second retry waits about twice as long');
  assert.equal(third.attempts, 3);

  const done = await queue.complete(job.id, makeResult(job.id));
  assert.equal(done.status, 'completed');
  assert.equal(done.error, undefined);
  const stats = await queue.stats();
  assert.equal(stats.failed, 0);
  assert.equal(stats.deadLetter, 0);
});

test('exhausted retries are dead-lettered with the reason, and a dead-letter retry requeues the job', async (t) => {
  const open = queueFactory(t, { maxAttempts: 2, retryBaseMs: 20 });
  const queue = await open();
  const job = makeJob();
  await queue.enqueue(job);
  await claimOne(queue);
  await queue.fail(job.id, { code: 'INTERNAL', message: 'boom 1', retryable: true });
  await claimOne(queue);
  const failed = await queue.fail(job.id, { code: 'INTERNAL', message: 'boom 2', retryable: true });
  assert.equal(failed.status, 'failed');
  assert.equal(failed.attempts, 2);

  const [dead, ...rest] = await queue.deadLetters.list();
  assert.equal(rest.length, 0);
  assert.equal(dead.jobId, job.id);
  assert.equal(dead.reason, 'exhausted');
  assert.equal(dead.code, 'INTERNAL');
  assert.equal(dead.message, 'boom 2');
  assert.equal(dead.attempts, 2);
  assert.deepEqual(dead.job?.input, job.input);
  assert.deepEqual(await queue.stats().then((s) => [s.failed, s.deadLetter]), [1, 1]);

  assert.equal(await queue.deadLetters.retry(job.id), job.id);
  assert.equal(await queue.deadLetters.retry(dead.entryId), undefined, 'an entry is requeued once');
  const requeued = await queue.get(job.id);
  assert.equal(requeued?.status, 'queued');
  assert.equal(requeued?.attempts, 0);
  const again = await claimOne(queue);
  assert.equal(again.attempts, 1);
  assert.equal((await queue.complete(job.id, makeResult(job.id))).status, 'completed');
  assert.equal((await queue.stats()).deadLetter, 0);
});

test('a job whose workers keep dying is dead-lettered as stalled; retryAll requeues it', async (t) => {
  const open = queueFactory(t, { maxAttempts: 2, stalledMs: 150 });
  const job = makeJob();
  const first = await open({ consumerName: 'first' });
  await first.enqueue(job);
  await claimOne(first);
  await first.close();
  const second = await open({ consumerName: 'second' });
  assert.equal((await claimOne(second)).attempts, 2);
  await second.close();

  const third = await open({ consumerName: 'third' });
  const waiting = third.waitForFinish(job.id, 3000);
  const deadline = Date.now() + 1000;
  while (Date.now() < deadline) assert.deepEqual(await third.claim(1, 50), [], 'never handed out a third time');
  const failed = await waiting;
  assert.equal(failed?.status, 'failed');
  assert.equal(failed?.error?.code, 'MAX_ATTEMPTS');
  const [dead] = await third.deadLetters.list();
  assert.equal(dead.reason, 'stalled');
  assert.equal((await third.stats()).processing, 0);

  assert.deepEqual(await third.deadLetters.retryAll(), [job.id]);
  assert.equal((await claimOne(third)).attempts, 1);
});

test('the stream stays bounded: finished jobs leave no entries behind', async (t) => {
  const open = queueFactory(t, { maxQueueSize: 100 });
  const queue = await open();
  let finished = 0;
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 50; i++) await queue.enqueue(makeJob());
    for (;;) {
      const jobs = await queue.claim(16, 0);
      if (jobs.length === 0) break;
      for (const job of jobs) {
        if (finished % 7 === 0) await queue.fail(job.id, { code: 'UNDECODABLE_IMAGE', message: 'bad', retryable: false });
        else await queue.complete(job.id, makeResult(job.id));
        finished++;
      }
    }
  }
  assert.equal(finished, 500);
  const redis = rawClient(t);
  assert.equal(await redis.xlen(queue.keys.stream), 0);
  assert.equal(await redis.zcard(queue.keys.delayed), 0);
  const stats = await queue.stats();
  assert.equal(stats.completed + stats.failed, 500);
  assert.equal(stats.waiting + stats.processing, 0);
});

test('a lost stream (Redis flushed or restarted without persistence) is recreated with its group', async (t) => {
  const open = queueFactory(t);
  const queue = await open();
  await rawClient(t).del(queue.keys.stream);
  const job = makeJob();
  await queue.enqueue(job);
  assert.equal((await claimOne(queue)).id, job.id);
});

test('close() ends a blocked claim promptly and forgets an idle consumer', async (t) => {
  const open = queueFactory(t);
  const watcher = await open({ consumerName: 'watcher' });
  const queue = await open({ consumerName: 'leaving' });
  const blocked = queue.claim(1, 10_000);
  await sleep(50);
  const started = Date.now();
  await queue.close();
  assert.deepEqual(await blocked, []);
  assert.ok(Date.now() - started < 1000);
  await watcher.claim(1, 0);
  assert.equal((await watcher.stats()).consumers, 1, 'the closed consumer held nothing and was removed');
});
