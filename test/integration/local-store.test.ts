// The local store's writes: whole objects appear at once (temp file + rename), from memory or from a file.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { isPixveilError } from '../../src/errors.js';
import { LocalObjectStore } from '../../src/storage/local.js';
import type { ObjectStore } from '../../src/storage/storage.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

test('putFile stores a copy of the file (the caller keeps its own), readable through get and getStream, with no temp file left', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pixveil-local-putfile-'));
  try {
    const store: ObjectStore = new LocalObjectStore(path.join(dir, 'data'));
    const file = path.join(dir, 'output.mp4');
    const body = randomBytes(3 * 1024 * 1024 + 5);
    await fs.writeFile(file, body);
    await store.putFile('processed/abc.1.mp4', file, 'video/mp4');
    assert.equal(sha256(await store.get('processed/abc.1.mp4')), sha256(body));
    const { stream, size, contentType } = await store.getStream('processed/abc.1.mp4');
    stream.destroy();
    assert.equal(size, body.length);
    assert.equal(contentType, 'video/mp4');
    assert.equal(sha256(await fs.readFile(file)), sha256(body), 'the source file is untouched');
    assert.deepEqual(await fs.readdir(path.join(dir, 'data', 'processed')), ['abc.1.mp4']);

    // A file that is not there: STORAGE_ERROR, and neither the object nor a temp file appears.
    await assert.rejects(store.putFile('processed/def.1.mp4', path.join(dir, 'missing.mp4'), 'video/mp4'), (err: unknown) => isPixveilError(err) && err.code === 'STORAGE_ERROR');
    assert.deepEqual(await fs.readdir(path.join(dir, 'data', 'processed')), ['abc.1.mp4']);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a folder removed after the store first wrote to it (an operator clearing processed/) is made again on the next write', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pixveil-local-refolder-'));
  try {
    const store: ObjectStore = new LocalObjectStore(path.join(dir, 'data'));
    await store.put('processed/a.1.jpg', Buffer.from('first'), 'image/jpeg');
    await fs.rm(path.join(dir, 'data', 'processed'), { recursive: true });
    await store.put('processed/b.1.jpg', Buffer.from('second'), 'image/jpeg');
    assert.equal((await store.get('processed/b.1.jpg')).toString(), 'second');
    await fs.rm(path.join(dir, 'data', 'processed'), { recursive: true });
    const file = path.join(dir, 'out.mp4');
    await fs.writeFile(file, 'video');
    await store.putFile('processed/c.1.mp4', file, 'video/mp4');
    assert.equal((await store.get('processed/c.1.mp4')).toString(), 'video');
    assert.deepEqual(await fs.readdir(path.join(dir, 'data', 'processed')), ['c.1.mp4']);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
