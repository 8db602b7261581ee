import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { checkOutputs, metricValue, postImage, smallPhotos, startCluster, uploadMany, waitForAll, type Cluster } from '../../harness/cluster.js';

// One `pixveil api` and two `pixveil worker` processes (WORKERS=1 each) on one Redis stream and one DATA_DIR.
describe('distributed mode: api + 2 worker processes', () => {
  let cluster: Cluster;
  let images: Buffer[];
  const JOBS = 300;

  before(async () => {
    [cluster, images] = await Promise.all([startCluster({ workers: 2 }), smallPhotos(320)]);
  });
  after(async () => cluster?.close());

  test('GET /v1/jobs/:id?wait= on the API hears about a job a worker process finished (pub/sub, not the timeout)', async () => {
    const { id } = await postImage(cluster.api.url, images[0]);
    const started = Date.now();
    const res = await fetch(`${cluster.api.url}/v1/jobs/${id}?wait=30s`);
    const body = await res.json();
    assert.equal(body.status, 'completed', JSON.stringify(body));
    assert.ok(Date.now() - started < 20_000, `long-poll took ${Date.now() - started} ms`);
    const result = await fetch(`${cluster.api.url}/v1/jobs/${id}/result`);
    assert.equal(result.status, 200);
    assert.equal(result.headers.get('content-type'), 'image/jpeg');
  });

  test('WebSocket result frames reach the client for jobs processed by another process', async () => {
    const ws = new WebSocket(`${cluster.api.url.replace('http', 'ws')}/v1/stream`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const frames: any[] = [];
    ws.on('message', (data, binary) => !binary && frames.push(JSON.parse(data.toString())));
    try {
      for (const image of images.slice(0, 3)) ws.send(image, { binary: true });
      const deadline = Date.now() + 30_000;
      while (frames.filter((f) => f.type === 'result').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const acks = frames.filter((f) => f.type === 'ack').map((f) => f.job_id).sort();
      const results = frames.filter((f) => f.type === 'result');
      assert.equal(acks.length, 3, JSON.stringify(frames));
      assert.deepEqual(results.map((f) => f.job_id).sort(), acks);
      for (const r of results) assert.equal(r.status, 'completed');
    } finally {
      ws.close();
    }
  });

  test(`${JOBS} uploads complete exactly once, spread over both workers, with cluster-wide stats on the API`, async () => {
    const before = await fetch(`${cluster.api.url}/v1/stats`).then((r) => r.json());
    const started = Date.now();
    const ids = await uploadMany(cluster.api.url, images, JOBS, 8);
    assert.equal(new Set(ids).size, JOBS);
    const jobs = await waitForAll(cluster.api.url, ids, 120_000);
    const elapsed = (Date.now() - started) / 1000;
    const notCompleted = [...jobs.values()].filter((j) => j.status !== 'completed');
    assert.deepEqual(notCompleted, [], cluster.logs());
    // Heartbeats keep busy jobs from being reclaimed: each job ran once.
    assert.deepEqual([...jobs.values()].filter((j) => j.attempts !== 1).map((j) => [j.job_id, j.attempts]), []);

    // Jobs run before this test (long-poll, WebSocket) are part of the shared DATA_DIR too.
    const earlier = before.queue.completed as number;
    const all = checkOutputs(cluster.dataDir, ids);
    assert.deepEqual(all.problems, []);
    assert.deepEqual(all.tempFiles, []);
    assert.equal(all.stray.length, 2 * earlier, `stray: ${all.stray.join(', ')}`);

    // Queue counters and consumers are cluster-wide, as every node sees them.
    const stats = await fetch(`${cluster.api.url}/v1/stats`).then((r) => r.json());
    assert.equal(stats.queue.backend, 'redis');
    assert.equal(stats.queue.completed, earlier + JOBS);
    assert.equal(stats.queue.failed, 0);
    assert.equal(stats.queue.depth, 0);
    assert.equal(stats.queue.consumers, 2);
    assert.equal(stats.queue.dead_letter, 0);
    // The API node processes nothing; its throughput comes from finished events of the workers.
    assert.equal(stats.jobs_finished - before.jobs_finished, JOBS);
    assert.ok(stats.completed_in_window > 0 && stats.images_per_second > 0, JSON.stringify(stats));
    assert.equal(stats.pool, null);
    const workerStats = await fetch(`${cluster.workers[0].url}/v1/queue`).then((r) => r.json());
    assert.equal(workerStats.completed, earlier + JOBS);
    assert.equal(workerStats.consumers, 2);

    assert.equal(await metricValue(cluster.api.url, 'pixveil_queue_consumers'), 2);
    assert.equal(await metricValue(cluster.api.url, 'pixveil_queue_jobs', 'state="waiting"'), 0);
    assert.equal(await metricValue(cluster.api.url, 'pixveil_queue_jobs', 'state="dead_letter"'), 0);

    // Both workers did work, and between them each job once.
    const perWorker = await Promise.all(cluster.workers.map((w) => metricValue(w.url, 'pixveil_jobs_finished_total', 'status="completed"')));
    assert.equal(perWorker[0] + perWorker[1], earlier + JOBS, `per worker: ${perWorker}`);
    for (const n of perWorker) assert.ok(n >= JOBS * 0.2, `work was not shared: ${perWorker}`);
    console.log(`# ${JOBS} jobs in ${elapsed.toFixed(1)} s (${(JOBS / elapsed).toFixed(1)} images/s); per worker ${perWorker.join(' / ')}`);
  });
});
