import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '../../src/config/config.js';
import { isPixveilError } from '../../src/errors.js';
import { S3ObjectStore, type S3StoreOptions } from '../../src/storage/s3.js';
import { contentTypes } from '../../src/image-format.js';
import { storageKeys } from '../../src/storage/keys.js';
import { startS3Server, type TestS3Server } from '../../harness/s3-server.js';
import { facesDir, platesDir } from '../../harness/fixtures.js';
import path from 'node:path';
import { httpStatusOf } from '../../src/ingest/http-status.js';

const MiB = 1024 * 1024;
const PREFIX = 'tenant-a';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const jobId = () => randomBytes(12).toString('hex');

let s3: TestS3Server;
let store: S3ObjectStore;

/** Short timeouts and few attempts so failure tests finish in seconds. */
function storeOptions(server: TestS3Server, extra: Partial<S3StoreOptions> & { verifyBucket?: boolean } = {}) {
  return {
    credentials: server.credentials,
    maxAttempts: 2,
    connectionTimeoutMs: 1_000,
    requestTimeoutMs: 5_000,
    socketTimeoutMs: 3_000,
    partSizeBytes: 5 * MiB,
    ...extra,
  };
}

function configFor(server: TestS3Server, env: Record<string, string> = {}) {
  return loadConfig({
    S3_BUCKET: server.bucket,
    S3_ENDPOINT: server.endpoint,
    AWS_REGION: server.region,
    S3_FORCE_PATH_STYLE: 'true',
    S3_PREFIX: PREFIX,
    S3_MULTIPART_THRESHOLD_BYTES: String(5 * MiB),
    S3_PART_CONCURRENCY: '2',
    ...env,
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function expectStorageError(promise: Promise<unknown>, withinMs: number, pattern?: RegExp): Promise<void> {
  const started = Date.now();
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isPixveilError(err), `expected a PixveilError, got ${String(err)}`);
    assert.equal(err.code, 'STORAGE_ERROR');
    assert.equal(httpStatusOf(err), 503);
    assert.equal(err.retryable, true);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
  const elapsed = Date.now() - started;
  assert.ok(elapsed < withinMs, `failed after ${elapsed} ms, expected under ${withinMs} ms`);
}

before(async () => {
  s3 = await startS3Server();
  store = await S3ObjectStore.fromConfig(configFor(s3), storeOptions(s3));
});

after(async () => {
  await store?.close();
  await s3?.stop();
});

test('original, processed and metadata objects round-trip with size, sha256 and Content-Type intact', async () => {
  const id = jobId();
  const original = await fs.readFile(path.join(facesDir, 'uf_1.jpg'));
  const processed = await fs.readFile(path.join(platesDir, 'alpr_wa-bqu4895.png'));
  const metadata = Buffer.from(JSON.stringify({ job_id: id, detections: [{ label: 'face', box: [1, 2, 3, 4], score: 0.9 }] }));
  const objects = [
    { key: storageKeys.original(id, 'jpg'), body: original, type: contentTypes.jpg },
    { key: storageKeys.processed(id, 'png', 1), body: processed, type: contentTypes.png },
    { key: storageKeys.metadata(id, 1), body: metadata, type: 'application/json' },
  ];
  for (const { key, body, type } of objects) await store.put(key, body, type);

  const raw = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: s3.credentials });
  try {
    for (const { key, body, type } of objects) {
      const got = await store.get(key);
      assert.equal(got.length, body.length, key);
      assert.equal(sha256(got), sha256(body), key);

      const { stream, size, contentType } = await store.getStream(key);
      assert.equal(size, body.length);
      assert.equal(contentType, type);
      assert.equal(sha256(await readAll(stream)), sha256(body));

      // The bucket holds the object under the configured prefix, with the headers a client relies on.
      const head = await raw.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `${PREFIX}/${key}` }));
      assert.equal(head.ContentType, type);
      assert.equal(head.ContentLength, body.length);
      assert.match(head.CacheControl ?? '', /^private\b/);
      assert.equal(head.Metadata?.sha256, sha256(body));
    }
  } finally {
    raw.destroy();
  }
});

test('a body over the threshold goes up as a multipart upload and downloads byte for byte', async () => {
  const key = storageKeys.processed(jobId(), 'jpg', 1);
  const body = randomBytes(17 * MiB + 12345);
  const before = s3.requests.length;
  await store.put(key, body, 'image/jpeg');

  const sent = s3.requests.slice(before);
  assert.equal(sent.filter((r) => r.method === 'POST' && /[?&]uploads\b/.test(r.url)).length, 1, 'one CreateMultipartUpload');
  assert.equal(sent.filter((r) => r.method === 'PUT' && /[?&]partNumber=/.test(r.url)).length, 4, '17 MiB in 5 MiB parts');
  assert.equal(sent.filter((r) => r.method === 'POST' && /[?&]uploadId=/.test(r.url)).length, 1, 'one CompleteMultipartUpload');

  const got = await store.get(key);
  assert.equal(got.length, body.length);
  assert.equal(sha256(got), sha256(body));
  const { stream, size, contentType } = await store.getStream(key);
  assert.equal(size, body.length);
  assert.equal(contentType, 'image/jpeg');
  assert.equal(sha256(await readAll(stream)), sha256(body));
});

test('a body under the threshold goes up with one PutObject carrying Content-MD5', async () => {
  const key = storageKeys.original(jobId(), 'jpg');
  const before = s3.requests.length;
  await store.put(key, randomBytes(5 * MiB - 1), 'image/jpeg');
  const sent = s3.requests.slice(before);
  assert.deepEqual(sent.map((r) => r.method), ['PUT']);
  assert.doesNotMatch(sent[0]!.url, /partNumber|uploadId/);
});

