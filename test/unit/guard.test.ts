import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guarded, unexpectedError } from '../../src/ingest/guard.js';
import { httpStatusOf } from '../../src/ingest/http-status.js';
import { createLogger } from '../../src/observability/logger.js';
import { Writable } from 'node:stream';

test('guarded: sync throws and rejected promises go to the failure handler, never out of the callback', async () => {
  const seen: string[] = [];
  const onFailure = (err: unknown, name: string) => seen.push(`${name}: ${(err as Error).message}`);
  const sync = guarded((name: string) => {
    throw new Error(`sync ${name}`);
  }, onFailure);
  const async = guarded(async (name: string) => {
    await Promise.resolve();
    throw new Error(`async ${name}`);
  }, onFailure);
  assert.doesNotThrow(() => sync('a'));
  assert.doesNotThrow(() => async('b'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(seen, ['a: sync a', 'b: async b']);

  const brokenHandler = guarded(() => {
    throw new Error('first');
  }, () => {
    throw new Error('the failure handler itself fails (socket gone)');
  });
  assert.doesNotThrow(() => brokenHandler());
});

test('unexpectedError logs the stack under a request id and gives the client only that id', () => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(chunk.toString()), done()) });
  const e = unexpectedError(createLogger('debug', {}, sink), 'GET /v1/jobs/:id', new TypeError('secret internals'));
  assert.equal(e.code, 'INTERNAL');
  assert.equal(httpStatusOf(e), 500);
  const id = e.headers['X-Request-Id'];
  assert.match(id, /^[0-9a-f]{16}$/);
  assert.ok(e.message.includes(id));
  assert.ok(!e.message.includes('secret internals'));
  const logged = JSON.parse(lines.join(''));
  assert.equal(logged.request_id, id);
  assert.match(logged.stack, /TypeError: secret internals/);
});
