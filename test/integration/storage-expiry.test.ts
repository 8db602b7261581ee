// Issue 21: stored objects never outlive their job record. After JOB_TTL_SECONDS the record goes
// (GET 404) and the storage sweep deletes the job's original, result and metadata: embedded, Redis
// and S3 (s3rver). A restarted embedded node removes what its lost records can no longer serve,
// DELETE works while any object is left, and a job that still has a record is never touched.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { newJobId } from '../../src/job.js';
import { packageRoot } from '../../src/paths.js';
import { storageKeys } from '../../src/storage/keys.js';
import { darknetDir, readFixture } from '../../harness/fixtures.js';
import { connectQueue, makeJob, startRedisServer, type RedisServer } from '../../harness/redis-server.js';
import { s3ServerForSuite } from '../../harness/s3-server.js';
import { startTestNode, uploadFile, waitForJob, type TestNode } from '../../harness/server.js';

const TTL_S = 3;
const expiryEnv = { JOB_TTL_SECONDS: String(TTL_S), STORAGE_SWEEP_SECONDS: '1' };

function storedFiles(dataDir: string): string[] {
  return (fs.readdirSync(dataDir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dataDir, f)).isFile()).sort();
}

const ofJob = (files: string[], id: string) => files.filter((f) => f.includes(id));

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function completedJob(server: TestNode): Promise<string> {
  const res = await uploadFile(server.url, readFixture(darknetDir, 'dog.jpg'), 'dog.jpg');
  assert.equal(res.status, 202);
  const job = await waitForJob(server.url, (await res.json()).job_id);
  assert.equal(job.status, 'completed');
  return job.job_id;
}

/** Sets a file's times to `ageMs` ago, as if it had been stored then. */
function backdate(file: string, ageMs: number): void {
  const then = new Date(Date.now() - ageMs);
  fs.utimesSync(file, then, then);
}

