// Pool threads name themselves (`pool-<id>`, what `top -H` shows), so the bench's per-thread CPU
// split (bench/thread-cpu.ts) can tell them from Node's, libuv's and libvips's threads.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DEFAULT_THRESHOLDS, type JobOptions } from '../../src/job.js';
import { ImagePool } from '../../src/pool/image-pool.js';
import { classify, readThreads, startCpuSplit } from '../../bench/thread-cpu.js';
import { darknetDir } from '../../harness/fixtures.js';
import { testPoolOptions } from '../../harness/pool.js';

const options: JobOptions = { blur: 'gaussian', shape: 'box', detect: { faces: true, plates: true, objects: true }, thresholds: { ...DEFAULT_THRESHOLDS }, blurClasses: [], format: 'same', quality: 85 };

test('pool threads are named pool-<id> and the CPU split counts their work as pool work', { skip: process.platform !== 'linux' && 'needs /proc' }, async () => {
  const pool = new ImagePool(testPoolOptions({ threads: 2, concurrencyPerThread: 1, models: { faces: 'ultraface-rfb-320', plates: 'hyperlpr-y5fu-320', objects: 'yolox-nano' } }));
  try {
    await pool.warmUp();
    const groups = classify(readThreads(process.pid), process.pid);
    const poolThreads = readThreads(process.pid).filter((t) => groups.get(t.tid) === 'pool');
    assert.equal(poolThreads.length, 2, 'one pool thread per POOL_THREADS');
    assert.ok(poolThreads.every((t) => /^pool-\d+$/.test(t.name)));
    assert.equal(groups.get(process.pid), 'main');

    const split = startCpuSplit(process.pid);
    const photo = fs.readFileSync(path.join(darknetDir, 'person.jpg'));
    await Promise.all([0, 1, 2, 3].map(async () => assert.ok((await pool.run(Buffer.from(photo), options)).ok)));
    const result = split.finish(4);
    const byGroup = Object.fromEntries(result.groups.map((g) => [g.group, g]));
    assert.ok(byGroup.pool.cpu_ms_per_image > 5, 'the models ran on the pool threads');
    assert.ok(byGroup.pool.cpu_ms_per_image > byGroup.main.cpu_ms_per_image, 'the main thread only hands out the work');
    assert.ok(result.process_cpu_ms_per_image >= byGroup.pool.cpu_ms_per_image);
  } finally {
    await pool.close();
  }
});
