// DELETE /v1/jobs/:id on local storage: original, result, metadata and record gone; 204 then 404;
// tenant-checked; a job erased while queued or processing leaves nothing behind; KEEP_ORIGINALS=false.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { darknetDir, facesDir, readFixture } from '../../harness/fixtures.js';
import { authedUpload, startLoggedNode, waitForJobAs, type LoggedNode } from '../../harness/auth.js';
import { startTestNode, uploadFile, waitForJob, type TestNode } from '../../harness/server.js';

/** Every stored file under the data directory, relative (original/…, processed/…, metadata/…). */
function stored(dataDir: string): string[] {
  return (fs.readdirSync(dataDir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dataDir, f)).isFile()).sort();
}

const ofJob = (files: string[], id: string) => files.filter((f) => f.includes(id));

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('erasure on local storage', () => {
  let server: TestNode;
  before(async () => {
    server = await startTestNode();
  });
  after(async () => server.close());

  test('DELETE of a completed job → 204; original, result and metadata gone; GET and a second DELETE → 404', async () => {
    const res = await uploadFile(server.url, readFixture(facesDir, 'uf_3.jpg'), 'uf_3.jpg');
    const job = await waitForJob(server.url, (await res.json()).job_id);
    assert.equal(job.status, 'completed');
    const id = job.job_id;
    assert.deepEqual(ofJob(stored(server.dataDir), id), [`metadata/${id}.1.json`, `original/${id}.jpg`, `processed/${id}.1.jpg`]);

    const del = await fetch(`${server.url}/v1/jobs/${id}`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    assert.equal((await del.arrayBuffer()).byteLength, 0);
    assert.deepEqual(ofJob(stored(server.dataDir), id), [], 'no file of the job is left');

    for (const [method, route] of [['GET', `/v1/jobs/${id}`], ['GET', `/v1/jobs/${id}/result`], ['GET', `/status/${id}`], ['DELETE', `/v1/jobs/${id}`]]) {
      const again = await fetch(`${server.url}${route}`, { method });
      assert.equal(again.status, 404, `${method} ${route}`);
      assert.equal((await again.json()).error.code, 'JOB_NOT_FOUND');
    }
  });

  test('DELETE of an id that never existed, or is not an id → 404 JOB_NOT_FOUND', async () => {
    for (const id of ['AAAAAAAAAAAAAAAAAAAAAA', 'not..an..id']) {
      const res = await fetch(`${server.url}/v1/jobs/${id}`, { method: 'DELETE' });
      assert.equal(res.status, 404, id);
      assert.equal((await res.json()).error.code, 'JOB_NOT_FOUND');
    }
  });

  test('jobs erased right after upload (queued or processing) leave nothing behind once the workers are idle', async () => {
    const dog = readFixture(darknetDir, 'dog.jpg');
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const accepted = await (await uploadFile(server.url, dog, `dog-${i}.jpg`)).json();
      ids.push(accepted.job_id);
      assert.equal((await fetch(`${server.url}/v1/jobs/${accepted.job_id}`, { method: 'DELETE' })).status, 204);
    }
    // Whatever state each was in, the runner either never claims it or deletes what it stored.
    await until(async () => server.node.runner!.activeJobs === 0 && (await server.node.queue.stats()).waiting === 0, 'the workers to go idle');
    const files = stored(server.dataDir);
    for (const id of ids) assert.deepEqual(ofJob(files, id), [], `nothing of ${id} is stored`);
    for (const id of ids) assert.equal((await fetch(`${server.url}/v1/jobs/${id}`)).status, 404);
  });
});

test('KEEP_ORIGINALS=false: the original is gone after the job, and DELETE removes the rest', async () => {
  const server = await startTestNode({}, 'serve', { KEEP_ORIGINALS: 'false' });
  try {
    const res = await uploadFile(server.url, readFixture(darknetDir, 'dog.jpg'), 'dog.jpg');
    const job = await waitForJob(server.url, (await res.json()).job_id);
    assert.equal(job.status, 'completed');
    const id = job.job_id;
    await until(() => !fs.existsSync(path.join(server.dataDir, `original/${id}.jpg`)), 'the original deleted after the job');
    assert.deepEqual(ofJob(stored(server.dataDir), id), [`metadata/${id}.1.json`, `processed/${id}.1.jpg`]);
    assert.equal((await fetch(`${server.url}/v1/jobs/${id}`, { method: 'DELETE' })).status, 204);
    assert.deepEqual(ofJob(stored(server.dataDir), id), []);
  } finally {
    await server.close();
  }
});

describe('erasure is tenant-checked (AUTH=on)', () => {
  const ACME = { 'x-api-key': 'acme-key-0123456789abcdef' };
  const GLOBEX = { 'x-api-key': 'globex-key-0123456789abcdef' };
  let server: LoggedNode;
  before(async () => {
    server = await startLoggedNode({ auth: 'on', apiKeys: `acme:${ACME['x-api-key']},globex:${GLOBEX['x-api-key']}`, rateLimitPerMinute: 6000, rateLimitBurst: 1000 });
  });
  after(async () => server.close());

  test('another tenant gets 404 and erases nothing; no credentials → 401; the owner erases it', async () => {
    const res = await authedUpload(server.url, readFixture(darknetDir, 'dog.jpg'), ACME);
    assert.equal(res.status, 202);
    const job = await waitForJobAs(server.url, (await res.json()).job_id, ACME);
    const id = job.job_id;
    const before = ofJob(stored(server.dataDir), id);
    assert.equal(before.length, 3);

    const foreign = await fetch(`${server.url}/v1/jobs/${id}`, { method: 'DELETE', headers: GLOBEX });
    assert.equal(foreign.status, 404);
    assert.equal((await foreign.json()).error.code, 'JOB_NOT_FOUND');
    assert.equal((await fetch(`${server.url}/v1/jobs/${id}`, { method: 'DELETE' })).status, 401);
    assert.deepEqual(ofJob(stored(server.dataDir), id), before, 'still all there');
    assert.equal((await fetch(`${server.url}/v1/jobs/${id}`, { headers: ACME })).status, 200);

    assert.equal((await fetch(`${server.url}/v1/jobs/${id}`, { method: 'DELETE', headers: ACME })).status, 204);
    assert.deepEqual(ofJob(stored(server.dataDir), id), []);
    const audit = server.logs.map((l) => JSON.parse(l)).filter((l) => l.method === 'DELETE' && l.status === 204);
    assert.ok(audit.some((l) => l.job_id === id && l.tenant === 'acme'), 'the erasure is in the audit log with the job id and tenant');
  });
});
