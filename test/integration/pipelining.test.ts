import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startLoggedNode, type LoggedNode } from '../../harness/auth.js';
import { darknetDir, readFixture } from '../../harness/fixtures.js';
import { rawRequest } from '../../harness/raw-http.js';
import { uploadFile, waitForJob } from '../../harness/server.js';

// HTTP/1.1 pipelining (README, "HTTP API", the paragraph on uWS's own answers): uWS answers pipelined
// requests in order while each answer is ready at once, and closes the connection, answering
// neither, when a request arrives behind one still being answered. Issue 21 finding 8.

const get = (p: string) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`;
const photo = readFixture(darknetDir, 'dog.jpg');
const upload = (key?: string) => Buffer.concat([Buffer.from(`POST /v1/images HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n${key ? `Idempotency-Key: ${key}\r\n` : ''}Content-Length: ${photo.length}\r\n\r\n`), photo]);
const statusLines = (text: string) => text.match(/HTTP\/1\.1 \d{3}[^\r]*/g) ?? [];

describe('pipelined requests are answered in order, or the connection closes without a job left behind', () => {
  let server: LoggedNode;
  let port: number;
  let finishedId: string;

  before(async () => {
    server = await startLoggedNode({}, { POOL_THREADS: '1' });
    port = server.node.port!;
    const res = await uploadFile(server.url, photo, 'dog.jpg', '?detect=faces');
    finishedId = (await res.json()).job_id;
    await waitForJob(server.url, finishedId);
  });
  after(async () => server.close());

  const originals = () => fs.readdirSync(path.join(server.dataDir), { recursive: true }).filter((f) => String(f).includes('original')).length;

  test('requests answered at once are answered in order on one connection', async () => {
    const result = await rawRequest(port, (s) => s.write(get('/v1/health') + get('/v1/jobs/nope') + get('/v1/health') + 'GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), 3000);
    assert.deepEqual(statusLines(result.text), ['HTTP/1.1 200 OK', 'HTTP/1.1 404 Not Found', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
  });

  test('behind an answer that waits (readiness, a stored result), the connection closes at once and the server goes on', async () => {
    for (const pair of [[get('/v1/ready'), get('/v1/health')], [get(`/v1/jobs/${finishedId}/result`), get('/v1/health')]]) {
      const result = await rawRequest(port, (s) => s.write(pair.join('')), 5000);
      assert.ok(result.closed, `closed: ${pair[0].split('\r\n')[0]}`);
      assert.ok(result.ms < 3000, `closed after ${result.ms} ms`);
      assert.equal(result.text, '', 'neither request is answered (the first is not half-written)');
    }
    // An in-memory job lookup is answered without waiting: both come back, in order.
    const lookup = await rawRequest(port, (s) => s.write(get(`/v1/jobs/${finishedId}`) + 'GET /v1/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), 5000);
    assert.deepEqual(statusLines(lookup.text), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    assert.equal((await fetch(`${server.url}/v1/ready`)).status, 200);
  });

  test('three pipelined uploads leave no job behind; with an Idempotency-Key the first is kept, audited with its id and replayed', async () => {
    const before = (await (await fetch(`${server.url}/v1/stats`)).json()).queue;
    const storedBefore = originals();
    const plain = await rawRequest(port, (s) => s.write(Buffer.concat([upload(), upload(), upload()])), 5000);
    assert.ok(plain.closed && plain.text === '', plain.text.slice(0, 200));
    await new Promise((r) => setTimeout(r, 1000));
    const afterPlain = (await (await fetch(`${server.url}/v1/stats`)).json()).queue;
    assert.equal(afterPlain.waiting + afterPlain.processing + afterPlain.completed + afterPlain.failed, before.waiting + before.processing + before.completed + before.failed, 'no orphan job');
    assert.equal(originals(), storedBefore, 'no orphan original in storage');

    const logged = server.logs.length;
    const keyed = await rawRequest(port, (s) => s.write(Buffer.concat([upload('pipe-1'), upload('pipe-2'), upload('pipe-3')])), 5000);
    assert.ok(keyed.closed && keyed.text === '');
    await new Promise((r) => setTimeout(r, 1000));
    const lost = server.logs.slice(logged).map((l) => JSON.parse(l)).filter((l) => l.audit && l.route === '/v1/images' && l.status === 499);
    assert.equal(lost.length, 1, JSON.stringify(server.logs.slice(logged)));
    assert.match(String(lost[0].job_id), /^[0-9A-Za-z_-]{8,}$/, 'the audit line names the job the lost answer would have named');
    const retry = await fetch(`${server.url}/v1/images`, { method: 'POST', body: new Uint8Array(photo), headers: { 'content-type': 'image/jpeg', 'idempotency-key': 'pipe-1' } });
    assert.equal(retry.status, 202);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.equal((await retry.json()).job_id, lost[0].job_id);
  });
});
