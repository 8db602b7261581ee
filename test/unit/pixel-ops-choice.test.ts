// PIXEL_OPS: which implementation the per-pixel stages get. The GPU cases use a stand-in addon
// (this machine has no GPU): its "CUDA" blur is the TypeScript blur, exact or with one byte off,
// so the start-up check's verdict is what is under test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { choosePixelOps as choose, pixelOpsMode, type PixelOpsMode } from '../../src/addon/choose.js';
import { blurRegionsFallback } from '../../src/addon/fallback/blur.js';
import { createNativeOps, type CudaStatus, type NativeAddon, type NativeLoad } from '../../src/addon/native.js';
import type { BlurRegion, BlurSpec, RawImage } from '../../src/addon/types.js';
import { loadNativeAddon } from '../../src/addon/native.js';
import { packageRoot } from '../../src/paths.js';

type BlurOptions = Parameters<NativeAddon['blurRegions']>[0];

/** The TypeScript table only needs to be told apart here; the native one is the real wrapper over the stand-in. */
const typescriptTable = { table: 'typescript' };
const choosePixelOps = (mode: PixelOpsMode, load: () => NativeLoad) => choose(mode, load, typescriptTable, createNativeOps);

function standIn(cuda: CudaStatus, gpuBlur: 'exact' | 'one byte off' | 'throws'): { load: () => NativeLoad; calls: { cuda: number; cpu: number } } {
  const calls = { cuda: 0, cpu: 0 };
  const blurRegions = (o: BlurOptions) => {
    const image: RawImage = { data: o.data, width: o.width, height: o.height, channels: o.channels as 3 | 4 };
    const regions: BlurRegion[] = [];
    for (let i = 0; i < o.regions.length; i += 4) regions.push({ x: o.regions[i], y: o.regions[i + 1], width: o.regions[i + 2], height: o.regions[i + 3] });
    const onGpu = o.useCuda && cuda.available;
    if (onGpu && gpuBlur === 'throws') throw new Error('cudaMalloc(image): out of memory');
    blurRegionsFallback(image, regions, { style: o.style, shape: o.shape } as BlurSpec);
    if (onGpu && gpuBlur === 'one byte off') o.data[7] ^= 1;
    calls[onGpu ? 'cuda' : 'cpu']++;
    return onGpu ? ('cuda' as const) : ('cpu' as const);
  };
  const addon = { abiVersion: 2, blurRegions, cudaAvailable: () => cuda } as unknown as NativeAddon;
  return { load: () => ({ ok: true, addon }), calls };
}

const noGpu: CudaStatus = { compiled: true, deviceCount: 0, available: false, reason: 'no CUDA device is visible' };
const cpuBuild: CudaStatus = { compiled: false, deviceCount: 0, available: false, reason: 'the addon was built without CUDA' };
const gpu: CudaStatus = { compiled: true, deviceCount: 1, available: true, reason: null };

test('PIXEL_OPS values, and PIXVEIL_NATIVE=off as the older spelling of ts', () => {
  assert.deepEqual(pixelOpsMode({}), { mode: 'auto' });
  assert.deepEqual(pixelOpsMode({ PIXEL_OPS: 'cuda' }), { mode: 'cuda' });
  assert.deepEqual(pixelOpsMode({ PIXVEIL_NATIVE: 'off' }), { mode: 'ts' });
  assert.deepEqual(pixelOpsMode({ PIXEL_OPS: 'native', PIXVEIL_NATIVE: 'off' }), { mode: 'native' });
  assert.match(pixelOpsMode({ PIXEL_OPS: 'gpu' }).error ?? '', /^Expected one of auto, cuda, native, ts for PIXEL_OPS but received "gpu"$/);
});

