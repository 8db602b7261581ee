import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { documentedCodes } from '../../harness/fuzz-run.js';
import { startTestNode, waitForJob, type TestNode } from '../../harness/server.js';

// Regressions for what `npm run bench:fuzz` found, each answered with a code the README lists.
describe('fuzz findings', () => {
  let server: TestNode;
  const docs = documentedCodes();
  before(async () => {
    server = await startTestNode();
  });
  after(async () => server.close());

  const batch = (parts: Array<[string, Buffer]>) => {
    const form = new FormData();
    for (const [name, data] of parts) form.append('files', new Blob([new Uint8Array(data)]), name);
    return fetch(`${server.url}/v1/images:batch`, { method: 'POST', body: form });
  };

  test('a batch whose every file is refused answers with the first file\'s documented code and status, and lists each file', async () => {
    // Found by seed 3, case 878: this was 415 "BATCH_REJECTED", a code in no table.
    for (const [parts, code, status] of [
      [[['a.bin', Buffer.from('not an image at all')], ['b.bin', Buffer.alloc(0)]], 'UNSUPPORTED_MEDIA_TYPE', 415],
      [[['empty.jpg', Buffer.alloc(0)], ['x.bin', Buffer.from('GIF89a')]], 'EMPTY_BODY', 400],
    ] as Array<[Array<[string, Buffer]>, string, number]>) {
      const res = await batch(parts);
      const body = await res.json();
      assert.equal(res.status, status, JSON.stringify(body));
      assert.equal(body.error.code, code);
      assert.equal(docs.http.get(body.error.code), res.status, `${code} is in the README's error table at ${res.status}`);
      assert.equal(body.jobs.length, 2);
      for (const entry of body.jobs) {
        assert.equal(entry.status, 'rejected');
        assert.ok(docs.http.has(entry.error.code), `per-file code ${entry.error.code} documented`);
      }
    }
  });

  test('an image wider than WebP allows, asked for as format=webp, fails at once with IMAGE_TOO_LARGE (no retries), and completes as PNG', async () => {
    // Found by the extreme-shape cases: this was PROCESSING_ERROR ("too large for the WebP format"),
    // an undocumented code, retried MAX_ATTEMPTS times after full detection each time.
    const wide = await sharp({ create: { width: 20_000, height: 2, channels: 3, background: { r: 90, g: 60, b: 30 } } }).png().toBuffer();
    const post = (query: string) => fetch(`${server.url}/v1/images${query}`, { method: 'POST', body: new Uint8Array(wide), headers: { 'content-type': 'image/png' } });
    const res = await post('?format=webp');
    assert.equal(res.status, 202);
    const job = await waitForJob(server.url, (await res.json()).job_id);
    assert.equal(job.status, 'failed');
    assert.equal(job.error.code, 'IMAGE_TOO_LARGE', job.error.message);
    assert.match(job.error.message, /16383/);
    assert.ok(docs.job.has(job.error.code));
    assert.equal(job.attempts, 1, 'not retried');
    const png = await waitForJob(server.url, (await (await post('?format=png')).json()).job_id);
    assert.equal(png.status, 'completed', JSON.stringify(png.error));
  });
});
