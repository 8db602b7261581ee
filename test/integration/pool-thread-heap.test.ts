// POOL_THREAD_HEAP_MB: a pool thread's heap holds ~10 MB of JavaScript, and with V8's own sizing it
// ran a full garbage collection about once per image; with the setting, a handful over a whole run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { tuneThreadHeaps } from '../../src/pool/thread-heap.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const module = (rel: string) => JSON.stringify(path.join(here, '..', '..', rel));

/** Runs an ES module script in a fresh node with `flags`; its last line of output. A file, not -e: threads inherit execArgv, and -e's script with it. */
function runScript(flags: string[], script: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-heap-'));
  try {
    const file = path.join(dir, 'child.mjs');
    fs.writeFileSync(file, script);
    return execFileSync(process.execPath, [...flags, file], { encoding: 'utf8' }).trim().split('\n').pop()!;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Full collections in one pool thread while it anonymizes `images` real photos, in a fresh process
 * (V8's flags are the process's and cannot be unset): counted after warm-up, so model loading is not.
 */
function majorCollections(threadHeapMb: number, images: number): number {
  const script = `
    import fs from 'node:fs';
    import path from 'node:path';
    const { ImagePool } = await import(${module('src/pool/image-pool.js')});
    const { testPoolOptions, everyDetectorOptions } = await import(${module('harness/pool.js')});
    const { facesDir } = await import(${module('harness/fixtures.js')});
    const photos = fs.readdirSync(facesDir).map((f) => fs.readFileSync(path.join(facesDir, f)));
    const pool = new ImagePool(testPoolOptions({ threads: 1, concurrencyPerThread: 1, threadHeapMb: ${threadHeapMb}, models: { faces: 'yunet-n', plates: 'yolov9-t-plates', objects: 'yolox-nano' } }));
    try {
      const [before] = await pool.warmUp();
      for (let i = 0; i < ${images}; i++) {
        const result = await pool.run(Buffer.from(photos[i % photos.length]), everyDetectorOptions);
        if (!result.ok) throw new Error(result.message);
      }
      const [after] = await pool.warmUp();
      console.log(after.majorCollections - before.majorCollections);
    } finally {
      await pool.close();
    }`;
  return Number(runScript([], script));
}

test('with POOL_THREAD_HEAP_MB a pool thread runs far fewer full garbage collections per image than with V8 defaults', async () => {
  const images = 40;
  const defaults = majorCollections(0, images);
  const tuned = majorCollections(64, images);
  assert.ok(defaults >= images / 4, `V8 defaults: ${defaults} full collections over ${images} images (the waste this setting removes)`);
  assert.ok(tuned <= defaults / 2, `full collections over ${images} images: tuned ${tuned}, V8 defaults ${defaults}`);
});

test('0 leaves V8 its defaults; a size is named in the start-up line', () => {
  assert.deepEqual(tuneThreadHeaps(0), { applied: false, detail: 'POOL_THREAD_HEAP_MB=0: V8 defaults' });
  assert.deepEqual(tuneThreadHeaps(64), { applied: true, detail: 'full collections from 64 MB of old space per thread' });
});

test('a process started with V8 heap flags (as the bench reruns itself) still starts its pool threads and its inference thread', () => {
  const script = `
    const { ImagePool } = await import(${module('src/pool/image-pool.js')});
    const { testPoolOptions } = await import(${module('harness/pool.js')});
    const pool = new ImagePool(testPoolOptions({ threads: 1, concurrencyPerThread: 2, threadHeapMb: 64, batch: { images: 2, waitMs: 5 }, models: { objects: 'yolox-nano' } }));
    try {
      const [report] = await pool.warmUp();
      console.log(report.ok);
    } finally {
      await pool.close();
    }`;
  assert.equal(runScript(['--initial-old-space-size=64', '--max-semi-space-size=16'], script), 'true');
});
