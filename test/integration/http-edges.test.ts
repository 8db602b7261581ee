import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { packageRoot } from '../../src/paths.js';
import { darknetDir, modelDir, readFixture } from '../../harness/fixtures.js';
import { freePort } from '../../harness/free-port.js';
import { rawRequest } from '../../harness/raw-http.js';
import { startTestNode, waitForJob, type TestNode } from '../../harness/server.js';

// Issue 21, finding 11: HEAD, /docs/, what the open /v1/health tells a stranger, Idempotency-Key
// namespaces and erasure, and what Ctrl-C prints.

const KEY = 'edges-key-0123456789abcdef';
const photo = readFixture(darknetDir, 'dog.jpg');
const upload = (url: string, headers: Record<string, string>) => fetch(`${url}/v1/images?detect=faces`, { method: 'POST', body: new Uint8Array(photo), headers: { 'content-type': 'image/jpeg', ...headers } });

function batch(url: string, key: string, files: number): Promise<Response> {
  const form = new FormData();
  for (let i = 0; i < files; i++) form.append('files', new Blob([new Uint8Array(photo)]), `f${i}.jpg`);
  return fetch(`${url}/v1/images:batch?detect=faces`, { method: 'POST', body: form, headers: { 'idempotency-key': key } });
}

describe('HTTP edges (AUTH=off)', () => {
  let server: TestNode;
  before(async () => {
    server = await startTestNode({}, 'serve', { POOL_THREADS: '1' });
  });
  after(async () => server.close());

  test('HEAD on a GET route answers its status and headers without a body (was 405)', async () => {
    for (const [p, status] of [['/v1/health', 200], ['/openapi.json', 200], ['/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA', 404], ['/docs', 200]] as const) {
      const get = await fetch(`${server.url}${p}`);
      const getBody = Buffer.from(await get.arrayBuffer());
      const raw = await rawRequest(server.node.port!, (s) => s.write(`HEAD ${p} HTTP/1.1\r\nHost: x\r\n\r\n`), 3000);
      assert.match(raw.head, new RegExp(`^HTTP/1\\.1 ${status}`), `${p}: ${raw.head}`);
      assert.equal(Number(/content-length: (\d+)/i.exec(raw.text)?.[1]), getBody.length, `${p}: Content-Length as the GET's`);
      assert.equal(raw.text.split('\r\n\r\n')[1], '', `${p}: no body`);
      assert.equal(/content-type: ([^\r]+)/i.exec(raw.text)?.[1], get.headers.get('content-type'));
    }
    const put = await fetch(`${server.url}/v1/health`, { method: 'PUT' });
    assert.equal(put.headers.get('allow'), 'GET, HEAD');
  });

  test('/docs/ redirects to /docs (was 404)', async () => {
    const res = await fetch(`${server.url}/docs/`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/docs');
  });

  test('a single upload with key k#1 does not replay file 2 of a batch sent with key k', async () => {
    const sent = await batch(server.url, 'k', 2);
    assert.equal(sent.status, 202);
    const jobs = (await sent.json()).jobs.map((j: { job_id: string }) => j.job_id);
    const single = await upload(server.url, { 'idempotency-key': 'k#1' });
    assert.equal(single.status, 202);
    assert.equal(single.headers.get('idempotent-replayed'), null, 'a new job, not a replay');
    const id = (await single.json()).job_id;
    assert.ok(!jobs.includes(id), `k#1 made ${id}, the batch made ${jobs}`);
    const again = await batch(server.url, 'k', 2);
    assert.deepEqual((await again.json()).jobs.map((j: { job_id: string }) => j.job_id), jobs, 'the batch itself still replays');
  });

  test('after DELETE, the job\'s Idempotency-Key makes a new job (was 409 IDEMPOTENCY_IN_PROGRESS for 24 h)', async () => {
    const first = await (await upload(server.url, { 'idempotency-key': 'erase-me' })).json();
    await waitForJob(server.url, first.job_id);
    assert.equal((await fetch(`${server.url}/v1/jobs/${first.job_id}`, { method: 'DELETE' })).status, 204);
    const again = await upload(server.url, { 'idempotency-key': 'erase-me' });
    const body = await again.json();
    assert.equal(again.status, 202, JSON.stringify(body));
    assert.notEqual(body.job_id, first.job_id);
    const replay = await upload(server.url, { 'idempotency-key': 'erase-me' });
    assert.equal((await replay.json()).job_id, body.job_id, 'the key now names the new job');
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  });
});

describe('/v1/health with AUTH=on', () => {
  let server: TestNode;
  before(async () => {
    server = await startTestNode({ auth: 'on', apiKeys: `acme:${KEY}` }, 'serve', { POOL_THREADS: '1' });
  });
  after(async () => server.close());

  test('is open, and names the store\'s kind but not its path', async () => {
    const res = await fetch(`${server.url}/v1/health`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.storage, 'local');
    assert.ok(!JSON.stringify(body).includes(server.dataDir), JSON.stringify(body));
  });
});

describe('Ctrl-C', () => {
  test('SIGINT prints one line saying the server is stopping, then it exits 0', async () => {
    const port = await freePort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-sigint-'));
    const child = spawn(process.execPath, [path.join(packageRoot, 'dist', 'src', 'cli.js'), 'serve'], {
      env: { ...process.env, PORT: String(port), MODEL_DIR: modelDir, MODEL_PULL_ON_START: 'false', DATA_DIR: dataDir, LOG_LEVEL: 'error', POOL_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const deadline = Date.now() + 60_000;
    while (!(await fetch(`http://127.0.0.1:${port}/v1/ready`).then((r) => r.ok, () => false))) {
      assert.ok(Date.now() < deadline, `not ready: ${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(output, '', 'nothing printed at LOG_LEVEL=error before the signal');
    child.kill('SIGINT');
    assert.equal(await exited, 0, output);
    assert.match(output, /^pixveil: stopping \(Ctrl-C\): draining jobs in hand for up to \d+ s/m);
    assert.equal(output.trim().split('\n').length, 1, output);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});