describe('stored objects expire with their job record (local storage)', () => {
  test('embedded: a live job keeps its (even old) files; once its record expired, no file of it is left', async () => {
    const server = await startTestNode({}, 'serve', expiryEnv);
    try {
      const id = await completedJob(server);
      const files = ofJob(storedFiles(server.dataDir), id);
      assert.deepEqual(files, [`metadata/${id}.1.json`, `original/${id}.jpg`, `processed/${id}.1.jpg`]);
      // Older than the TTL but the record is alive: a sweep must leave them alone.
      for (const f of files) backdate(path.join(server.dataDir, f), 3600_000);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      if ((await fetch(`${server.url}/v1/jobs/${id}`)).status === 200) {
        assert.deepEqual(ofJob(storedFiles(server.dataDir), id), files, 'a job with a record is never touched');
      }
      await until(async () => (await fetch(`${server.url}/v1/jobs/${id}`)).status === 404, 'the record to expire');
      await until(() => ofJob(storedFiles(server.dataDir), id).length === 0, 'the sweep to delete the files', 10_000);
    } finally {
      await server.close();
    }
  });

  test('restart: files a previous run left are removed once older than the TTL; DELETE still erases them before that', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-restart-'));
    const leftover = (id: string, ageMs: number) => {
      for (const key of [`original/${id}.jpg`, `processed/${id}.1.jpg`, `metadata/${id}.1.json`]) {
        fs.mkdirSync(path.join(dataDir, path.dirname(key)), { recursive: true });
        fs.writeFileSync(path.join(dataDir, key), 'bytes of a previous run');
        backdate(path.join(dataDir, key), ageMs);
      }
    };
    const [old, recent, erased] = [newJobId(), newJobId(), newJobId()];
    leftover(old, (TTL_S + 60) * 1000);
    const server = await startTestNode({}, 'serve', { ...expiryEnv, DATA_DIR: dataDir });
    try {
      await until(() => ofJob(storedFiles(dataDir), old).length === 0, 'the first sweep to remove files older than the TTL', 10_000);
      // Files as young as a restart a moment ago would leave (start-up may take longer than the TTL here).
      leftover(recent, 0);
      leftover(erased, 0);
      const written = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      if (Date.now() - written < TTL_S * 1000) assert.equal(ofJob(storedFiles(dataDir), recent).length, 3, 'younger files wait for the TTL');
      assert.equal((await fetch(`${server.url}/v1/jobs/${recent}`)).status, 404, 'nothing of it can be served');

      const del = await fetch(`${server.url}/v1/jobs/${erased}`, { method: 'DELETE' });
      assert.equal(del.status, 204, 'DELETE works while objects of the job exist');
      assert.deepEqual(ofJob(storedFiles(dataDir), erased), []);
      const again = await fetch(`${server.url}/v1/jobs/${erased}`, { method: 'DELETE' });
      assert.equal(again.status, 404, 'and answers 404 once nothing is left');

      await until(() => ofJob(storedFiles(dataDir), recent).length === 0, 'the TTL to pass for the younger files', (TTL_S + 5) * 1000);
      // The files' mtime is a few ms before `written`; the sweep goes by mtime.
      assert.ok(Date.now() - written >= TTL_S * 1000 - 100, 'not before the TTL');
    } finally {
      await server.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('stored objects expire with their job record (Redis queue)', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => redis.destroy());

  test('two nodes sharing Redis: a job with a record keeps its old files; after it expired none is left', async () => {
    // Redis expires a record TTL after its last change, processing included: room for a slow machine.
    const env = { ...expiryEnv, JOB_TTL_SECONDS: '8', REDIS_URL: redis.url, REDIS_PREFIX: `expiry-${crypto.randomBytes(4).toString('hex')}`, ALLOW_VOLATILE_REDIS: 'true' };
    const server = await startTestNode({}, 'serve', env);
    // A second node on the same Redis and data directory sweeps too; one of them takes each round.
    const other = await startTestNode({}, 'api', { ...env, DATA_DIR: server.dataDir });
    try {
      const id = await completedJob(server);
      const files = ofJob(storedFiles(server.dataDir), id);
      assert.equal(files.length, 3);
      for (const f of files) backdate(path.join(server.dataDir, f), 3600_000);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      if ((await fetch(`${server.url}/v1/jobs/${id}`)).status === 200) {
        assert.deepEqual(ofJob(storedFiles(server.dataDir), id), files, 'a job with a record is never touched');
      }
      await until(async () => (await fetch(`${other.url}/v1/jobs/${id}`)).status === 404, 'the Redis record to expire');
      await until(() => ofJob(storedFiles(server.dataDir), id).length === 0, 'a sweep to delete the files', 10_000);
    } finally {
      await other.close();
      await server.close();
    }
  });
});

test('pixveil dlq retry leaves a dead letter whose original expired with its record, and names it', async () => {
  const redis = await startRedisServer();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-dlq-'));
  const prefix = `dlq-${crypto.randomBytes(4).toString('hex')}`;
  const queue = await connectQueue(redis.url, { prefix, queueName: 'images', maxAttempts: 1 });
  try {
    const [expired, kept] = [newJobId(), newJobId()].map((id) => makeJob({ id, input: { key: storageKeys.original(id, 'jpg'), filename: 'a.jpg', bytes: 3, format: 'jpg' } }));
    fs.mkdirSync(path.join(dataDir, 'original'));
    fs.writeFileSync(path.join(dataDir, kept.input.key), 'jpg');
    for (const job of [expired, kept]) {
      await queue.enqueue(job);
      await queue.claim(1, 100);
      await queue.fail(job.id, { code: 'INTERNAL', message: 'boom', retryable: true });
    }
    assert.equal((await queue.deadLetters.list()).length, 2);
    const cli = path.join(packageRoot, 'dist', 'src', 'cli.js');
    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'dlq', 'retry'], { env: { ...process.env, REDIS_URL: redis.url, REDIS_PREFIX: prefix, DATA_DIR: dataDir } });
    assert.match(stdout, new RegExp(`^requeued 1 job\\(s\\): ${kept.id}$`, 'm'));
    assert.match(stdout, new RegExp(`^not requeued, their original expired with their record \\(JOB_TTL_SECONDS\\): ${expired.id}$`, 'm'));
    assert.deepEqual((await queue.deadLetters.list()).map((l) => l.jobId), [expired.id], 'the expired one stays in the dead-letter stream');
    assert.equal((await queue.get(kept.id))?.status, 'queued');
  } finally {
    await queue.close();
    await redis.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

describe('stored objects expire with their job record (S3, s3rver)', () => {
  const suite = s3ServerForSuite();

  async function keysOf(prefix: string, id: string): Promise<string[]> {
    const listed = await suite.client.send(new ListObjectsV2Command({ Bucket: suite.s3.bucket, Prefix: prefix }));
    return (listed.Contents ?? []).map((o) => o.Key!).filter((k) => k.includes(id)).sort();
  }

  test('the sweep deletes an expired job\'s objects from the bucket, and only those', async () => {
    const prefix = `run-${crypto.randomBytes(4).toString('hex')}`;
    const server = await startTestNode({}, 'serve', { ...expiryEnv, S3_BUCKET: suite.s3.bucket, S3_ENDPOINT: suite.s3.endpoint, S3_FORCE_PATH_STYLE: 'true', AWS_REGION: suite.s3.region, S3_PREFIX: prefix });
    try {
      const id = await completedJob(server);
      assert.deepEqual(await keysOf(prefix, id), [`${prefix}/metadata/${id}.1.json`, `${prefix}/original/${id}.jpg`, `${prefix}/processed/${id}.1.jpg`]);
      await until(async () => (await fetch(`${server.url}/v1/jobs/${id}`)).status === 404, 'the record to expire');
      await until(async () => (await keysOf(prefix, id)).length === 0, 'the sweep to delete the objects', 10_000);
    } finally {
      await server.close();
    }
  });

  test('DELETE erases the objects a job without a record left in the bucket (e.g. before the sweep ran)', async () => {
    const prefix = `run-${crypto.randomBytes(4).toString('hex')}`;
    const server = await startTestNode({}, 'serve', { S3_BUCKET: suite.s3.bucket, S3_ENDPOINT: suite.s3.endpoint, S3_FORCE_PATH_STYLE: 'true', AWS_REGION: suite.s3.region, S3_PREFIX: prefix });
    try {
      const [orphan, neighbour] = [newJobId(), newJobId()];
      for (const id of [orphan, neighbour]) {
        for (const key of [storageKeys.original(id, 'png'), storageKeys.processed(id, 'png', 2), storageKeys.metadata(id, 2)]) {
          await suite.client.send(new PutObjectCommand({ Bucket: suite.s3.bucket, Key: `${prefix}/${key}`, Body: 'left over' }));
        }
      }
      assert.equal((await fetch(`${server.url}/v1/jobs/${orphan}`)).status, 404, 'no record');
      assert.equal((await fetch(`${server.url}/v1/jobs/${orphan}`, { method: 'DELETE' })).status, 204);
      assert.deepEqual(await keysOf(prefix, orphan), []);
      assert.equal((await keysOf(prefix, neighbour)).length, 3, 'another job\'s objects are untouched');
      assert.equal((await fetch(`${server.url}/v1/jobs/${orphan}`, { method: 'DELETE' })).status, 404);
    } finally {
      await server.close();
    }
  });
});
