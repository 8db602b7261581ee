import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMultipart } from '../../src/ingest/multipart.js';

const limits = { maxFiles: 1, maxFileBytes: 10_000_000, fields: ['file'] };
const head = '--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n';

test('truncated, unterminated and malformed multipart bodies reject with BAD_MULTIPART and leave no stream error unhandled', async () => {
  const uncaught: Error[] = [];
  const listener = (err: Error) => uncaught.push(err);
  process.prependListener('uncaughtException', listener);
  try {
    const bodies = [
      Buffer.concat([Buffer.from(head), Buffer.alloc(10, 1)]),
      Buffer.concat([Buffer.from(head), Buffer.alloc(100_000, 1)]),
      Buffer.concat([Buffer.from(head), Buffer.alloc(100, 1), Buffer.from('\r\n--b')]),
      Buffer.from('--b\r\nContent-Disposition: form-data; name="file"'),
    ];
    for (const body of bodies) {
      await assert.rejects(parseMultipart('multipart/form-data; boundary=b', body, limits), (err: { code?: string }) => err.code === 'BAD_MULTIPART');
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    process.removeListener('uncaughtException', listener);
  }
  assert.deepEqual(uncaught.map((e) => e.message), []);
});

test('a complete body still parses', async () => {
  const body = Buffer.concat([Buffer.from(head), Buffer.from('abc'), Buffer.from('\r\n--b--\r\n')]);
  const files = await parseMultipart('multipart/form-data; boundary=b', body, limits);
  assert.equal(files.length, 1);
  assert.equal(files[0].data.toString(), 'abc');
});