test('auto: the CUDA blur when a GPU answers and matches the CPU at start, and blurs run on it afterwards', () => {
  const addon = standIn(gpu, 'exact');
  const choice = choosePixelOps('auto', addon.load);
  assert.equal(choice.implementation, 'cuda');
  assert.equal(choice.error, undefined);
  assert.ok(addon.calls.cuda >= 6, 'the start-up check ran every style and shape on the GPU');
  const before = addon.calls.cuda;
  const image: RawImage = { data: new Uint8Array(32 * 32 * 3).fill(90), width: 32, height: 32, channels: 3 };
  assert.ok('blurRegions' in choice.ops);
  choice.ops.blurRegions(image, [{ x: 2, y: 2, width: 10, height: 10 }], { style: 'pixelate', shape: 'box' });
  assert.equal(addon.calls.cuda, before + 1);
});

test('auto without a GPU, or on a CPU-only build: the addon on the CPU, nothing said', () => {
  for (const status of [noGpu, cpuBuild]) {
    const choice = choosePixelOps('auto', standIn(status, 'exact').load);
    assert.equal(choice.implementation, 'native');
    assert.equal(choice.error, undefined);
    assert.equal(choice.note, undefined);
  }
});

test('auto with a GPU whose blur differs from the CPU or fails: the CPU, and a note saying why', () => {
  const off = choosePixelOps('auto', standIn(gpu, 'one byte off').load);
  assert.equal(off.implementation, 'native');
  assert.match(off.note ?? '', /CUDA blur not used \(the CUDA blur \(gaussian, box\) differs from the CPU in 1 bytes of its start-up check image\)/);
  const failing = choosePixelOps('auto', standIn(gpu, 'throws').load);
  assert.equal(failing.implementation, 'native');
  assert.match(failing.note ?? '', /failed its start-up check: native blurRegions failed: cudaMalloc\(image\): out of memory/);
});

test('PIXEL_OPS=cuda that cannot run is an error for start-up, never a quiet CPU run', () => {
  assert.match(choosePixelOps('cuda', standIn(noGpu, 'exact').load).error ?? '', /^PIXEL_OPS=cuda but no CUDA device answers \(no CUDA device is visible\); set PIXEL_OPS=auto or native/);
  assert.match(choosePixelOps('cuda', standIn(cpuBuild, 'exact').load).error ?? '', /^PIXEL_OPS=cuda but the native addon was built without CUDA/);
  assert.match(choosePixelOps('cuda', standIn(gpu, 'one byte off').load).error ?? '', /differs from the CPU/);
  assert.equal(choosePixelOps('cuda', standIn(gpu, 'exact').load).implementation, 'cuda');
  const unbuilt = () => ({ ok: false, reason: 'build/Release/pixveil_native.node is not built' }) as NativeLoad;
  assert.match(choosePixelOps('cuda', unbuilt).error ?? '', /^PIXEL_OPS=cuda needs the native addon, but build\/Release\/pixveil_native\.node is not built/);
  assert.match(choosePixelOps('native', unbuilt).error ?? '', /^PIXEL_OPS=native needs the native addon/);
  assert.equal(choosePixelOps('auto', unbuilt).implementation, 'typescript');
  assert.equal(choosePixelOps('auto', unbuilt).ops, typescriptTable);
  assert.equal(choosePixelOps('ts', standIn(gpu, 'exact').load).implementation, 'typescript');
  assert.equal(choosePixelOps('native', standIn(gpu, 'exact').load).implementation, 'native');
});

test('the real addon on this machine: auto picks what the machine has, and the choice reaches pixelOps', () => {
  const loaded = loadNativeAddon();
  const status = loaded.ok ? loaded.addon.cudaAvailable() : undefined;
  const expected = !loaded.ok ? 'typescript' : status!.available ? 'cuda' : 'native';
  assert.equal(choosePixelOps('auto', loadNativeAddon).implementation, expected);
  const script = "const { pixelOps } = await import('./src/addon/index.ts'); console.log(pixelOps.implementation);";
  const run = (env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: packageRoot, env: { ...process.env, PIXVEIL_NATIVE: '', ...env }, encoding: 'utf8' });
  assert.equal(run({ PIXEL_OPS: 'auto' }).stdout.trim(), expected);
  assert.equal(run({ PIXEL_OPS: 'ts' }).stdout.trim(), 'typescript');
  assert.equal(run({ PIXEL_OPS: 'ts' }).stderr, '');
});
