import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPixveilError } from '../../src/errors.js';
import type { Job } from '../../src/job.js';
import { RedisStreamQueue } from '../../src/queue/redis-streams.js';
import { makeJob, makeResult, randomQueueOptions, sleep, startRedisServer } from '../../harness/redis-server.js';
import { httpStatusOf } from '../../src/ingest/http-status.js';

async function rejection(work: Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const started = Date.now();
  try {
    await work;
  } catch (err) {
    return { err, ms: Date.now() - started };
  }
  assert.fail('expected a rejection');
}

function assertUnavailable(err: unknown): void {
  assert.ok(isPixveilError(err), `expected a PixveilError, got ${String(err)}`);
  assert.equal(err.code, 'SERVICE_UNAVAILABLE');
  assert.equal(httpStatusOf(err), 503);
  assert.ok(err.headers['Retry-After']);
}

async function retryUntil<T>(work: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await work();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

test('connect() to a Redis that is not there fails with 503 instead of hanging', async () => {
  const server = await startRedisServer();
  await server.destroy();
  const { err, ms } = await rejection(RedisStreamQueue.connect({ url: server.url, queueName: 'nowhere' }));
  assertUnavailable(err);
  assert.ok(ms < 2000, `took ${ms} ms`);
});

test('Redis down: commands fail fast with 503; restarted with AOF: jobs survive and the same instance recovers', async (t) => {
  const server = await startRedisServer({ aof: true });
  t.after(() => server.destroy());
  const options = randomQueueOptions(server.url);
  const api = await RedisStreamQueue.connect(options);
  const worker = await RedisStreamQueue.connect(options);
  // Blocks on an empty queue of its own while Redis goes away.
  const idle = await RedisStreamQueue.connect(randomQueueOptions(server.url));
  t.after(() => Promise.all([api.close(), worker.close(), idle.close()]));
  const heard: Job[] = [];
  api.onFinished((job) => heard.push(job));
  await api.waitForFinish('unknown', 100);

  const before = [makeJob(), makeJob(), makeJob()];
  for (const job of before) await api.enqueue(job);
  const blockedClaim = idle.claim(1, 10_000).catch((err: unknown) => err);
  await sleep(100);

  await server.stop();
  for (const work of [api.enqueue(makeJob()), api.get(before[0].id), api.stats(), api.check(), worker.claim(5, 1000)]) {
    const { err, ms } = await rejection(work);
    assertUnavailable(err);
    assert.ok(ms < 2000, `a command took ${ms} ms to fail`);
  }
  const blocked = await Promise.race([blockedClaim, sleep(2000).then(() => 'hung')]);
  assertUnavailable(blocked);

  await server.start();
  const after = makeJob();
  await retryUntil(() => api.enqueue(after), 8000);

  const finished = new Set<string>();
  const expected = new Set([...before, after].map((job) => job.id));
  await retryUntil(async () => {
    for (const job of await worker.claim(4, 200)) {
      await worker.complete(job.id, makeResult(job.id));
      finished.add(job.id);
    }
    if (finished.size < expected.size) throw new Error(`finished ${finished.size} of ${expected.size}`);
  }, 8000);
  assert.deepEqual(finished, expected);
  for (const id of expected) assert.equal((await api.get(id))?.status, 'completed');

  // The subscriber reconnected and resubscribed by itself.
  const last = heard.at(-1);
  assert.ok(last && expected.has(last.id), 'finished events arrive again after the restart');
  await api.check();
});