test('putFile: a video file over the threshold streams up as a multipart upload, one under it as one PutObject; both download byte for byte', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pixveil-s3-putfile-'));
  try {
    for (const [size, requests] of [[23 * MiB + 777, 'multipart'], [MiB + 3, 'single']] as const) {
      const file = path.join(dir, `video-${size}.mp4`);
      const body = randomBytes(size);
      await fs.writeFile(file, body);
      const key = storageKeys.processed(jobId(), 'mp4', 1);
      const before = s3.requests.length;
      await store.putFile(key, file, 'video/mp4');
      const sent = s3.requests.slice(before);
      if (requests === 'multipart') {
        assert.equal(sent.filter((r) => r.method === 'PUT' && /[?&]partNumber=/.test(r.url)).length, 5, '23 MiB in 5 MiB parts');
        assert.equal(sent.filter((r) => r.method === 'POST' && /[?&]uploadId=/.test(r.url)).length, 1, 'one CompleteMultipartUpload');
      } else {
        assert.deepEqual(sent.map((r) => r.method), ['PUT']);
      }
      // get() checks the sha256 stored with the object, so a digest that did not match the parts would fail here.
      const got = await store.get(key);
      assert.equal(sha256(got), sha256(body), requests);
      const { size: streamed, contentType } = await store.getStream(key);
      assert.equal(streamed, size);
      assert.equal(contentType, 'video/mp4');
    }
    await expectStorageError(store.putFile(storageKeys.processed(jobId(), 'mp4', 1), path.join(dir, 'missing.mp4'), 'video/mp4'), 2000, /missing\.mp4|ENOENT/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a presigned URL downloads the object with plain fetch()', async () => {
  const key = storageKeys.processed(jobId(), 'jpg', 1);
  const body = await fs.readFile(path.join(facesDir, 'uf_17.jpg'));
  await store.put(key, body, 'image/jpeg');

  const url = await store.presignedUrl(key, 60);
  assert.ok(url.startsWith(`${s3.endpoint}/${s3.bucket}/${PREFIX}/${key}?`), url);
  assert.match(url, /X-Amz-Signature=/);
  assert.match(url, /X-Amz-Expires=60/);
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/jpeg');
  const got = Buffer.from(await res.arrayBuffer());
  assert.equal(sha256(got), sha256(body));

  await assert.rejects(store.presignedUrl(key, 0), /Expected an integer between 1 and 604800 for expiresSeconds/);
});

test('exists and delete', async () => {
  const key = storageKeys.metadata(jobId(), 1);
  assert.equal(await store.exists(key), false);
  await store.put(key, Buffer.from('{}'), 'application/json');
  assert.equal(await store.exists(key), true);
  await store.delete(key);
  assert.equal(await store.exists(key), false);
  await store.delete(key); // deleting a missing object is not an error
  await expectStorageError(store.get(key), 5_000, /metadata\/.*\.json/);
  await expectStorageError(store.getStream(key), 5_000);
});

test('keys with ".." or a leading "/" are refused before any request', async () => {
  const before = s3.requests.length;
  for (const key of ['../etc/passwd', 'original/../../x.jpg', '/original/x.jpg', '']) {
    await assert.rejects(store.put(key, Buffer.from('x'), 'image/jpeg'), /Refusing storage key/);
    await assert.rejects(store.get(key), /Refusing storage key/);
  }
  assert.equal(s3.requests.length, before);
});

test('check() passes for the bucket and names a missing bucket and its endpoint', async () => {
  await store.check();
  assert.equal(store.description, `s3://${s3.bucket}/${PREFIX}/ at ${s3.endpoint}`);

  const missing = await S3ObjectStore.fromConfig(configFor(s3, { S3_BUCKET: 'no-such-bucket-pixveil' }), storeOptions(s3, { verifyBucket: false }));
  try {
    await expectStorageError(missing.check(), 5_000, new RegExp(`S3 bucket no-such-bucket-pixveil not found at endpoint ${s3.endpoint.replace(/[.]/g, '\\.')}`));
  } finally {
    await missing.close();
  }
  // fromConfig verifies the bucket, so start-up fails with the same message.
  await expectStorageError(
    S3ObjectStore.fromConfig(configFor(s3, { S3_BUCKET: 'no-such-bucket-pixveil' }), storeOptions(s3)),
    5_000,
    /S3 bucket no-such-bucket-pixveil not found at endpoint/,
  );
});

test('a throttled request (503 SlowDown) is retried and the put succeeds', async () => {
  const key = storageKeys.original(jobId(), 'png');
  s3.inject({ match: (r) => r.method === 'PUT' && r.url.includes(key), status: 503, code: 'SlowDown', times: 1 });
  const before = s3.requests.length;
  await store.put(key, Buffer.from('retried'), 'image/png');
  assert.equal(s3.requests.slice(before).filter((r) => r.method === 'PUT').length, 2);
  assert.equal((await store.get(key)).toString(), 'retried');
});

test('a part that keeps failing rejects the put and aborts the multipart upload', async () => {
  const key = storageKeys.processed(jobId(), 'webp', 1);
  s3.inject({ match: (r) => r.method === 'PUT' && r.url.includes(key) && r.url.includes('partNumber=2'), status: 500, code: 'InternalError', times: Infinity });
  const before = s3.requests.length;
  await expectStorageError(store.put(key, randomBytes(11 * MiB), 'image/webp'), 20_000, /Storage put failed for tenant-a\/processed\//);
  const sent = s3.requests.slice(before);
  assert.equal(sent.filter((r) => r.method === 'DELETE' && /[?&]uploadId=/.test(r.url)).length, 1, 'AbortMultipartUpload sent');
  assert.equal(await store.exists(key), false);
});
