import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import WebSocket from 'ws';
import { darknetDir, readFixture } from '../../harness/fixtures.js';
import { startTestNode, uploadFile, waitForJob, type TestNode } from '../../harness/server.js';

const MiB = 1024 * 1024;

describe('WebSocket send backlog is bounded per connection (WS_MAX_BACKLOG_BYTES)', () => {
  let server: TestNode;
  let image: Buffer;

  before(async () => {
    server = await startTestNode({ maxUploadBytes: 2_000_000 }, 'serve', { WS_MAX_BACKLOG_BYTES: String(4 * MiB), WS_MAX_IN_FLIGHT: '64' });
    // 1920x1080 JPEG in, PNG out: each result is several MB, so a reader that stops falls behind fast.
    image = await sharp(readFixture(darknetDir, 'dog.jpg')).resize(1920, 1080, { fit: 'fill' }).jpeg({ quality: 85 }).toBuffer();
  });
  after(async () => server.close());

  test('a client that stops reading is closed with 1013 and RSS stays under the bound', async () => {
    // 40 results of ~3 MB each, all held, would pass it; the 4 MB cap keeps the connection far below.
    const RSS_BOUND = 120 * MiB;
    // Warm up with as many jobs as the pool runs at once (2 threads x 2), so the baseline holds the
    // models and every thread's image buffers; what grows after that is what the connection holds.
    const warm = await Promise.all([0, 1, 2, 3].map(async (i) => (await uploadFile(server.url, image, `warm${i}.jpg`, '?format=png&detect=faces')).json()));
    await Promise.all(warm.map((body) => waitForJob(server.url, body.job_id)));
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);

    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/stream?return_image=true&format=png&detect=faces`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    // Stop reading: nothing the server sends is taken off the socket.
    const socket = (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    for (let i = 0; i < 40; i++) {
      ws.send(image);
      await new Promise((r) => setTimeout(r, 150));
    }
    // Let the server finish what it accepted (it has to hold or drop those results), then read again.
    const deadline = Date.now() + 90_000;
    for (;;) {
      const queue = await (await fetch(`${server.url}/v1/queue`)).json();
      if (queue.depth === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 500));
    socket.resume();
    const code = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 15_000))]);
    clearInterval(sampler);
    console.log(`stalled WebSocket reader: close code ${code}, peak rss growth ${((peak - rssBefore) / MiB).toFixed(1)} MB (bound ${RSS_BOUND / MiB} MB)`);
    assert.equal(code, 1013, 'closed with 1013 (try again later) once the backlog passed its cap');
    assert.ok(peak - rssBefore < RSS_BOUND, `rss grew by ${peak - rssBefore} bytes`);
    assert.equal((await fetch(`${server.url}/v1/health`)).status, 200);
  });
});
