// Run by scripts/gpu-check.sh with the node it unpacked (no node_modules, no sharp, no tsx: the
// images are synthetic). Compares every CUDA stage of the addon with its CPU version byte for byte,
// times both (CUDA times include the host↔device copies the addon makes per call), and runs the
// service's own PIXEL_OPS start-up check (src/addon/choose.ts, compiled) on this addon.
//   node scripts/gpu-compare.mjs --addon <pixveil_native.node> --chooser <choose.js> [--dry-run]
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { addon: { type: 'string' }, chooser: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } } });
if (!values.addon || !values.chooser) {
  console.error('gpu-compare: --addon and --chooser are required');
  process.exit(2);
}
const dryRun = values['dry-run'];
const addon = createRequire(import.meta.url)(path.resolve(values.addon));
const status = addon.cudaAvailable();
console.log('cudaAvailable():', JSON.stringify(status));
const onGpu = status.compiled && status.available;
if (!onGpu && !dryRun) {
  console.error(`gpu-compare: no CUDA to compare (${status.compiled ? status.reason : 'the addon was built without CUDA'})`);
  process.exit(1);
}

let seed = 7;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
/** Gradients, stripes and noise: edges and texture for the blur to act on. */
function image(width, height, channels) {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * channels;
      data[p] = (x * 255) / width;
      data[p + 1] = 128 + 100 * Math.sin(x / 7) * Math.cos(y / 11);
      data[p + 2] = random() * 255;
      if (channels === 4) data[p + 3] = (x + y) & 255;
    }
  }
  return { data, width, height, channels };
}

/**
 * Ten face-sized boxes (80–170 px, as a crowded frame has) plus clipped, fractional, 1 px, thin and
 * full-width ones, and two wide enough (blur radius >= 16) to be blurred at reduced size and scaled
 * back up (blur.h, DecimationFor).
 */
function regionsFor(width, height) {
  const faces = Array.from({ length: 10 }, (_, i) => [100 + (i % 5) * (width / 5.5), 200 + Math.floor(i / 5) * (height / 2.4), 80 + i * 10, 100 + i * 8]);
  const awkward = [[-30.5, -20, 90, 110], [width - 40, height - 30, 120, 90], [700.3, 10.6, 1, 1], [40, 600, 3, 60], [0, 0, width, 60]];
  const large = [[width * 0.15, height * 0.14, width * 0.47, height * 0.65], [width * 0.88, 20, width * 0.11, height * 0.95]];
  return { all: Float64Array.from([...faces, ...awkward, ...large].flat()), faces: Float64Array.from(faces.flat()) };
}

function median(fn, runs) {
  fn();
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return samples.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

const rows = [];
let failures = 0;
const cases = [];
for (const channels of [3, 4]) {
  for (const style of ['gaussian', 'pixelate', 'solid']) {
    for (const shape of ['box', 'ellipse']) cases.push({ width: 1920, height: 1080, channels, style, shape, which: 'all' });
  }
}
// What the GPU node budget reads: ten faces per frame, 1080p and 4K.
cases.push({ width: 1920, height: 1080, channels: 3, style: 'gaussian', shape: 'ellipse', which: 'faces' });
cases.push({ width: 3840, height: 2160, channels: 3, style: 'gaussian', shape: 'ellipse', which: 'faces' });

const sources = new Map();
for (const c of cases) {
  const key = `${c.width}x${c.height}x${c.channels}`;
  if (!sources.has(key)) sources.set(key, image(c.width, c.height, c.channels));
  const source = sources.get(key);
  const regions = regionsFor(c.width, c.height)[c.which];
  const run = (useCuda) => {
    const data = source.data.slice();
    const backend = addon.blurRegions({ ...source, data, regions, style: c.style, shape: c.shape, useCuda });
    return { data, backend };
  };
  const cpu = run(false);
  const gpu = run(true);
  let differing = 0;
  for (let i = 0; i < cpu.data.length; i++) if (cpu.data[i] !== gpu.data[i]) differing++;
  // Without a GPU, useCuda must fall back to the CPU with the same bytes; with one, it must run there.
  const expectedBackend = onGpu ? 'cuda' : 'cpu';
  if (gpu.backend !== expectedBackend || differing) failures++;
  const scratch = source.data.slice();
  const runs = c.width > 2000 ? 10 : 20;
  rows.push({
    stage: `blur ${c.style} ${c.shape} ${c.channels}ch ${c.width}×${c.height} ${c.which === 'faces' ? '10 faces' : '15 regions'}`,
    backend: gpu.backend,
    'differing bytes': differing,
    'cpu ms': median(() => addon.blurRegions({ ...source, data: scratch, regions, style: c.style, shape: c.shape, useCuda: false }), runs).toFixed(3),
    'cuda ms': onGpu ? median(() => addon.blurRegions({ ...source, data: scratch, regions, style: c.style, shape: c.shape, useCuda: true }), runs).toFixed(3) : '—',
  });
}
console.table(rows);

// The service's own start-up check, on this addon: PIXEL_OPS=cuda must pick CUDA on a GPU and be
// refused without one; auto must pick CUDA or the CPU accordingly.
const { choosePixelOps } = await import(pathToFileURL(path.resolve(values.chooser)).href);
const { createNativeOps } = await import(pathToFileURL(path.resolve(path.dirname(values.chooser), 'native.js')).href);
const load = () => ({ ok: true, addon });
const strict = choosePixelOps('cuda', load, {}, createNativeOps);
const auto = choosePixelOps('auto', load, {}, createNativeOps);
console.log(`PIXEL_OPS=cuda → ${strict.error ? `refused: ${strict.error}` : strict.implementation}; PIXEL_OPS=auto → ${auto.implementation}${auto.note ? ` (${auto.note})` : ''}`);
if (onGpu ? strict.implementation !== 'cuda' || strict.error || auto.implementation !== 'cuda' : !strict.error || auto.implementation !== 'native') failures++;

if (!onGpu) {
  console.log(`gpu-check --dry-run: ${failures ? `FAILED, ${failures} check(s)` : 'preparation, Node, the addon build, the comparison script and the start-up check ran; CUDA itself was not compared (no GPU here)'}`);
} else {
  console.log(failures ? `gpu-check: FAILED, ${failures} comparison(s) differ or did not run on CUDA` : 'gpu-check: every CUDA stage gives the CPU\'s bytes, and PIXEL_OPS=cuda passes its start-up check');
}
process.exit(failures ? 1 : 0);
