import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { checkOutputs, listData, metricValue, postImage, runCli, sleep, smallPhotos, startCluster, uploadMany, waitForAll, waitReady, type Cluster, type NodeProcess } from '../../harness/cluster.js';

let photos: Buffer[] | undefined;
const images = async () => (photos ??= await smallPhotos(320));

/** Job ids a worker process holds (delivered to its consumer, not acked). Consumer names carry the pid. */
async function heldBy(cluster: Cluster, worker: NodeProcess): Promise<string[]> {
  const redis = new Redis(cluster.redis.url);
  try {
    const pending = (await redis.xpending(cluster.keys.stream, cluster.keys.group, '-', '+', 1000)) as Array<[string, string, number, number]>;
    const entries = pending.filter(([, consumer]) => consumer.includes(`-${worker.pid}-`)).map(([entry]) => entry);
    const ids: string[] = [];
    for (const entry of entries) {
      const [found] = await redis.xrange(cluster.keys.stream, entry, entry);
      if (found) ids.push(found[1][found[1].indexOf('id') + 1]);
    }
    return ids;
  } finally {
    redis.disconnect();
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** waitForAll, with every node's log in the error when it times out. */
function finish(cluster: Cluster, ids: string[], timeoutMs: number): Promise<Map<string, any>> {
  return waitForAll(cluster.api.url, ids, timeoutMs).catch((err: Error) => {
    throw new Error(`${err.message}\n${cluster.logs()}`);
  });
}

function assertAllCompleted(jobs: Map<string, any>, cluster: Cluster): void {
  const bad = [...jobs.values()].filter((j) => j.status !== 'completed').map((j) => [j.job_id, j.status, j.error]);
  assert.deepEqual(bad, [], cluster.logs());
}

test('kill -9 a worker mid-batch: the other worker reclaims its jobs after STALLED_MS; none lost, none stored twice', async (t) => {
  const cluster = await startCluster({ workers: 2, env: { STALLED_MS: '1500' } });
  t.after(() => cluster.close());
  const [victim, survivor] = cluster.workers;
  const ids = await uploadMany(cluster.api.url, await images(), 120);
  // Mid-batch: it has finished some and holds others.
  await until('the victim to be busy', async () => (await metricValue(victim.url, 'pixveil_jobs_finished_total', 'status="completed"')) >= 5 && (await heldBy(cluster, victim)).length > 0);
  victim.child.kill('SIGKILL');
  await victim.exited;
  const orphaned = await heldBy(cluster, victim);
  assert.ok(orphaned.length > 0, 'the killed worker held no jobs');

  const jobs = await finish(cluster, ids, 90_000);
  assertAllCompleted(jobs, cluster);
  for (const id of orphaned) assert.ok(jobs.get(id).attempts >= 2, `orphaned job ${id} was not redelivered`);
  // An interrupted write may leave a temp file behind; the objects themselves exist once per job.
  const outputs = checkOutputs(cluster.dataDir, ids);
  assert.deepEqual(outputs.problems, []);
  assert.deepEqual(outputs.stray, []);
  const stats = await fetch(`${survivor.url}/v1/queue`).then((r) => r.json());
  assert.equal(stats.completed, ids.length);
  assert.equal(stats.depth, 0);
  assert.equal(stats.dead_letter, 0);
  assert.ok((await metricValue(survivor.url, 'pixveil_jobs_finished_total', 'status="completed"')) >= orphaned.length);
});

test('SIGTERM a worker holding jobs: it finishes them and exits 0 within SHUTDOWN_GRACE_MS; the rest complete on the other worker', async (t) => {
  const grace = 5000;
  const cluster = await startCluster({ workers: 2, env: { SHUTDOWN_GRACE_MS: String(grace), STALLED_MS: '1500', LOG_LEVEL: 'info' } });
  t.after(() => cluster.close());
  const [leaving] = cluster.workers;
  const ids = await uploadMany(cluster.api.url, await images(), 100);
  const held = await until('the worker to hold jobs', async () => {
    const h = await heldBy(cluster, leaving);
    return h.length > 0 && h;
  });
  const sent = Date.now();
  leaving.child.kill('SIGTERM');
  const exit = await leaving.exited;
  const took = Date.now() - sent;
  assert.deepEqual(exit, { code: 0, signal: null }, leaving.output());
  assert.ok(took < grace + 3000, `exit took ${took} ms`);
  assert.match(leaving.output(), /shutting down/);

  const jobs = await finish(cluster, ids, 60_000);
  assertAllCompleted(jobs, cluster);
  // The grace period was long enough for the jobs it held: finished by it, not redelivered.
  for (const id of held) assert.equal(jobs.get(id).attempts, 1, `job ${id} held at SIGTERM ran ${jobs.get(id).attempts} times\n${leaving.output()}`);
  assert.deepEqual(checkOutputs(cluster.dataDir, ids).problems, []);
});

test('SIGTERM with SHUTDOWN_GRACE_MS=0: unfinished jobs are left to be reclaimed, not failed, and complete elsewhere', async (t) => {
  const cluster = await startCluster({ workers: 2, env: { SHUTDOWN_GRACE_MS: '0', STALLED_MS: '1500' } });
  t.after(() => cluster.close());
  const [leaving] = cluster.workers;
  const ids = await uploadMany(cluster.api.url, await images(), 60);
  await until('the worker to hold jobs', async () => (await heldBy(cluster, leaving)).length > 0);
  const sent = Date.now();
  leaving.child.kill('SIGTERM');
  const exit = await leaving.exited;
  assert.deepEqual(exit, { code: 0, signal: null }, leaving.output());
  assert.ok(Date.now() - sent < 3000, `exit took ${Date.now() - sent} ms`);
  // Still pending under the gone consumer: left for the other worker to reclaim. (Tasks already in
  // the pool run to their end before exit, so some of the jobs may have completed there.)
  const abandoned = await heldBy(cluster, leaving);
  const jobs = await finish(cluster, ids, 60_000);
  assertAllCompleted(jobs, cluster);
  assert.deepEqual(checkOutputs(cluster.dataDir, ids).problems, []);
  // Cut short by shutdown is not a failure of the job: nothing recorded, the jobs were reclaimed.
  assert.match(leaving.output(), /shutdown grace ran out/);
  assert.doesNotMatch(leaving.output(), /job attempt failed|could not record/);
  for (const id of abandoned) assert.ok(jobs.get(id).attempts >= 2, `abandoned job ${id} was not redelivered`);
});

test('Redis restarted mid-run (AOF): uploads during the outage get 503 with Retry-After, everything accepted completes', async (t) => {
  const cluster = await startCluster({ workers: 2, aof: true });
  t.after(() => cluster.close());
  const accepted = await uploadMany(cluster.api.url, await images(), 60);
  await cluster.redis.stop();

  const refused: number[] = [];
  const outageStart = Date.now();
  while (Date.now() - outageStart < 3000) {
    const asked = Date.now();
    const res = await postImage(cluster.api.url, (await images())[0]);
    assert.ok(Date.now() - asked < 5000, `upload during the outage took ${Date.now() - asked} ms`);
    assert.ok(res.status === 503 || res.status === 429, `upload during the outage answered ${res.status}`);
    if (res.status === 503) {
      assert.equal(res.body.error.code, 'SERVICE_UNAVAILABLE');
      assert.ok(Number(res.retryAfter) > 0);
    }
    refused.push(res.status);
  }
  const ready = await fetch(`${cluster.api.url}/v1/ready`);
  assert.equal(ready.status, 503);
  assert.notEqual((await ready.json()).checks.queue, 'ok');
  const workerReady = await fetch(`${cluster.workers[0].url}/v1/ready`);
  assert.equal(workerReady.status, 503);

  await cluster.redis.start();
  await waitReady(cluster.api.url, 15_000);
  accepted.push(...(await uploadMany(cluster.api.url, await images(), 30)));

  const jobs = await finish(cluster, accepted, 90_000);
  assertAllCompleted(jobs, cluster);
  assert.ok(refused.length > 0);
  const outputs = checkOutputs(cluster.dataDir, accepted);
  assert.deepEqual(outputs.problems, []);
  assert.deepEqual(outputs.stray, []);
  // A refused upload leaves no original behind.
  assert.equal(listData(cluster.dataDir, 'original').length, accepted.length);
  const stats = await fetch(`${cluster.api.url}/v1/stats`).then((r) => r.json());
  assert.equal(stats.queue.completed, accepted.length);
  for (const w of cluster.workers) assert.equal((await fetch(`${w.url}/v1/ready`)).status, 200);
});

test('a job that fails transiently every time is dead-lettered after MAX_ATTEMPTS; `pixveil dlq list` shows it', async (t) => {
  // No worker yet, so the original can be removed before anyone reads it.
  const cluster = await startCluster({ workers: 0, env: { MAX_ATTEMPTS: '3', STORAGE_RETRY_MS: '0' } });
  t.after(() => cluster.close());
  const [good, poison] = await Promise.all([postImage(cluster.api.url, (await images())[0]), postImage(cluster.api.url, (await images())[1])]);
  assert.equal(poison.status, 202);
  const [original] = listData(cluster.dataDir, 'original').filter((f) => f.startsWith(poison.id!));
  fs.rmSync(path.join(cluster.dataDir, 'original', original));
  await cluster.startWorker();

  const jobs = await waitForAll(cluster.api.url, [good.id!, poison.id!], 30_000);
  assert.equal(jobs.get(good.id!).status, 'completed');
  const failed = jobs.get(poison.id!);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.attempts, 3);
  assert.equal(failed.error.code, 'STORAGE_ERROR');

  const list = runCli(['dlq', 'list'], cluster.env);
  assert.equal((await list.exited).code, 0, list.output());
  const letters = list.output().trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  assert.equal(letters.length, 1, list.output());
  assert.equal(letters[0].jobId, poison.id);
  assert.equal(letters[0].reason, 'exhausted');
  assert.equal(letters[0].code, 'STORAGE_ERROR');
  assert.equal(letters[0].attempts, 3);
  assert.match(letters[0].message, /Storage get failed/);

  const stats = await fetch(`${cluster.api.url}/v1/stats`).then((r) => r.json());
  assert.equal(stats.queue.dead_letter, 1);
  assert.equal(stats.queue.failed, 1);
  assert.equal(stats.queue.completed, 1);
  assert.equal(await metricValue(cluster.api.url, 'pixveil_queue_jobs', 'state="dead_letter"'), 1);
  // Nothing was stored for the poison job.
  assert.deepEqual(checkOutputs(cluster.dataDir, [good.id!]).problems, []);
});
