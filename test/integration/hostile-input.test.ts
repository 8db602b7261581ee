import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { darknetDir, readFixture } from '../../harness/fixtures.js';
import {
  gifJsPolyglot,
  htmlTail,
  jpegWithDeclaredSize,
  manyParts,
  nestedMultipart,
  pngWithDeclaredSize,
  randomBytes,
  seededRandom,
  smallCopy,
  zeroPng,
  zipTail,
} from '../../harness/hostile-files.js';
import { startTestNode, uploadFile, waitForJob, type TestNode } from '../../harness/server.js';
import { rawRequest } from '../../harness/raw-http.js';

/** What a client sees: a status and error code at upload, or the job's final state. */
interface Expectation {
  status: number;
  code?: string;
  /** With status 202: how the job ends. */
  job?: 'completed' | string;
}

describe('hostile input: every file gets its documented status and code, the process stays up, memory stays bounded', () => {
  let server: TestNode;
  let port: number;
  const dog = readFixture(darknetDir, 'dog.jpg');
  const rand = seededRandom(0x5eed);
  const MEMORY_GROWTH_LIMIT = 300 * 1024 * 1024;
  const outcomes: string[] = [];

  before(async () => {
    server = await startTestNode({ maxUploadBytes: 2_000_000, maxPixels: 20_000_000, bodyTimeoutMs: 1500, bodyMinBytesPerSecond: 1024 });
    port = server.node.port!;
  });
  after(async () => server.close());

  async function check(name: string, send: () => Promise<Response>, want: Expectation): Promise<void> {
    const res = await send();
    const body = await res.json();
    assert.equal(res.status, want.status, `${name}: ${JSON.stringify(body)}`);
    outcomes.push(`${name} → ${res.status}${body.error ? ` ${body.error.code}` : ''}`);
    if (want.code && want.status !== 202) assert.equal(body.error?.code ?? body.jobs?.[0]?.error?.code, want.code, name);
    if (want.status === 202) {
      const job = await waitForJob(server.url, body.job_id);
      if (want.job === 'completed') assert.equal(job.status, 'completed', `${name}: ${JSON.stringify(job.error)}`);
      else {
        assert.equal(job.status, 'failed', name);
        outcomes[outcomes.length - 1] += ` → job ${job.error.code}`;
        assert.equal(job.error.code, want.job, `${name}: ${job.error.message}`);
        assert.equal(job.attempts, 1, `${name}: permanent failures are not retried`);
      }
    }
  }

  const raw = (body: Buffer, contentType = 'application/octet-stream') => () =>
    fetch(`${server.url}/v1/images`, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': contentType } });

  test('malformed files, polyglots, decompression bombs and multipart abuse', async () => {
    // A warm-up upload so the baseline includes the loaded models and libvips.
    await check('warm-up', () => uploadFile(server.url, dog, 'dog.jpg'), { status: 202, job: 'completed' });
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const png = await smallCopy(dog, 'png');
    const jpeg = await smallCopy(dog, 'jpeg');
    const cases: Array<[string, () => Promise<Response>, Expectation]> = [
      ['zero bytes', raw(Buffer.alloc(0), 'image/jpeg'), { status: 400, code: 'EMPTY_BODY' }],
      ['random bytes', raw(randomBytes(rand, 65_536), 'image/jpeg'), { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' }],
      ['truncated JPEG', raw(dog.subarray(0, Math.floor(dog.length / 2)), 'image/jpeg'), { status: 202, job: 'UNDECODABLE_IMAGE' }],
      ['JPEG header only', raw(dog.subarray(0, 600), 'image/jpeg'), { status: 202, job: 'UNDECODABLE_IMAGE' }],
      ['truncated PNG', raw(png.subarray(0, Math.floor(png.length / 2)), 'image/png'), { status: 202, job: 'UNDECODABLE_IMAGE' }],
      ['PNG signature only', raw(png.subarray(0, 8), 'image/png'), { status: 202, job: 'UNDECODABLE_IMAGE' }],
      ['PNG sent as image/gif named .jpg (sniffing wins)', () => uploadFile(server.url, png, 'photo.jpg'), { status: 202, job: 'completed' }],
      ['HTML sent as image/jpeg', raw(htmlTail, 'image/jpeg'), { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' }],
      ['GIF/JS polyglot', raw(gifJsPolyglot, 'image/gif'), { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' }],
      ['JPEG with an HTML tail', raw(Buffer.concat([jpeg, htmlTail]), 'image/jpeg'), { status: 202, job: 'completed' }],
      ['JPEG with a zip tail', raw(Buffer.concat([jpeg, zipTail]), 'image/jpeg'), { status: 202, job: 'completed' }],
      ['60000x60000 PNG header', raw(pngWithDeclaredSize(60_000, 60_000), 'image/png'), { status: 202, job: 'IMAGE_TOO_LARGE' }],
      ['60000x60000 JPEG header', raw(jpegWithDeclaredSize(jpeg, 60_000, 60_000), 'image/jpeg'), { status: 202, job: 'IMAGE_TOO_LARGE' }],
      ['30000x1 JPEG (one side over MAX_DIMENSION)', raw(jpegWithDeclaredSize(jpeg, 30_000, 1), 'image/jpeg'), { status: 202, job: 'IMAGE_TOO_LARGE' }],
      ['65535x65535 JPEG (over libjpeg\'s own 65500 limit)', raw(jpegWithDeclaredSize(jpeg, 65_535, 65_535), 'image/jpeg'), { status: 202, job: 'UNDECODABLE_IMAGE' }],
      ['PNG declaring 16 GB of RGBA (20000x50000, 1 MB of zeros deflated)', raw(pngWithDeclaredSize(20_000, 50_000), 'image/png'), { status: 202, job: 'IMAGE_TOO_LARGE' }],
      ['PNG bomb inside the limits (4000x4000 zeros, 16 MB from ~16 KB)', raw(zeroPng(4000, 4000), 'image/png'), { status: 202, job: 'completed' }],
      ['PNG declaring 4000x4000 with too little data', raw(pngWithDeclaredSize(4000, 4000, 1000), 'image/png'), { status: 202, job: 'UNDECODABLE_IMAGE' }],
      ['nested multipart 200 deep', () => { const m = nestedMultipart(200); return fetch(`${server.url}/v1/images`, { method: 'POST', body: new Uint8Array(m.body), headers: { 'content-type': m.contentType } }); }, { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' }],
      ['5000 parts on the single upload', () => { const m = manyParts(5000, 'file'); return fetch(`${server.url}/v1/images`, { method: 'POST', body: new Uint8Array(m.body), headers: { 'content-type': m.contentType } }); }, { status: 400, code: 'TOO_MANY_FILES' }],
      ['5000 parts on the batch upload', () => { const m = manyParts(5000); return fetch(`${server.url}/v1/images:batch`, { method: 'POST', body: new Uint8Array(m.body), headers: { 'content-type': m.contentType } }); }, { status: 400, code: 'TOO_MANY_FILES' }],
      ['multipart with no boundary', raw(Buffer.from('--x\r\n\r\n'), 'multipart/form-data'), { status: 400, code: 'BAD_MULTIPART' }],
      ['body over MAX_UPLOAD_BYTES', raw(Buffer.concat([jpeg, Buffer.alloc(2_100_000)]), 'image/jpeg'), { status: 413, code: 'PAYLOAD_TOO_LARGE' }],
    ];
    for (const [name, send, want] of cases) await check(name, send, want);
    console.log(`hostile corpus: ${cases.length} HTTP cases\n  ${outcomes.join('\n  ')}`);

    // Tails are not carried into the anonymized output (it is re-encoded from pixels).
    const res = await fetch(`${server.url}/v1/images`, { method: 'POST', body: new Uint8Array(Buffer.concat([jpeg, htmlTail, zipTail])) });
    const job = await waitForJob(server.url, (await res.json()).job_id);
    const out = Buffer.from(await (await fetch(`${server.url}/v1/jobs/${job.job_id}/result`)).arrayBuffer());
    assert.ok(!out.includes('<script>') && !out.includes('PK\x03\x04'), 'polyglot tail stripped from the output');

    global.gc?.();
    await new Promise((r) => setTimeout(r, 200));
    const growth = process.memoryUsage().rss - rssBefore;
    console.log(`hostile corpus: rss growth ${(growth / 1048576).toFixed(1)} MB (limit ${MEMORY_GROWTH_LIMIT / 1048576} MB)`);
    assert.ok(growth < MEMORY_GROWTH_LIMIT, `rss grew by ${growth} bytes`);
  });

  test('huge and numerous request headers are refused without hurting the server', async () => {
    // Our limit (MAX_HEADER_BYTES, default 16 KB): 431 HEADERS_TOO_LARGE and the connection closed.
    const big = await rawRequest(port, (s) => s.write(`GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`));
    assert.match(big.head, /^HTTP\/1\.1 431/, `100 KB header: ${big.head}`);
    assert.ok(big.closed);
    // uWS's own limits: beyond ~512 KB of headers it answers 431 itself and closes.
    const huge = await rawRequest(port, (s) => s.write(`GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2_000_000)}\r\n\r\n`));
    assert.ok(/^HTTP\/1\.1 431/.test(huge.head) && huge.closed, `2 MB header: ${huge.head}`);
    // Past uWS's header count limit the request is dropped unanswered; uWS's idle timeout closes it.
    for (const count of [100, 1000]) {
      const many = await rawRequest(port, (s) => s.write(`GET /v1/health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: count }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`), 20_000);
      assert.ok(!/^HTTP\/1\.1 200/.test(many.head), `${count} headers not served: ${many.head}`);
      assert.ok(many.closed, `${count} headers: connection closed`);
    }
    assert.equal((await fetch(`${server.url}/v1/health`)).status, 200);
  });

  test('slowloris: a trickled body gets 408 REQUEST_TIMEOUT and the connection is closed', async () => {
    let interval: NodeJS.Timeout | undefined;
    const slow = await rawRequest(port, (s) => {
      s.write('POST /v1/images HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n');
      s.write(dog.subarray(0, 10));
      interval = setInterval(() => s.writable && s.write(dog.subarray(10, 11)), 200);
    });
    clearInterval(interval);
    assert.match(slow.head, /^HTTP\/1\.1 408/);
    assert.ok(slow.closed, 'connection closed');
    assert.ok(slow.ms < 5000, `cut off after ${slow.ms} ms (BODY_TIMEOUT_MS=1500)`);

    const stalled = await rawRequest(port, (s) => s.write('POST /v1/images HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 5000\r\n\r\nabc'));
    assert.match(stalled.head, /^HTTP\/1\.1 408/, 'a body that stops arriving');
    assert.ok(stalled.closed);
    assert.equal((await fetch(`${server.url}/v1/health`)).status, 200);
  });

  test('an oversize declared body is refused at once and the connection closed, without reading it', async () => {
    const result = await rawRequest(port, (s) => s.write(`POST /v1/images HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: ${50 * 1024 * 1024}\r\n\r\n`));
    assert.match(result.head, /^HTTP\/1\.1 413/);
    assert.ok(result.closed);
    assert.ok(result.ms < 2000);
  });
});
