// Model-input preparation per detection pass from a 1080p photo: today's path (sharp crop +
// linear resize, then normalizeToChw) vs the fused regionToTensor pass, native and TypeScript,
// plus what the shared pyramid costs and that cost spread over a typical 6 passes per image.
// Single thread (sharp.concurrency(1), as in the pool's workers). Timings on a shared machine
// are noisy: compare the ratios of one run.
// Run: npm run bench:preprocess
import path from 'node:path';
import sharp from 'sharp';
import { Bench } from 'tinybench';
import { halveImageFallback } from '../src/addon/fallback/pyramid.js';
import { regionToTensorFallback } from '../src/addon/fallback/region-tensor.js';
import { createNativeOps, loadNativeAddon } from '../src/addon/native.js';
import { deepestLevel, ImagePyramid, type HalveImage } from '../src/addon/pyramid.js';
import { planRegionTensor, type RegionTensorPlan } from '../src/addon/region-plan.js';
import type { PyramidLevel, RawImage, TensorLayout, TensorSpec } from '../src/addon/types.js';
import { prepareModelInput } from '../harness/sharp-model-input.js';
import { platesDir } from '../harness/photos.js';

const PASSES_PER_IMAGE = 6;

const loaded = loadNativeAddon();
if (!loaded.ok) {
  console.error(`bench/preprocess: ${loaded.reason}; run npm run build:native first`);
  process.exit(1);
}
const native = createNativeOps(loaded.addon);
sharp.concurrency(1);
sharp.cache(false);

type WriteTensor = (level: PyramidLevel, plan: RegionTensorPlan, out: Float32Array, offset: number) => void;
const implementations: { name: string; halve: HalveImage; write: WriteTensor }[] = [
  { name: 'native', halve: native.halveImage, write: native.regionToTensor },
  { name: 'ts', halve: halveImageFallback, write: regionToTensorFallback },
];

// A real 1920×1080 photo (street scene with a plate), decoded once as the pipeline does.
const photo = path.join(platesDir, 'hlpr_test_img.jpg');
const { data, info } = await sharp(photo).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
const image: RawImage = { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
const maxLevel = deepestLevel(image.width, image.height);

type Spec = TensorSpec & { layout?: TensorLayout };
const ultraface = { channelOrder: 'rgb', padValue: 0, mean: [127, 127, 127], std: [128, 128, 128] } as const;
const yolo = { channelOrder: 'rgb', padValue: 114, mean: [0, 0, 0], std: [255, 255, 255] } as const;
const specs: { name: string; spec: Spec }[] = [
  { name: '320×320 letterbox', spec: { ...ultraface, mean: [...ultraface.mean], std: [...ultraface.std], width: 320, height: 320, resize: 'letterbox', align: 'top-left' } },
  { name: '320×240 stretch', spec: { ...ultraface, mean: [...ultraface.mean], std: [...ultraface.std], width: 320, height: 240, resize: 'stretch', align: 'top-left' } },
  { name: '416×416 letterbox centre', spec: { ...yolo, mean: [...yolo.mean], std: [...yolo.std], width: 416, height: 416, resize: 'letterbox', align: 'center' } },
  { name: '960×544 letterbox top-left', spec: { ...yolo, mean: [...yolo.mean], std: [...yolo.std], width: 960, height: 544, resize: 'letterbox', align: 'top-left' } },
];

const fullImage = { x: 0, y: 0, width: image.width, height: image.height };
const pyramids = new Map(implementations.map((impl) => [impl.name, new ImagePyramid(image, maxLevel, impl.halve)]));
const plans = new Map(specs.map(({ name, spec }) => [name, planRegionTensor(fullImage, spec, maxLevel)]));
const deepestUsed = Math.max(...[...plans.values()].map((p) => p.level));
for (const pyramid of pyramids.values()) pyramid.level(deepestUsed);

type Task = () => unknown;
const tasks = new Map<string, Task>();
for (const impl of implementations) {
  tasks.set(`pyramid levels 1–${deepestUsed} [${impl.name}]`, () => new ImagePyramid(image, maxLevel, impl.halve).level(deepestUsed));
  tasks.set(`pyramid all ${maxLevel} levels [${impl.name}]`, () => new ImagePyramid(image, maxLevel, impl.halve).level(maxLevel));
}
for (const { name, spec } of specs) {
  const plan = plans.get(name)!;
  const out = new Float32Array(3 * spec.width * spec.height);
  tasks.set(`${name} [sharp]`, () => prepareModelInput(image, spec));
  for (const impl of implementations) {
    const level = pyramids.get(impl.name)!.level(plan.level);
    // planRegionTensor is part of every call, as in pixelOps.regionToTensor.
    tasks.set(`${name} [${impl.name}]`, () => impl.write(level, planRegionTensor(fullImage, spec, maxLevel), out, 0));
  }
}

const bench = new Bench({ time: 800, warmupTime: 200 });
for (const [name, task] of tasks) bench.add(name, async () => void (await task()));
await bench.run();

// Medians: other processes on a shared machine inflate the mean more than the middle.
const medianMs = (name: string) => {
  const result = bench.getTask(name)?.result;
  if (!result || result.state !== 'completed') throw new Error(`${name}: ${result?.state ?? 'missing'}`);
  return result.latency.p50;
};

/**
 * CPU time per call of the whole process (libvips' thread included): unlike wall time it does
 * not grow while other processes hold the cores, which on this shared machine they often do.
 */
async function cpuMs(name: string, calls = 30): Promise<number> {
  const task = tasks.get(name)!;
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) await task();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / calls;
}
const cpu = new Map<string, number>();
for (const name of tasks.keys()) cpu.set(name, await cpuMs(name));

