// Through the service, with the real models: a JPEG upload comes back with every pixel far from
// the blurred boxes as it was, unless the request asked for a quality.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { jpegBlocks } from '../../src/addon/index.js';
import { facesDir, readFixture } from '../../harness/fixtures.js';
import { decodePixels, detailInside, farPixels, type PixelBox } from '../../harness/jpeg-blocks.js';
import { startTestNode, waitForJob, type TestNode } from '../../harness/server.js';

describe('JPEG output over HTTP', () => {
  let server: TestNode;
  // uf_2.jpg: a group photo with several clear frontal faces, re-saved as a camera would (q92, 4:2:0).
  let photo: Buffer;

  async function run(query: string): Promise<{ job: any; output: Buffer; boxes: PixelBox[] }> {
    const res = await fetch(`${server.url}/v1/images${query}`, { method: 'POST', body: new Uint8Array(photo) });
    const body = await res.json();
    assert.equal(res.status, 202, JSON.stringify(body));
    const job = await waitForJob(server.url, body.job_id, 60_000);
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    const output = Buffer.from(await (await fetch(`${server.url}/v1/jobs/${job.job_id}/result`)).arrayBuffer());
    return { job, output, boxes: job.result.detections.filter((d: any) => d.blurred).map((d: any) => d.blurBox) };
  }

  before(async () => {
    server = await startTestNode();
    photo = await sharp(readFixture(facesDir, 'uf_2.jpg')).jpeg({ quality: 92 }).toBuffer();
  });
  after(async () => server.close());

  test('/v1/health says whether JPEG blocks are kept, and why not', async () => {
    const health = await (await fetch(`${server.url}/v1/health`)).json();
    assert.deepEqual(health.jpeg_blocks, jpegBlocks.support);
    if (!health.jpeg_blocks.available) assert.match(health.jpeg_blocks.detail, /libjpeg|native/);
  });

  test('no quality: far pixels identical, faces blurred, the size of the upload', { skip: !jpegBlocks.support.available && jpegBlocks.support.detail }, async () => {
    const { output, boxes } = await run('?detect=faces');
    assert.ok(boxes.length >= 3, `${boxes.length} faces blurred`);
    const input = await decodePixels(photo);
    const result = await decodePixels(output);
    const { far, changed } = farPixels(input, result, boxes);
    assert.equal(changed, 0, `${changed} of ${far} pixels farther than 16 px from every blurred box changed`);
    for (const box of boxes) assert.ok(detailInside(result, box) < detailInside(input, box) * 0.6, `face at ${box.x},${box.y} blurred`);
    // Smaller by what the blurred faces no longer cost (their detail was most of this photo's bits), never larger.
    const ratio = output.length / photo.length;
    assert.ok(ratio > 0.8 && ratio < 1.05, `×${ratio.toFixed(3)}`);
  });

  test('quality=90: the whole photo re-encoded, as before', async () => {
    const { output, boxes } = await run('?detect=faces&quality=90');
    const { far, changed } = farPixels(await decodePixels(photo), await decodePixels(output), boxes);
    assert.ok(changed > far / 100, `${changed} of ${far} far pixels changed`);
  });
});
