import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { loadConfig } from '../../src/config/config.js';
import { isPixveilError } from '../../src/errors.js';
import { S3ObjectStore } from '../../src/storage/s3.js';
import { storageKeys } from '../../src/storage/keys.js';
import { startS3Server } from '../../harness/s3-server.js';
import { httpStatusOf } from '../../src/ingest/http-status.js';

const MiB = 1024 * 1024;
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const jobId = () => randomBytes(12).toString('hex');

/** A store with short timeouts and two attempts, so every outage below ends within seconds. */
function openStore(endpoint: string, bucket: string, verifyBucket: boolean) {
  const config = loadConfig({
    S3_BUCKET: bucket,
    S3_ENDPOINT: endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    S3_MULTIPART_THRESHOLD_BYTES: String(5 * MiB),
    S3_PART_CONCURRENCY: '2',
  });
  return S3ObjectStore.fromConfig(config, {
    credentials,
    verifyBucket,
    maxAttempts: 2,
    connectionTimeoutMs: 500,
    requestTimeoutMs: 1_000,
    socketTimeoutMs: 1_000,
    partSizeBytes: 5 * MiB,
  });
}

async function expectStorageError(promise: Promise<unknown>, withinMs: number, pattern?: RegExp): Promise<void> {
  const started = Date.now();
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isPixveilError(err), `expected a PixveilError, got ${String(err)}`);
    assert.equal(err.code, 'STORAGE_ERROR');
    assert.equal(httpStatusOf(err), 503);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
  const elapsed = Date.now() - started;
  assert.ok(elapsed < withinMs, `failed after ${elapsed} ms, expected under ${withinMs} ms`);
}

/** A port nothing listens on: bind an ephemeral one, then release it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('put rejects with STORAGE_ERROR when the server was stopped before it', async () => {
  const s3 = await startS3Server();
  const store = await openStore(s3.endpoint, s3.bucket, true);
  try {
    await s3.stop();
    await expectStorageError(store.put(storageKeys.original(jobId(), 'jpg'), randomBytes(64 * 1024), 'image/jpeg'), 5_000);
    await expectStorageError(store.exists(storageKeys.original(jobId(), 'jpg')), 5_000);
  } finally {
    await store.close();
    await s3.stop();
  }
});

test('a multipart put rejects with STORAGE_ERROR when the server dies mid-upload', async () => {
  const s3 = await startS3Server();
  const store = await openStore(s3.endpoint, s3.bucket, true);
  try {
    const put = store.put(storageKeys.processed(jobId(), 'png', 1), randomBytes(24 * MiB), 'image/png');
    await s3.waitForRequest((r) => r.method === 'PUT' && r.url.includes('partNumber='));
    await s3.stop();
    await expectStorageError(put, 10_000, /Storage put failed/);
  } finally {
    await store.close();
    await s3.stop();
  }
});

test('a server that accepts connections but never answers fails the call instead of hanging', async () => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as net.AddressInfo;
  const store = await openStore(`http://127.0.0.1:${port}`, 'any-bucket', false);
  try {
    // Two attempts of about 1 s each, plus backoff.
    await expectStorageError(store.put(storageKeys.metadata(jobId(), 1), Buffer.from('{}'), 'application/json'), 6_000);
    await expectStorageError(store.check(), 6_000, /S3 endpoint http:\/\/127\.0\.0\.1:\d+ is unreachable while checking bucket any-bucket/);
  } finally {
    await store.close();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});

test('start-up against an endpoint nobody listens on fails with a message naming bucket and endpoint', async () => {
  const endpoint = `http://127.0.0.1:${await closedPort()}`;
  await expectStorageError(openStore(endpoint, 'pixveil-media', true), 5_000, new RegExp(`S3 endpoint ${endpoint.replace(/[.]/g, '\\.')} is unreachable while checking bucket pixveil-media`));
});
