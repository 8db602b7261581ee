// Issue 16: a job finished twice (a stalled attempt finishing late, racing its reclaim) keeps the
// first completed record and its outputs, counts once, fires one completion event and one webhook.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Job } from '../../src/job.js';
import { silentLogger } from '../../src/observability/logger.js';
import { JobRunner, type ImageRunner } from '../../src/pool/job-runner.js';
import { MemoryJobQueue } from '../../src/queue/memory.js';
import type { JobQueue } from '../../src/queue/queue.js';
import { queueKeys } from '../../src/redis/keys.js';
import { LocalObjectStore } from '../../src/storage/local.js';
import { processedResult } from '../../harness/pool-result.js';
import { connectQueue, deleteQueueKeys, makeJob, randomQueueOptions, sleep, startRedisServer, type RedisServer } from '../../harness/redis-server.js';

let server: RedisServer;
let dir: string;
before(async () => {
  server = await startRedisServer();
  dir = await mkdtemp(path.join(os.tmpdir(), 'pixveil-once-'));
});
after(async () => {
  await server.destroy();
  await rm(dir, { recursive: true, force: true });
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

/** A pool whose every run waits for release(), then returns `bytes` as the anonymized image. */
function gatedPool(bytes: number[]) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let started = 0;
  const pool: ImageRunner = {
    capacity: 1,
    threads: 1,
    run: async () => {
      started++;
      await gate;
      return processedResult(bytes, 'test');
    },
  };
  return { pool, release: () => open(), started: () => started };
}

for (const firstToFinish of ['stalled attempt', 'reclaiming attempt'] as const) {
  test(`two workers finish one job (Redis, the ${firstToFinish} first): first record and outputs kept, one event, counted once, one webhook`, async (t) => {
    const options = randomQueueOptions(server.url);
    // The stalled worker's own heartbeat is slow (20 s), so the other one, with a 200 ms stall timeout, reclaims the job while it still runs.
    const stalled = await connectQueue(server.url, { ...options, stalledMs: 60_000 });
    const reclaimer = await connectQueue(server.url, { ...options, stalledMs: 200 });
    const api = await connectQueue(server.url, options);
    const store = new LocalObjectStore(path.join(dir, options.queueName!));
    await store.check();
    const heard: Job[] = [];
    api.onFinished((job) => heard.push(job));
    const finished: Job[] = [];
    const runners: JobRunner[] = [];
    const runner = (queue: JobQueue, pool: ImageRunner) => {
      const r = new JobRunner(queue, store, pool, silentLogger, { keepOriginals: true, claimBlockMs: 100, errorBackoffMs: 50, storageRetryMs: 1000, onJobFinished: (job) => finished.push(job) });
      runners.push(r);
      r.start();
      return r;
    };
    t.after(async () => {
      await Promise.all(runners.map((r) => r.stop(2000)));
      await Promise.all([stalled, reclaimer, api].map((q) => q.close()));
      await deleteQueueKeys(server.url, queueKeys(options.prefix!, options.queueName!).pattern);
    });

    const job = makeJob({ callback: { url: 'http://hooks.example/in' } });
    await store.put(job.input.key, Buffer.from('original'));
    await api.enqueue(job);
    const a = gatedPool([1, 1, 1, 1]);
    runner(stalled, a.pool);
    await until(() => a.started() === 1);
    const b = gatedPool([2, 2, 2, 2]);
    runner(reclaimer, b.pool);
    await until(() => b.started() === 1);
    assert.equal((await api.get(job.id))?.attempts, 2, 'reclaimed: a second attempt is running');

    const [winner, loser, winnerBytes] = firstToFinish === 'stalled attempt' ? [a, b, [1, 1, 1, 1]] : [b, a, [2, 2, 2, 2]];
    winner.release();
    await until(async () => (await api.get(job.id))?.status === 'completed');
    const record = (await api.get(job.id))!;
    loser.release();
    await until(() => runners.every((r) => r.activeJobs === 0));
    await sleep(300);

    const final = (await api.get(job.id))!;
    assert.deepEqual(final.result, record.result, 'the first completed record stands');
    assert.equal(final.finishedAt, record.finishedAt);
    assert.deepEqual([...(await store.get(final.result!.processedKey))], winnerBytes, 'the first outputs are kept, bytes and all');
    const metadata = JSON.parse((await store.get(final.result!.metadataKey)).toString());
    assert.equal(metadata.output.key, final.result!.processedKey);
    const loserAttempt = firstToFinish === 'stalled attempt' ? 2 : 1;
    assert.equal(await store.exists(`processed/${job.id}.${loserAttempt}.jpg`), false, 'the loser deleted its own image');
    assert.equal(await store.exists(`metadata/${job.id}.${loserAttempt}.json`), false, 'and its metadata');
    assert.equal(finished.length, 1, 'one runner reports the job (metrics counted once)');
    assert.equal(heard.filter((j) => j.id === job.id).length, 1, 'one completion event');
    const stats = await api.stats();
    assert.equal(stats.completed, 1);
    assert.equal(stats.processing + stats.waiting, 0, 'nothing left pending');
    assert.equal((await api.webhooks.claimDeliveries(10, 60_000)).length, 1, 'one webhook delivery');
  });
}

test('memory queue: the same job completed by two runs keeps the first outputs, one event, counted once', async (t) => {
  const queue = new MemoryJobQueue();
  const store = new LocalObjectStore(path.join(dir, 'memory'));
  await store.check();
  t.after(() => queue.close());
  const heard: Job[] = [];
  queue.onFinished((job) => heard.push(job));
  const job = makeJob();
  await store.put(job.input.key, Buffer.from('original'));
  await queue.enqueue(job);
  const finished: Job[] = [];
  const a = gatedPool([1, 1, 1, 1]);
  const first = new JobRunner(queue, store, a.pool, silentLogger, { keepOriginals: true, claimBlockMs: 50, errorBackoffMs: 20, storageRetryMs: 1000, onJobFinished: (j) => finished.push(j) });
  first.start();
  await until(() => a.started() === 1);
  // The in-process queue never hands a job out twice; a second finisher is a duplicate complete() with its own attempt's outputs.
  const claimed = (await queue.get(job.id))!;
  a.release();
  await until(async () => (await queue.get(job.id))?.status === 'completed');
  const record = (await queue.get(job.id))!;
  await store.put(`processed/${job.id}.2.jpg`, Buffer.from([9, 9]));
  const late = await queue.complete(job.id, { ...record.result!, processedKey: `processed/${job.id}.2.jpg` });
  assert.equal(late.settlement, 'stale');
  await first.stop(1000);
  const final = (await queue.get(job.id))!;
  assert.equal(final.result!.processedKey, `processed/${job.id}.${claimed.attempts}.jpg`);
  assert.deepEqual([...(await store.get(final.result!.processedKey))], [1, 1, 1, 1]);
  assert.equal(heard.length, 1);
  assert.equal(finished.length, 1);
  assert.equal((await queue.stats()).completed, 1);
});
