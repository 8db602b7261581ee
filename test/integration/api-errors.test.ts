import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { loadConfig } from '../../src/config/config.js';
import type { IngestContext } from '../../src/ingest/context.js';
import { httpMethodOf } from '../../src/ingest/route.js';
import { routeTable } from '../../src/ingest/server.js';
import { silentLogger } from '../../src/observability/logger.js';
import { darknetDir, readFixture } from '../../harness/fixtures.js';
import { startTestNode, uploadFile, waitForJob, type TestNode } from '../../harness/server.js';

async function expectError(res: Response, status: number, code: string): Promise<string> {
  assert.equal(res.status, status, `status for ${code}`);
  const body = await res.json();
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  return body.error.message;
}

describe('bad requests get a clear error and lose nothing', () => {
  let server: TestNode;
  const dog = readFixture(darknetDir, 'dog.jpg');
  before(async () => {
    server = await startTestNode({ maxUploadBytes: 400_000, maxPixels: 20_000_000, maxDimension: 5000 });
  });
  after(async () => server.close());

  test('invalid options → 400 INVALID_OPTION naming the option', async () => {
    const cases: Array<[string, RegExp]> = [
      ['?blur=sepia', /Expected one of gaussian, pixelate, solid for blur but received sepia of type string/],
      ['?shape=star', /^Expected one of box, ellipse for shape but received star of type string$/],
      ['?detect=faces,cats', /^Expected a comma-separated list of faces, plates, objects for detect but received faces,cats of type string$/],
      ['?face_threshold=1.5', /Expected a number between 0 and 1 for face_threshold/],
      ['?plate_threshold=', /^Expected a number between 0 and 1 for plate_threshold but received  of type string$/],
      ['?object_threshold=NaN', /^Expected a number between 0 and 1 for object_threshold/],
      ['?format=gif', /^Expected one of same, jpeg, png, webp for format but received gif of type string$/],
      ['?quality=0', /^Expected an integer between 1 and 100 for quality but received 0 of type string$/],
      ['?quality=90.5', /^Expected an integer between 1 and 100 for quality/],
      ['?metadata=all', /^Expected one of strip, safe for metadata but received all of type string$/],
      ['?blur_classes=unicorn', /for blur_classes/],
      ['?blurr=gaussian', /^Expected one of blur, shape, detect, face_threshold, plate_threshold, object_threshold, blur_classes, format, quality, metadata, return_image, wait, callback_url for query parameter but received blurr of type string$/],
    ];
    for (const [query, message] of cases) {
      const msg = await expectError(await uploadFile(server.url, dog, 'dog.jpg', query), 400, 'INVALID_OPTION');
      assert.match(msg, message, query);
    }
  });

  test('empty body → 400, non-image → 415, oversize → 413, missing file part → 400', async () => {
    await expectError(await fetch(`${server.url}/v1/images`, { method: 'POST' }), 400, 'EMPTY_BODY');
    const gif = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1');
    assert.match(await expectError(await fetch(`${server.url}/v1/images`, { method: 'POST', body: new Uint8Array(gif), headers: { 'content-type': 'image/jpeg' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'), /GIF/);
    await expectError(await fetch(`${server.url}/v1/images`, { method: 'POST', body: new Uint8Array(Buffer.from('%PDF-1.4 hello')) }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const big = Buffer.concat([dog, Buffer.alloc(400_000)]);
    await expectError(await fetch(`${server.url}/v1/images`, { method: 'POST', body: new Uint8Array(big) }), 413, 'PAYLOAD_TOO_LARGE');
    const form = new FormData();
    form.append('other', 'x');
    await expectError(await fetch(`${server.url}/v1/images`, { method: 'POST', body: form }), 400, 'MISSING_FILE');
    await expectError(await fetch(`${server.url}/v1/images:batch`, { method: 'POST', body: new Uint8Array(dog) }), 400, 'BAD_MULTIPART');
  });

  test('unknown jobs and routes → 404, wrong method → 405, bad wait → 400', async () => {
    await expectError(await fetch(`${server.url}/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA`), 404, 'JOB_NOT_FOUND');
    await expectError(await fetch(`${server.url}/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA/result`), 404, 'JOB_NOT_FOUND');
    await expectError(await fetch(`${server.url}/v2/nothing`), 404, 'NOT_FOUND');
    await expectError(await fetch(`${server.url}/v1/images`), 405, 'METHOD_NOT_ALLOWED');
    await expectError(await fetch(`${server.url}/v1/jobs/x?wait=forever`), 400, 'INVALID_OPTION');
  });

  test('an unknown method on a known route → 405 with Allow listing exactly the route table\'s methods for that path', async () => {
    const table = routeTable({ config: loadConfig({ PORT: '0' }), role: 'serve', log: silentLogger } as unknown as IngestContext);
    const expected = new Map<string, Set<string>>();
    for (const spec of table) {
      for (const pattern of spec.patterns) {
        // Whole `:name` segments only: `/v1/images:batch` is a literal path.
        const path = pattern.split('/').map((seg) => (seg === ':file' ? 'x.css' : seg.startsWith(':') ? 'AAAAAAAAAAAAAAAAAAAAAA' : seg)).join('/');
        if (!expected.has(path)) expected.set(path, new Set());
        expected.get(path)!.add(httpMethodOf(spec.method));
        if (spec.method === 'get') expected.get(path)!.add('HEAD');
      }
    }
    assert.ok(expected.get('/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA')?.has('DELETE'));
    for (const [path, methods] of expected) {
      const res = await fetch(`${server.url}${path}`, { method: 'PATCH', body: 'x' });
      const message = await expectError(res, 405, 'METHOD_NOT_ALLOWED');
      const allow = (res.headers.get('allow') ?? '').split(', ').sort();
      assert.deepEqual(allow, [...methods].sort(), `Allow on ${path}`);
      assert.match(message, new RegExp(`^PATCH is not allowed on ${path.replace(/[.:]/g, '\\$&')}`));
    }
    const put = await fetch(`${server.url}/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA`, { method: 'PUT' });
    await expectError(put, 405, 'METHOD_NOT_ALLOWED');
    assert.equal(put.headers.get('allow'), 'GET, HEAD, DELETE');
    const del = await fetch(`${server.url}/v1/images`, { method: 'DELETE' });
    await expectError(del, 405, 'METHOD_NOT_ALLOWED');
    assert.equal(del.headers.get('allow'), 'POST');
    await expectError(await fetch(`${server.url}/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA/nothing`, { method: 'DELETE' }), 404, 'NOT_FOUND');
    // The demo page's own routes answer 405 the same way.
    assert.equal((await fetch(`${server.url}/`, { method: 'DELETE' })).headers.get('allow'), 'GET, HEAD');
  });

  test('a truncated JPEG is accepted, then fails at once with UNDECODABLE_IMAGE and no retries', async () => {
    const truncated = dog.subarray(0, Math.floor(dog.length / 3));
    const res = await uploadFile(server.url, truncated, 'cut.jpg');
    assert.equal(res.status, 202);
    const job = await waitForJob(server.url, (await res.json()).job_id);
    assert.equal(job.status, 'failed');
    assert.equal(job.error.code, 'UNDECODABLE_IMAGE');
    assert.equal(job.attempts, 1, 'permanent errors are not retried');
    await expectError(await fetch(`${server.url}/v1/jobs/${job.job_id}/result`), 409, 'RESULT_NOT_READY');
  });

  test('an image over MAX_PIXELS fails with IMAGE_TOO_LARGE before decoding', async () => {
    const huge = await sharp({ create: { width: 6000, height: 4000, channels: 3, background: '#888' } }).jpeg({ quality: 10 }).toBuffer();
    const res = await fetch(`${server.url}/v1/images`, { method: 'POST', body: new Uint8Array(huge) });
    assert.equal(res.status, 202);
    const job = await waitForJob(server.url, (await res.json()).job_id);
    assert.equal(job.status, 'failed');
    assert.equal(job.error.code, 'IMAGE_TOO_LARGE');
    assert.match(job.error.message, /6000x4000/);
  });

  test('an image wider than MAX_DIMENSION fails with IMAGE_TOO_LARGE in the pool thread', async () => {
    const wide = await sharp({ create: { width: 6000, height: 80, channels: 3, background: '#888' } }).jpeg().toBuffer();
    const res = await fetch(`${server.url}/v1/images`, { method: 'POST', body: new Uint8Array(wide) });
    const job = await waitForJob(server.url, (await res.json()).job_id);
    assert.equal(job.status, 'failed');
    assert.equal(job.error.code, 'IMAGE_TOO_LARGE');
    assert.match(job.error.message, /6000/);
  });

  test('the server keeps serving after all of the above', async () => {
    const res = await uploadFile(server.url, dog, 'dog.jpg');
    assert.equal((await waitForJob(server.url, (await res.json()).job_id)).status, 'completed');
  });
});

describe('backpressure', () => {
  test('uploads beyond MAX_QUEUE_SIZE get 429 with Retry-After, and accepted ones all complete', async () => {
    const server = await startTestNode({ maxQueueSize: 3, poolThreads: 1, tasksPerThread: 1 });
    try {
      const dog = readFixture(darknetDir, 'dog.jpg');
      const responses = await Promise.all(Array.from({ length: 12 }, () => uploadFile(server.url, dog, 'dog.jpg')));
      const accepted = responses.filter((r) => r.status === 202);
      const refused = responses.filter((r) => r.status === 429);
      assert.ok(refused.length > 0, 'some uploads refused');
      assert.equal(accepted.length + refused.length, 12);
      assert.ok(Number(refused[0].headers.get('retry-after')) >= 1);
      assert.equal((await refused[0].json()).error.code, 'QUEUE_FULL');
      for (const r of accepted) assert.equal((await waitForJob(server.url, (await r.json()).job_id)).status, 'completed');
    } finally {
      await server.close();
    }
  });
});
