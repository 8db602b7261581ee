import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { darknetDir, facesDir, readFixture } from '../../harness/fixtures.js';
import { startTestNode, uploadFile, waitForJob, type TestNode } from '../../harness/server.js';

describe('job lifecycle over HTTP (embedded mode)', () => {
  let server: TestNode;
  before(async () => {
    server = await startTestNode();
  });
  after(async () => server.close());

  test('multipart upload → 202 → completed with detections, timings and a stored result', async () => {
    const dog = readFixture(darknetDir, 'dog.jpg');
    const res = await uploadFile(server.url, dog, 'dog.jpg');
    assert.equal(res.status, 202);
    const accepted = await res.json();
    assert.match(accepted.job_id, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(accepted.status, 'queued');
    assert.equal(accepted.status_url, `/v1/jobs/${accepted.job_id}`);

    const job = await waitForJob(server.url, accepted.job_id);
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.equal(job.input.filename, 'dog.jpg');
    assert.equal(job.result.width, 768);
    assert.equal(job.result.height, 576);
    for (const stage of ['decode', 'detect_faces', 'detect_objects', 'blur', 'encode', 'store']) {
      assert.equal(typeof job.result.timings_ms[stage], 'number', `timing for ${stage}`);
    }
    const car = job.result.detections.find((d: any) => d.label === 'car');
    assert.ok(car, `a car in dog.jpg; got ${job.result.detections.map((d: any) => d.label)}`);
    // The car sits in the top right of dog.jpg.
    assert.ok(car.box.x > 400 && car.box.y < 200 && car.box.width > 100, JSON.stringify(car.box));
    assert.equal(car.blurred, false, 'objects are reported, not blurred, by default');
    assert.ok(job.result.detections.some((d: any) => d.label === 'dog'));

    const result = await fetch(`${server.url}/v1/jobs/${accepted.job_id}/result`);
    assert.equal(result.status, 200);
    assert.equal(result.headers.get('content-type'), 'image/jpeg');
    const bytes = Buffer.from(await result.arrayBuffer());
    const meta = await sharp(bytes).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.equal(meta.width, 768);

    const record = JSON.parse(fs.readFileSync(path.join(server.dataDir, job.result.metadata_key), 'utf8'));
    assert.equal(record.job_id, accepted.job_id);
    assert.equal(record.detections.length, job.result.detections.length);
    assert.ok(fs.existsSync(path.join(server.dataDir, 'original', `${accepted.job_id}.jpg`)));
  });

  test('raw body upload keeps the input format (PNG in, PNG out) and honours format=webp', async () => {
    const png = await sharp(readFixture(facesDir, 'uf_2.jpg')).png().toBuffer();
    const res = await fetch(`${server.url}/v1/images`, { method: 'POST', body: new Uint8Array(png), headers: { 'content-type': 'image/png' } });
    assert.equal(res.status, 202);
    const job = await waitForJob(server.url, (await res.json()).job_id);
    assert.equal(job.result.format, 'png');
    const webp = await fetch(`${server.url}/v1/images?format=webp`, { method: 'POST', body: new Uint8Array(png) });
    const webpJob = await waitForJob(server.url, (await webp.json()).job_id);
    const out = await fetch(`${server.url}/v1/jobs/${webpJob.job_id}/result`);
    assert.equal(out.headers.get('content-type'), 'image/webp');
    assert.equal((await sharp(Buffer.from(await out.arrayBuffer())).metadata()).format, 'webp');
  });

  test('status goes queued → processing → completed and ?wait long-polls', async () => {
    const res = await uploadFile(server.url, readFixture(facesDir, 'uf_1.jpg'), 'uf_1.jpg');
    const { job_id } = await res.json();
    const seen = new Set<string>();
    const first = await (await fetch(`${server.url}/v1/jobs/${job_id}`)).json();
    seen.add(first.status);
    assert.ok(['queued', 'processing', 'completed'].includes(first.status));
    const waited = await (await fetch(`${server.url}/v1/jobs/${job_id}?wait=20s`)).json();
    assert.equal(waited.status, 'completed');
    assert.ok(waited.started_at && waited.finished_at && waited.finished_at >= waited.started_at);
  });

  test('batch upload makes one job per file and reports rejected files', async () => {
    const form = new FormData();
    form.append('files', new Blob([new Uint8Array(readFixture(darknetDir, 'dog.jpg'))]), 'dog.jpg');
    form.append('files', new Blob([new Uint8Array(readFixture(facesDir, 'uf_3.jpg'))]), 'uf_3.jpg');
    form.append('files', new Blob([new Uint8Array(Buffer.from('not an image at all'))]), 'notes.txt');
    const res = await fetch(`${server.url}/v1/images:batch`, { method: 'POST', body: form });
    assert.equal(res.status, 202);
    const body = await res.json();
    assert.equal(body.accepted, 2);
    assert.equal(body.rejected, 1);
    assert.equal(body.jobs[2].error.code, 'UNSUPPORTED_MEDIA_TYPE');
    for (const j of body.jobs.slice(0, 2)) assert.equal((await waitForJob(server.url, j.job_id)).status, 'completed');
  });

  test('the seed aliases answer with the seed response fields', async () => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(readFixture(facesDir, 'uf_3.jpg'))]), 'uf_3.jpg');
    const res = await fetch(`${server.url}/upload`, { method: 'POST', body: form });
    assert.equal(res.status, 202);
    const up = await res.json();
    assert.deepEqual(Object.keys(up).sort(), ['file_size', 'filename', 'job_id', 'message', 'status']);
    assert.equal(up.filename, 'uf_3.jpg');
    await waitForJob(server.url, up.job_id);
    const status = await (await fetch(`${server.url}/status/${up.job_id}`)).json();
    assert.equal(status.status, 'completed');
    for (const field of ['original_image_path', 'processed_image_path', 'processing_time', 'blur_metadata', 'detection_metadata']) {
      assert.ok(field in status.results, `results.${field}`);
    }
    assert.ok(status.results.blur_metadata.faces_blurred >= 3);

    const batch = new FormData();
    batch.append('files', new Blob([new Uint8Array(readFixture(darknetDir, 'dog.jpg'))]), 'dog.jpg');
    const b = await fetch(`${server.url}/batch-upload`, { method: 'POST', body: batch });
    assert.equal(b.status, 202);
    assert.equal((await b.json()).jobs[0].filename, 'dog.jpg');
    for (const p of ['/stats', '/health', '/queue-status']) assert.equal((await fetch(server.url + p)).status, 200, p);
    assert.ok('queue_size' in (await (await fetch(`${server.url}/queue-status`)).json()));
    assert.ok('total_processed' in (await (await fetch(`${server.url}/stats`)).json()));
  });

  test('stats, queue, health, ready and metrics report the node', async () => {
    const stats = await (await fetch(`${server.url}/v1/stats`)).json();
    assert.ok(stats.jobs_finished >= 1);
    assert.ok(stats.images_per_second > 0);
    assert.ok(stats.latency_ms.p50 > 0 && stats.latency_ms.p99 >= stats.latency_ms.p50);
    assert.equal(stats.pool.threads, 2);
    assert.equal(typeof stats.queue.depth, 'number');
    const queue = await (await fetch(`${server.url}/v1/queue`)).json();
    assert.equal(queue.backend, 'memory');
    const health = await (await fetch(`${server.url}/v1/health`)).json();
    assert.equal(health.status, 'ok');
    assert.ok(['native', 'typescript'].includes(health.pixel_ops));
    const ready = await fetch(`${server.url}/v1/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual((await ready.json()).checks, { queue: 'ok', storage: 'ok', models: 'ok' });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /pixveil_jobs_finished_total\{status="completed"\} [1-9]/);
    assert.match(metrics, /pixveil_stage_duration_seconds_bucket\{le="[^"]+",stage="detect_faces"\}/);
    assert.match(metrics, /pixveil_queue_jobs\{state="waiting"\} 0/);
  });
});
