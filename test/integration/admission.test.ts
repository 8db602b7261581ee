import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { postImage, sleep, smallPhotos, startCluster, waitForAll, type Cluster } from '../../harness/cluster.js';
import { startTestNode, waitForJob, type TestNode } from '../../harness/server.js';

// Latency admission with a prior of 2 s per image on one pool thread (0.5 images/s) and a 4 s SLO:
// about two jobs fit before the measured drain rate takes over, so a burst is refused at once,
// whatever this machine's speed. Nothing here depends on how fast the images are processed.
const ADMISSION_ENV = { LATENCY_SLO_SECONDS: '4', ADMISSION_PRIOR_SECONDS_PER_IMAGE: '2', POOL_THREADS: '1' };

async function flood(url: string, images: Buffer[], count: number) {
  return Promise.all(Array.from({ length: count }, (_, i) => postImage(url, images[i % images.length], 60_000)));
}

function assertRefusals(answers: Awaited<ReturnType<typeof flood>>) {
  const refused = answers.filter((a) => a.status === 429);
  assert.ok(refused.length > 0, `a burst past the SLO is refused (answers: ${answers.map((a) => a.status).join(',')})`);
  assert.ok(answers.every((a) => a.status === 202 || a.status === 429), `only 202 and 429: ${answers.map((a) => a.status).join(',')}`);
  for (const r of refused) {
    assert.equal(r.body.error.code, 'OVERLOADED');
    assert.match(r.body.error.message, /LATENCY_SLO_SECONDS/);
    assert.match(r.retryAfter ?? '', /^\d+$/, 'every refusal says when to come back');
    assert.ok(Number(r.retryAfter) >= 1 && Number(r.retryAfter) <= 4, `Retry-After ${r.retryAfter} within 1 s..SLO`);
  }
}

describe('latency-aware admission, embedded', () => {
  let server: TestNode;
  let images: Buffer[];
  before(async () => {
    images = await smallPhotos(320, 6);
    server = await startTestNode({}, 'serve', ADMISSION_ENV);
  });
  after(async () => server.close());

  test('a flooded server answers 429 OVERLOADED with Retry-After before the predicted wait passes the SLO; accepted jobs complete', async () => {
    const answers = await flood(server.url, images, 30);
    assertRefusals(answers);
    const queue = await fetch(`${server.url}/v1/queue`).then((r) => r.json());
    assert.equal(queue.admission.slo_seconds, 4);
    assert.ok(queue.admission.predicted_wait_seconds <= 4, `predicted wait ${queue.admission.predicted_wait_seconds} s stays within the SLO`);
    assert.ok(queue.admission.drain_rate_per_second > 0);
    const accepted = answers.filter((a) => a.status === 202).map((a) => a.id!);
    for (const id of accepted) assert.equal((await waitForJob(server.url, id, 60_000)).status, 'completed');
    const metrics = await fetch(`${server.url}/metrics`).then((r) => r.text());
    assert.match(metrics, /^pixveil_admission_predicted_wait_seconds \S+$/m);
    assert.match(metrics, /^pixveil_admission_drain_rate \S+$/m);
    assert.match(metrics, /^pixveil_uploads_total\{outcome="OVERLOADED"\} \d+$/m);
  });

  test('a batch is admitted whole or refused whole; WebSocket frames get an OVERLOADED error frame', async () => {
    const form = new FormData();
    for (let i = 0; i < 20; i++) form.append('files', new Blob([new Uint8Array(images[i % images.length])]), `p${i}.jpg`);
    const batch = await fetch(`${server.url}/v1/images:batch`, { method: 'POST', body: form });
    assert.equal(batch.status, 429);
    assert.equal((await batch.json()).error.code, 'OVERLOADED');
    assert.match(batch.headers.get('retry-after') ?? '', /^\d+$/);

    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/stream`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const frames: any[] = [];
    ws.on('message', (data, binary) => !binary && frames.push(JSON.parse(data.toString())));
    for (let i = 0; i < 12; i++) ws.send(images[i % images.length], { binary: true });
    const deadline = Date.now() + 30_000;
    while (frames.filter((f) => f.type === 'ack' || f.type === 'error').length < 12 && Date.now() < deadline) await sleep(50);
    const errors = frames.filter((f) => f.type === 'error');
    assert.ok(errors.length > 0, `12 frames at once are partly refused: ${JSON.stringify(frames)}`);
    for (const e of errors) {
      assert.equal(e.error.code, 'OVERLOADED');
      assert.equal(e.status, 429);
      assert.ok(e.retry_after_seconds >= 1);
    }
    ws.close();
  });
});

describe('latency-aware admission, distributed: the API node measures the workers\' drain rate', () => {
  let cluster: Cluster;
  let images: Buffer[];
  before(async () => {
    images = await smallPhotos(320, 6);
    cluster = await startCluster({ workers: 1, env: ADMISSION_ENV });
  });
  after(async () => cluster?.close());

  test('an api node (no pool) refuses with Retry-After, then learns the rate from completions on the worker node', async () => {
    const first = await flood(cluster.api.url, images, 20);
    assertRefusals(first);
    const before = (await fetch(`${cluster.api.url}/v1/queue`).then((r) => r.json())).admission;
    assert.equal(before.drain_rate_source, 'prior', 'nothing finished yet: 1 consumer × 1 thread at 2 s per image');
    assert.equal(before.drain_rate_per_second, 0.5);
    // Clients that honour Retry-After get in as the worker drains; bounded in count and time.
    const accepted = first.filter((a) => a.status === 202).map((a) => a.id!);
    const deadline = Date.now() + 90_000;
    let view = before;
    while (Date.now() < deadline && (accepted.length < 40 || view.drain_rate_source !== 'measured')) {
      const answer = await postImage(cluster.api.url, images[accepted.length % images.length], 30_000);
      if (answer.status === 202) accepted.push(answer.id!);
      else assert.equal(answer.status, 429);
      view = (await fetch(`${cluster.api.url}/v1/queue`).then((r) => r.json())).admission;
      if (answer.status === 429) await sleep(200);
    }
    assert.equal(view.drain_rate_source, 'measured', `the api node counts the worker's completions: ${JSON.stringify(view)}`);
    assert.ok(view.drain_rate_per_second > 0.5, `measured ${view.drain_rate_per_second}/s beats the prior`);
    const done = await waitForAll(cluster.api.url, accepted, 120_000);
    assert.ok([...done.values()].every((j) => j.status === 'completed'), 'every accepted job completes');
  });
});
