import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { loadConfig } from '../../src/config/config.js';
import { startNode } from '../../src/commands/node.js';
import { silentLogger } from '../../src/observability/logger.js';
import { darknetDir, facesDir, modelDir, readFixture } from '../../harness/fixtures.js';
import { s3ServerForSuite } from '../../harness/s3-server.js';
import { startTestNode, uploadFile, waitForJob, type TestNode } from '../../harness/server.js';

const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

describe('the service on S3 storage (s3rver)', () => {
  const suite = s3ServerForSuite();

  const s3Env = (extra: Record<string, string> = {}) => ({
    S3_BUCKET: suite.s3.bucket,
    S3_ENDPOINT: suite.s3.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_REGION: suite.s3.region,
    S3_PREFIX: `run-${crypto.randomBytes(4).toString('hex')}`,
    ...extra,
  });

  async function keys(prefix: string): Promise<string[]> {
    const listed = await suite.client.send(new ListObjectsV2Command({ Bucket: suite.s3.bucket, Prefix: prefix }));
    return (listed.Contents ?? []).map((o) => o.Key!).sort();
  }

  async function getBytes(key: string): Promise<Buffer> {
    const out = await suite.client.send(new GetObjectCommand({ Bucket: suite.s3.bucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  }

  describe('stream delivery, originals kept', () => {
    let server: TestNode;
    let env: Record<string, string>;
    before(async () => {
      // Failures are retried as attempts here (what MAX_ATTEMPTS counts); the in-place retry
      // through a short outage (STORAGE_RETRY_MS) has its own test in job-runner.test.ts.
      env = s3Env({ STORAGE_RETRY_MS: '0' });
      server = await startTestNode({}, 'serve', env);
    });
    after(async () => server.close());

    test('original, anonymized image and metadata land in the bucket under the job id, intact', async () => {
      const photo = readFixture(facesDir, 'uf_3.jpg');
      const res = await uploadFile(server.url, photo, 'uf_3.jpg');
      const job = await waitForJob(server.url, (await res.json()).job_id);
      assert.equal(job.status, 'completed');
      const p = env.S3_PREFIX;
      assert.deepEqual(await keys(p), [`${p}/metadata/${job.job_id}.1.json`, `${p}/original/${job.job_id}.jpg`, `${p}/processed/${job.job_id}.1.jpg`]);
      assert.equal(sha256(await getBytes(`${p}/original/${job.job_id}.jpg`)), sha256(photo));
      const result = Buffer.from(await (await fetch(`${server.url}/v1/jobs/${job.job_id}/result`)).arrayBuffer());
      assert.equal(sha256(result), sha256(await getBytes(`${p}/processed/${job.job_id}.1.jpg`)));
      const record = JSON.parse((await getBytes(`${p}/metadata/${job.job_id}.1.json`)).toString());
      assert.equal(record.detections.filter((d: any) => d.kind === 'face').length, job.result.detections.filter((d: any) => d.kind === 'face').length);
      const health = await (await fetch(`${server.url}/v1/health`)).json();
      assert.match(health.storage, /^s3:\/\//);
    });

    test('DELETE /v1/jobs/:id removes the original, result and metadata objects from the bucket; again → 404', async () => {
      const res = await uploadFile(server.url, readFixture(darknetDir, 'dog.jpg'), 'dog.jpg');
      const job = await waitForJob(server.url, (await res.json()).job_id);
      assert.equal(job.status, 'completed');
      const p = env.S3_PREFIX;
      const id = job.job_id;
      const ofJob = async () => (await keys(p)).filter((k) => k.includes(id));
      assert.deepEqual(await ofJob(), [`${p}/metadata/${id}.1.json`, `${p}/original/${id}.jpg`, `${p}/processed/${id}.1.jpg`]);
      assert.equal((await fetch(`${server.url}/v1/jobs/${id}`, { method: 'DELETE' })).status, 204);
      assert.deepEqual(await ofJob(), [], 'no object of the job is left');
      assert.equal((await fetch(`${server.url}/v1/jobs/${id}`)).status, 404);
      assert.equal((await fetch(`${server.url}/v1/jobs/${id}`, { method: 'DELETE' })).status, 404);
    });

    test('DELETE while S3 refuses deletes → 503 and the job stays, so the erasure can be retried', async () => {
      const res = await uploadFile(server.url, readFixture(darknetDir, 'dog.jpg'), 'dog.jpg');
      const job = await waitForJob(server.url, (await res.json()).job_id);
      suite.s3.inject({ match: (r) => r.method === 'DELETE', status: 503, code: 'SlowDown', times: Infinity });
      try {
        const refused = await fetch(`${server.url}/v1/jobs/${job.job_id}`, { method: 'DELETE' });
        assert.equal(refused.status, 503);
        assert.equal((await refused.json()).error.code, 'STORAGE_ERROR');
      } finally {
        suite.s3.clearFaults();
      }
      assert.equal((await fetch(`${server.url}/v1/jobs/${job.job_id}`)).status, 200, 'the record is still there');
      assert.equal((await fetch(`${server.url}/v1/jobs/${job.job_id}`, { method: 'DELETE' })).status, 204);
      assert.deepEqual((await keys(env.S3_PREFIX)).filter((k) => k.includes(job.job_id)), []);
    });

    test('an S3 that fails while storing outputs: the job is retried and completes once; nothing is marked completed early', async () => {
      // Every PUT of a processed image fails for one whole attempt (the SDK's own 4 tries), then S3 recovers.
      suite.s3.inject({ match: (r) => r.method === 'PUT' && r.url.includes('/processed/'), status: 500, code: 'InternalError', times: 4 });
      const res = await uploadFile(server.url, readFixture(darknetDir, 'dog.jpg'), 'dog.jpg');
      const job = await waitForJob(server.url, (await res.json()).job_id, 60_000);
      assert.equal(job.status, 'completed');
      assert.equal(job.attempts, 2, 'the first attempt failed on storage and was retried');
      assert.ok(job.error === null || job.error === undefined || job.error.code === 'STORAGE_ERROR');
      assert.equal((await keys(`${env.S3_PREFIX}/processed/${job.job_id}`)).length, 1);
    });

    test('an S3 that keeps failing: the job ends failed with STORAGE_ERROR, never completed, no result object', async () => {
      suite.s3.inject({ match: (r) => r.method === 'PUT' && r.url.includes('/processed/'), status: 503, code: 'SlowDown', times: Infinity });
      try {
        const res = await uploadFile(server.url, readFixture(darknetDir, 'dog.jpg'), 'dog.jpg');
        const job = await waitForJob(server.url, (await res.json()).job_id, 90_000);
        assert.equal(job.status, 'failed');
        assert.equal(job.error.code, 'STORAGE_ERROR');
        assert.equal(job.attempts, 3);
        assert.deepEqual(await keys(`${env.S3_PREFIX}/processed/${job.job_id}`), []);
        assert.equal((await fetch(`${server.url}/v1/jobs/${job.job_id}/result`)).status, 409);
      } finally {
        suite.s3.clearFaults();
      }
    });
  });

  test('RESULT_DELIVERY=presign redirects to a presigned URL; KEEP_ORIGINALS=false deletes the original after the job', async () => {
    const env = s3Env({ RESULT_DELIVERY: 'presign', KEEP_ORIGINALS: 'false', PRESIGN_EXPIRY_SECONDS: '120' });
    const server = await startTestNode({}, 'serve', env);
    try {
      const res = await uploadFile(server.url, readFixture(darknetDir, 'dog.jpg'), 'dog.jpg');
      const job = await waitForJob(server.url, (await res.json()).job_id);
      assert.equal(job.status, 'completed');
      const redirect = await fetch(`${server.url}/v1/jobs/${job.job_id}/result`, { redirect: 'manual' });
      assert.equal(redirect.status, 302);
      const location = redirect.headers.get('location')!;
      assert.match(location, /X-Amz-Expires=120/);
      const image = Buffer.from(await (await fetch(location)).arrayBuffer());
      assert.equal(sha256(image), sha256(await getBytes(`${env.S3_PREFIX}/processed/${job.job_id}.1.jpg`)));
      assert.deepEqual(await keys(`${env.S3_PREFIX}/original/`), [], 'the original was deleted');
    } finally {
      await server.close();
    }
  });

  test('a missing bucket stops start-up with a message naming the bucket and the endpoint', async () => {
    const config = loadConfig({ MODEL_DIR: modelDir, PORT: '0', MODEL_PULL_ON_START: 'false', ...s3Env({ S3_BUCKET: 'no-such-bucket' }) });
    await assert.rejects(startNode(config, 'serve', silentLogger), (err: Error) => {
      assert.match(err.message, /no-such-bucket/);
      assert.ok(err.message.includes(suite.s3.endpoint), err.message);
      return true;
    });
  });
});
