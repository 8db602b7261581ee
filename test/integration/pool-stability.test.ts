import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { ImagePool } from '../../src/pool/image-pool.js';
import { ownedArrayBuffer } from '../../src/pool/owned-array-buffer.js';
import { darknetDir, facesDir, platesDir } from '../../harness/fixtures.js';
import { everyDetectorOptions, testPoolOptions } from '../../harness/pool.js';

const options = everyDetectorOptions;

function createPool(): ImagePool {
  return new ImagePool(testPoolOptions({ threads: 2, concurrencyPerThread: 2, models: { faces: 'ultraface-rfb-320', plates: 'hyperlpr-y5fu-320', objects: 'yolox-nano' } }));
}

/** Real photos in every accepted format and a range of sizes, plus a few broken files. */
async function mixedCorpus(): Promise<Array<{ name: string; bytes: Buffer; broken: boolean }>> {
  const photos = [
    ...fs.readdirSync(facesDir).map((f) => path.join(facesDir, f)),
    ...fs.readdirSync(platesDir).map((f) => path.join(platesDir, f)),
    path.join(darknetDir, 'dog.jpg'),
    path.join(darknetDir, 'person.jpg'),
  ].filter((f) => /\.(jpe?g|png)$/i.test(f));
  const corpus = [];
  for (const [i, file] of photos.entries()) {
    const original = fs.readFileSync(file);
    corpus.push({ name: path.basename(file), bytes: original, broken: false });
    const width = [320, 1280, 1920][i % 3];
    corpus.push({ name: `${path.basename(file)}@${width}.webp`, bytes: await sharp(original).resize({ width }).webp({ quality: 80 }).toBuffer(), broken: false });
    corpus.push({ name: `${path.basename(file)}@gray.png`, bytes: await sharp(original).resize({ width: 640 }).greyscale().png().toBuffer(), broken: false });
  }
  corpus.push({ name: 'truncated.jpg', bytes: fs.readFileSync(photos[0]).subarray(0, 2000), broken: true });
  corpus.push({ name: 'garbage.jpg', bytes: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(5000, 7)]), broken: true });
  return corpus;
}

test('the pool transfers buffers instead of copying them', async () => {
  const bytes = fs.readFileSync(path.join(darknetDir, 'dog.jpg'));
  const owned = Buffer.from(ownedArrayBuffer(bytes));
  const pool = createPool();
  try {
    const result = await pool.run(owned, options);
    assert.equal(owned.buffer.byteLength, 0, 'the input ArrayBuffer was detached by the transfer');
    assert.ok(result.ok);
    assert.ok(result.image.byteLength > 0);
  } finally {
    await pool.close();
  }
});

test('200 mixed images in a row: every good one processed, every broken one a clean error, one session per model per thread', async () => {
  const corpus = await mixedCorpus();
  const pool = createPool();
  try {
    const before = await pool.warmUp();
    let ok = 0;
    let failed = 0;
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < 200; i++) {
      const item = corpus[i % corpus.length];
      const task = pool.run(Buffer.from(item.bytes), options).then((result) => {
        if (result.ok) {
          ok++;
          assert.ok(!item.broken, `${item.name} should have failed`);
        } else {
          failed++;
          assert.ok(item.broken, `${item.name} failed: ${result.code} ${result.message}`);
          assert.equal(result.code, 'UNDECODABLE_IMAGE');
        }
      });
      const tracked = task.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= 8) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    assert.equal(ok + failed, 200);
    assert.ok(failed >= 2);
    const afterwards = await pool.warmUp();
    const threads = new Set([...before, ...afterwards].map((r) => r.threadId));
    assert.equal(threads.size, 2, 'no thread died and was replaced');
    for (const report of afterwards) assert.equal(report.sessions, 3, `thread ${report.threadId} created ${report.sessions} sessions`);
  } finally {
    await pool.close();
  }
});
