// ALLOCATOR_TUNING: glibc keeps per-image buffers in its heap, so a thread that allocates and frees
// megabyte buffers image after image stops faulting in fresh pages for each.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { ALLOCATOR_THRESHOLDS, tuneAllocator } from '../../src/addon/allocator.js';
import { loadNativeAddon, type NativeAddon } from '../../src/addon/native.js';

const allocatorModule = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'addon', 'allocator.js');
const glibc = Boolean((process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime);

/** The child starts with glibc's own defaults whatever this shell set. */
function withoutMallocSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { MALLOC_MMAP_THRESHOLD_: _m, MALLOC_TRIM_THRESHOLD_: _t, GLIBC_TUNABLES: _g, ...rest } = env;
  return rest;
}

/**
 * Minor page faults per round in a worker thread (as a pool thread) that allocates, fills and drops
 * one buffer a round, each a megabyte larger than the last (8 to 27 MB: a corpus of growing images).
 * glibc's own rule maps each with mmap, since each is larger than any freed before, so every page is
 * fresh; tuned, they come from the heap, which grows by the one new megabyte.
 */
function faultsPerRound(tuned: boolean): number {
  const worker = `
    const { parentPort } = require('node:worker_threads');
    const fs = require('node:fs');
    const faults = () => Number(fs.readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ')[7]);
    const round = (mb) => { let held = Buffer.allocUnsafeSlow(mb << 20).fill(7); held = undefined; globalThis.gc(); };
    round(4);
    const before = faults();
    for (let i = 0; i < 20; i++) round(8 + i);
    parentPort.postMessage((faults() - before) / 20);`;
  const main = `
    const { Worker } = require('node:worker_threads');
    import(${JSON.stringify(allocatorModule)}).then(({ tuneAllocator }) => {
      const tuning = tuneAllocator(${tuned}, {});
      if (${tuned} && !tuning.applied) throw new Error(tuning.detail);
      new Worker(${JSON.stringify(worker)}, { eval: true }).on('message', (n) => console.log(n));
    });`;
  return Number(execFileSync(process.execPath, ['--expose-gc', '-e', main], { encoding: 'utf8', env: withoutMallocSettings(process.env) }).trim());
}

test('tuned, a thread that allocates image-sized buffers over and over faults in far fewer fresh pages', { skip: glibc ? false : 'not glibc: tuning is a no-op' }, () => {
  const defaults = faultsPerRound(false);
  const tuned = faultsPerRound(true);
  assert.ok(tuned < defaults / 2, `faults per round: tuned ${tuned}, glibc defaults ${defaults}`);
});

test('nothing is tuned when the setting is off, when the environment sets malloc itself, or without the addon', () => {
  assert.deepEqual(tuneAllocator(false, {}), { applied: false, detail: 'ALLOCATOR_TUNING=false: glibc defaults' });
  assert.match(tuneAllocator(true, { MALLOC_TRIM_THRESHOLD_: '1000' }).detail, /MALLOC_MMAP_THRESHOLD_\/MALLOC_TRIM_THRESHOLD_ in the environment decides/);
  assert.match(tuneAllocator(true, { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).detail, /GLIBC_TUNABLES in the environment decides/);
  assert.equal(tuneAllocator(true, { GLIBC_TUNABLES: 'glibc.cpu.hwcaps=-AVX512F' }, () => ({ ok: false, reason: 'x is not built' })).detail, 'glibc defaults: x is not built');
  let given: unknown;
  const addon = { tuneAllocator: (o: unknown) => ((given = o), { applied: true, reason: 'glibc mallopt' }) } as unknown as NativeAddon;
  assert.deepEqual(tuneAllocator(true, {}, () => ({ ok: true, addon })), { applied: true, detail: 'mmap threshold 32 MiB, trim threshold 256 MiB' });
  assert.deepEqual(given, ALLOCATOR_THRESHOLDS);
  const refused = { tuneAllocator: () => ({ applied: false, reason: 'glibc refused a threshold' }) } as unknown as NativeAddon;
  assert.equal(tuneAllocator(true, {}, () => ({ ok: true, addon: refused })).detail, 'glibc defaults: glibc refused a threshold');
  assert.ok(loadNativeAddon().ok, 'the addon is built here');
});