/** Mean and max |Δ| against today's tensor, in grey levels (both normalised with mean 0, std 1). */
async function differenceFromToday(spec: Spec, pyramidMaxLevel: number) {
  const unit: Spec = { ...spec, mean: [0, 0, 0], std: [1, 1, 1] };
  const plan = planRegionTensor(fullImage, unit, pyramidMaxLevel);
  const ours = new Float32Array(3 * spec.width * spec.height);
  native.regionToTensor(pyramids.get('native')!.level(plan.level), plan, ours, 0);
  const today = (await prepareModelInput(image, unit)).tensor;
  let total = 0;
  let max = 0;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(ours[i] - today[i]);
    total += d;
    max = Math.max(max, d);
  }
  return { mean: total / ours.length, max };
}

const pyramidCpu = cpu.get(`pyramid levels 1–${deepestUsed} [native]`)!;
console.log(
  `node ${process.version}, ${process.arch}; ${path.basename(photo)} ${image.width}×${image.height}; ms per call on one thread: wall median (tinybench) and CPU; fused rows write into a preallocated tensor`,
);
console.table(
  implementations.map((impl) => {
    const needed = `pyramid levels 1–${deepestUsed} [${impl.name}]`;
    const all = `pyramid all ${maxLevel} levels [${impl.name}]`;
    return {
      pyramid: impl.name,
      [`levels 1–${deepestUsed} ms`]: medianMs(needed).toFixed(3),
      [`levels 1–${deepestUsed} cpu ms`]: cpu.get(needed)!.toFixed(3),
      [`all ${maxLevel} levels ms`]: medianMs(all).toFixed(3),
      [`all ${maxLevel} levels cpu ms`]: cpu.get(all)!.toFixed(3),
      [`cpu per pass over ${PASSES_PER_IMAGE}`]: (cpu.get(needed)! / PASSES_PER_IMAGE).toFixed(3),
    };
  }),
);
const rows = [];
for (const { name, spec } of specs) {
  const sharpCpu = cpu.get(`${name} [sharp]`)!;
  const amortised = cpu.get(`${name} [native]`)! + pyramidCpu / PASSES_PER_IMAGE;
  const quality = await differenceFromToday(spec, maxLevel);
  const plain = await differenceFromToday(spec, 0);
  rows.push({
    input: name,
    level: plans.get(name)!.level,
    'sharp ms': medianMs(`${name} [sharp]`).toFixed(3),
    'sharp cpu': sharpCpu.toFixed(3),
    'native ms': medianMs(`${name} [native]`).toFixed(3),
    'native cpu': cpu.get(`${name} [native]`)!.toFixed(3),
    [`native cpu + pyramid/${PASSES_PER_IMAGE}`]: amortised.toFixed(3),
    'ts cpu': cpu.get(`${name} [ts]`)!.toFixed(3),
    'sharp ÷ native': `${(sharpCpu / amortised).toFixed(1)}×`,
    'mean |Δ| vs sharp': quality.mean.toFixed(2),
    'max |Δ|': quality.max.toFixed(0),
    'mean |Δ| no pyramid': plain.mean.toFixed(2),
  });
}
console.table(rows);
