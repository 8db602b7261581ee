// A webhook delivery is durable work: a worker killed with -9 mid-delivery, and a Redis restart
// (AOF) on top, lose none; another worker sends it with the same delivery id.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { smallPhotos, startCluster } from '../../harness/cluster.js';
import { startReceiver, until } from '../../harness/webhook-receiver.js';

test('kill -9 of the worker holding webhook deliveries, then a Redis restart: every job is still delivered, same delivery id', async (t) => {
  const receiver = await startReceiver();
  let answering = false;
  // Hang every attempt until the worker is dead, so its deliveries are in flight when it dies.
  receiver.answer = () => (answering ? 200 : 'hang');
  const cluster = await startCluster({
    workers: 1,
    aof: true,
    env: { WEBHOOK_SECRET: 'whsec-distributed-0123456789', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT_MS: '4000', WEBHOOK_RETRY_BASE_MS: '200', STALLED_MS: '2000' },
  });
  t.after(async () => {
    await cluster.close();
    await receiver.close();
  });
  const photos = await smallPhotos(320, 3);
  const ids: string[] = [];
  for (const photo of photos) {
    const res = await fetch(`${cluster.api.url}/v1/images?callback_url=${encodeURIComponent(receiver.url)}`, { method: 'POST', body: new Uint8Array(photo), headers: { 'Content-Type': 'image/jpeg' } });
    assert.equal(res.status, 202, await res.clone().text());
    ids.push((await res.json()).job_id);
  }
  const firstIds = new Map<string, string>();
  await until('a first attempt for every job', () => {
    for (const r of receiver.received) firstIds.set(r.body.job.job_id, String(r.headers['pixveil-delivery']));
    return ids.every((id) => firstIds.has(id));
  }, 60_000);
  const [worker] = cluster.workers;
  worker.child.kill('SIGKILL');
  await worker.exited;
  await cluster.redis.stop();
  await cluster.redis.start();
  answering = true;
  await cluster.startWorker();
  const delivered = await until('every delivery recorded as delivered', async () => {
    const jobs = await Promise.all(ids.map((id) => fetch(`${cluster.api.url}/v1/jobs/${id}`).then((r) => r.json(), () => undefined)));
    return jobs.every((j) => j?.webhook?.status === 'delivered') && jobs;
  }, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${cluster.logs()}`);
  });
  for (const job of delivered) {
    const attempts = receiver.received.filter((r) => r.body.job.job_id === job.job_id);
    assert.ok(attempts.length >= 2, 'the first attempt died with its worker, a second one came');
    assert.deepEqual([...new Set(attempts.map((a) => a.headers['pixveil-delivery']))], [firstIds.get(job.job_id)], 'one delivery id');
    assert.equal(job.webhook.delivery_id, firstIds.get(job.job_id));
    assert.equal(job.status, 'completed');
  }
});
