// The blur stage on what it really gets: every corpus photo with the regions the default detectors
// find, new addon against an older build in the same run (interleaved repetitions, medians), with
// what each photo costs: region count, pixels blurred, pixels blurred more than once (overlaps).
//   node dist/bench/blur-regions.js --baseline=<older build/Release/pixveil_native.node> [--reps=15]
// Without --baseline it times this build alone. Writes bench/results/blur-regions.json.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createNativeOps, loadNativeAddon } from '../src/addon/native.js';
import type { BlurRegion, BlurSpec, RawImage } from '../src/addon/types.js';
import { packageRoot } from '../src/paths.js';
import { decodeImage } from '../src/pipeline/decode.js';
import { corpusWithRegions, median } from './corpus-regions.js';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const reps = Number(arg('reps') ?? 15);
const baselinePath = arg('baseline');

const loaded = loadNativeAddon();
if (!loaded.ok) {
  console.error(`bench/blur-regions: ${loaded.reason}; run npm run build:native first`);
  process.exit(1);
}
const current = createNativeOps(loaded.addon);
type BlurFn = (image: RawImage, regions: BlurRegion[], spec: BlurSpec) => void;
// An older build may have another ABI version; its blurRegions takes the same options.
const baseline: BlurFn | undefined = baselinePath
  ? (image, regions, spec) => {
      const addon = createRequire(import.meta.url)(path.resolve(baselinePath));
      const flat = new Float64Array(regions.flatMap((r) => [r.x, r.y, r.width, r.height]));
      addon.blurRegions({ data: image.data, width: image.width, height: image.height, channels: image.channels, regions: flat, style: spec.style, shape: spec.shape, useCuda: false });
    }
  : undefined;

/** Pixels inside any region, and inside more than one. */
function coverage(regions: BlurRegion[], width: number, height: number) {
  const hits = new Uint8Array(width * height);
  for (const r of regions) {
    const x0 = Math.max(0, Math.floor(r.x));
    const x1 = Math.min(width, Math.ceil(r.x + r.width));
    for (let y = Math.max(0, Math.floor(r.y)); y < Math.min(height, Math.ceil(r.y + r.height)); y++) {
      for (let x = x0; x < x1; x++) hits[y * width + x] = Math.min(255, hits[y * width + x] + 1);
    }
  }
  let blurred = 0;
  let overlapped = 0;
  let sum = 0;
  for (const h of hits) {
    sum += h;
    if (h > 0) blurred++;
    if (h > 1) overlapped++;
  }
  return { blurred, overlapped, sum };
}

const photos = await corpusWithRegions();
const spec: BlurSpec = { style: 'gaussian', shape: 'box' };
const rows = [];
let totalNew = 0;
let totalOld = 0;
for (const photo of photos) {
  if (photo.regions.length === 0) continue;
  const { image } = await decodeImage(photo.jpeg, 100_000_000);
  const times: { new: number[]; old: number[] } = { new: [], old: [] };
  let maxDiff = 0;
  for (let i = 0; i < reps; i++) {
    // Copies, not views: Buffer#slice would share the decoded pixels.
    const a = { ...image, data: new Uint8Array(image.data) };
    let t = performance.now();
    current.blurRegions(a, photo.regions, spec);
    times.new.push(performance.now() - t);
    if (!baseline) continue;
    const b = { ...image, data: new Uint8Array(image.data) };
    t = performance.now();
    baseline(b, photo.regions, spec);
    times.old.push(performance.now() - t);
    if (i === 0) for (let k = 0; k < a.data.length; k++) maxDiff = Math.max(maxDiff, Math.abs(a.data[k] - b.data[k]));
  }
  const cover = coverage(photo.regions, image.width, image.height);
  const row = {
    photo: photo.name,
    regions: photo.regions.length,
    'blurred px': cover.blurred,
    'px blurred twice+': cover.overlapped,
    'px·passes': cover.sum,
    'new ms': +median(times.new).toFixed(2),
    ...(baseline ? { 'old ms': +median(times.old).toFixed(2), 'max |Δ|': maxDiff } : {}),
  };
  totalNew += median(times.new);
  if (baseline) totalOld += median(times.old);
  rows.push(row);
}
console.log(`${os.cpus()[0]?.model}, ${os.availableParallelism()} cores, load ${os.loadavg()[0].toFixed(1)}; gaussian box, medians of ${reps} interleaved repetitions`);
console.table(rows);
const summary = { images: photos.length, mean_new_ms: +(totalNew / photos.length).toFixed(2), ...(baseline ? { mean_old_ms: +(totalOld / photos.length).toFixed(2), speedup: +(totalOld / totalNew).toFixed(2) } : {}) };
console.log('per corpus image (photos without regions count as 0 ms):', summary);
const out = path.join(packageRoot, 'bench', 'results', 'blur-regions.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ cpu: os.cpus()[0]?.model, loadavg: os.loadavg(), reps, rows, summary }, null, 2));
