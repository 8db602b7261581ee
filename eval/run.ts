// Detection quality on hand-labelled fixtures and synthetic composites: recall and precision per
// class and object size, the share of ground-truth pixels left unblurred, and per-stage cost.
// Usage: node --import tsx eval/run.ts [--faces=ultraface-rfb-320] [--plates=hyperlpr-y5fu-320]
//   [--objects=yolox-nano] [--face-threshold=0.6] [--plate-threshold=0.15] [--object-threshold=0.35]
//   [--tiling=auto|fallback|off] [--face-tile-scale=1.5] [--plate-tile-scale=2] [--tile-overlap=0.25]
//   [--vehicles=on|off] [--max-vehicles=8] [--persons=on|off] [--max-persons=8] [--person-score=0.3]
//   [--face-margin=0.15] [--plate-margin=0.15] [--synthetic=on|off] [--label=NAME]
// Models are read from MODEL_DIR (default ../shared/models) and, if missing there, EXTRA_MODEL_DIR.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { Detector } from '../src/models/detector.js';
import { loadManifests } from '../src/models/manifest.js';
import { DEFAULT_DETECTION_SETTINGS, type DetectionSettings } from '../src/config/detection.js';
import type { Detectors } from '../src/pipeline/detect.js';
import { processImage } from '../src/pipeline/process-image.js';
import type { Detection, JobOptions } from '../src/job.js';
import { GT_CLASSES, loadGroundTruth, repoRoot, resolveImage, type GtClass, type GtImage } from './ground-truth.js';
import { buildSynthetic } from './synthetic.js';

sharp.concurrency(1);
sharp.cache(false);

// node:util parseArgs: unknown or malformed flags stop the run instead of being silently ignored.
const EVAL_FLAGS = ['faces', 'plates', 'objects', 'face-threshold', 'plate-threshold', 'object-threshold', 'tiling', 'face-tile-scale', 'plate-tile-scale', 'tile-overlap', 'vehicles', 'max-vehicles', 'persons', 'max-persons', 'person-score', 'face-margin', 'plate-margin', 'synthetic', 'label'];
function evalFlags(): Record<string, string | undefined> {
  try {
    return parseArgs({ options: Object.fromEntries(EVAL_FLAGS.map((f) => [f, { type: 'string' as const }])), strict: true }).values as Record<string, string | undefined>;
  } catch (err) {
    console.error(`eval: ${(err as Error).message}`);
    process.exit(2);
  }
}
const args = evalFlags();
const num = (key: string, fallback: number) => (args[key] !== undefined ? Number(args[key]) : fallback);

export const BUCKETS = [
  { name: '<16', min: 0, max: 16 },
  { name: '16-32', min: 16, max: 32 },
  { name: '32-96', min: 32, max: 96 },
  { name: '>96', min: 96, max: Infinity },
] as const;
const VEHICLE_LABELS = new Set(['car', 'truck', 'bus', 'motorcycle']);
const IOU_MATCH = 0.3;

function detClass(d: Detection): GtClass | null {
  if (d.kind === 'face') return 'face';
  if (d.kind === 'plate') return 'plate';
  if (VEHICLE_LABELS.has(d.label)) return 'vehicle';
  if (d.label === 'person') return 'person';
  return null;
}

function iou(a: [number, number, number, number], b: { x: number; y: number; width: number; height: number }): number {
  const w = Math.min(a[0] + a[2], b.x + b.width) - Math.max(a[0], b.x);
  const h = Math.min(a[1] + a[3], b.y + b.height) - Math.max(a[1], b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a[2] * a[3] + b.width * b.height - inter);
}

const bucketOf = (box: [number, number, number, number]) => BUCKETS.find((b) => Math.min(box[2], box[3]) >= b.min && Math.min(box[2], box[3]) < b.max)!.name;

interface Tally {
  gt: number;
  found: number;
  pixels: number;
  unblurred: number;
  /** Recall over objects ≥ 24 px on the short side (the target). */
  gt24: number;
  found24: number;
}
const newTally = (): Tally => ({ gt: 0, found: 0, pixels: 0, unblurred: 0, gt24: 0, found24: 0 });

async function rawPixels(data: Buffer) {
  return sharp(data).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
}

async function main() {
  const manifests = loadManifests();
  const modelDirs = [process.env.MODEL_DIR ?? path.resolve(repoRoot, '../shared/models'), process.env.EXTRA_MODEL_DIR].filter(Boolean) as string[];
  const load = async (name: string | undefined) => {
    if (!name || name === 'none') return undefined;
    const m = manifests.get(name) ?? (() => { throw new Error(`unknown model ${name}`); })();
    const file = modelDirs.map((d) => path.join(d, m.file)).find((f) => fs.existsSync(f));
    if (!file) throw new Error(`model file ${m.file} not found in ${modelDirs.join(', ')}`);
    return Detector.load(m, file, { intraOpThreads: 1, executionProviders: ['cpu'] });
  };
  const names = { faces: args.faces ?? 'ultraface-rfb-320', plates: args.plates ?? 'hyperlpr-y5fu-320', objects: args.objects ?? 'yolox-nano' };
  const detectors: Detectors = { faces: await load(names.faces), plates: await load(names.plates), objects: await load(names.objects) };
  const settings: DetectionSettings = {
    ...DEFAULT_DETECTION_SETTINGS,
    tiling: (args.tiling ?? DEFAULT_DETECTION_SETTINGS.tiling) as DetectionSettings['tiling'],
    tileScale: { faces: num('face-tile-scale', DEFAULT_DETECTION_SETTINGS.tileScale.faces), plates: num('plate-tile-scale', DEFAULT_DETECTION_SETTINGS.tileScale.plates) },
    tileOverlap: num('tile-overlap', DEFAULT_DETECTION_SETTINGS.tileOverlap),
    platesOnVehicles: (args.vehicles ?? (DEFAULT_DETECTION_SETTINGS.platesOnVehicles ? 'on' : 'off')) === 'on',
    maxVehicles: num('max-vehicles', DEFAULT_DETECTION_SETTINGS.maxVehicles),
    facesOnPersons: (args.persons ?? (DEFAULT_DETECTION_SETTINGS.facesOnPersons ? 'on' : 'off')) === 'on',
    maxPersons: num('max-persons', DEFAULT_DETECTION_SETTINGS.maxPersons),
    personScore: num('person-score', DEFAULT_DETECTION_SETTINGS.personScore),
    blurMargin: { face: num('face-margin', DEFAULT_DETECTION_SETTINGS.blurMargin.face), plate: num('plate-margin', DEFAULT_DETECTION_SETTINGS.blurMargin.plate) },
  };
  const options: JobOptions = {
    // Solid fill changes every covered pixel, so "unchanged" means "not covered by any blur region".
    blur: 'solid',
    shape: 'box',
    detect: { faces: !!detectors.faces, plates: !!detectors.plates, objects: !!detectors.objects },
    // The service's defaults (DEFAULT_THRESHOLDS in src/job.ts).
    thresholds: { face: num('face-threshold', 0.6), plate: num('plate-threshold', 0.15), object: num('object-threshold', 0.35) },
    blurClasses: [],
    format: 'png',
    quality: 90,
  };

  const images: Array<{ name: string; data: Buffer; gt: GtImage; set: 'fixtures' | 'synthetic' }> = loadGroundTruth().map((gt) => ({ name: gt.image, data: fs.readFileSync(resolveImage(gt.image)), gt, set: 'fixtures' }));
  if ((args.synthetic ?? 'on') === 'on') for (const s of await buildSynthetic()) images.push({ ...s, set: 'synthetic' });

  const tallies = new Map<string, Tally>();
  const tally = (key: string) => tallies.get(key) ?? (tallies.set(key, newTally()), tallies.get(key)!);
  const precision = new Map<GtClass, { dets: number; tp: number }>(GT_CLASSES.map((c) => [c, { dets: 0, tp: 0 }]));
  const timings: Record<'fixtures' | 'synthetic', Record<string, number[]>> = { fixtures: {}, synthetic: {} };
  const perImage: unknown[] = [];

  // Warm the sessions so the first image's timings are not load costs.
  await processImage(images[0].data, options, detectors, { maxPixels: 100e6 }, settings);
  for (const img of images) {
    const result = await processImage(img.data, options, detectors, { maxPixels: 100e6 }, settings);
    for (const [stage, ms] of Object.entries(result.timings)) (timings[img.set][stage] ??= []).push(ms);
    const before = await rawPixels(img.data);
    const after = await rawPixels(result.image);
    const used = new Set<number>();
    const missed: unknown[] = [];
    for (const obj of img.gt.objects) {
      let best = -1;
      let bestIou = IOU_MATCH;
      result.detections.forEach((d, i) => {
        if (used.has(i) || detClass(d) !== obj.class) return;
        const v = iou(obj.box, d.box);
        if (v >= bestIou) [best, bestIou] = [i, v];
      });
      if (best >= 0) used.add(best);
      else missed.push(obj);
      let pixels = 0;
      let unchanged = 0;
      const { width, channels } = before.info;
      const [x0, y0] = [Math.max(0, Math.floor(obj.box[0])), Math.max(0, Math.floor(obj.box[1]))];
      const [x1, y1] = [Math.min(width, Math.ceil(obj.box[0] + obj.box[2])), Math.min(before.info.height, Math.ceil(obj.box[1] + obj.box[3]))];
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const p = (y * width + x) * channels;
          pixels++;
          if (before.data[p] === after.data[p] && before.data[p + 1] === after.data[p + 1] && before.data[p + 2] === after.data[p + 2]) unchanged++;
        }
      }
      for (const key of [`${img.set}|${obj.class}|${bucketOf(obj.box)}`, `${img.set}|${obj.class}|all`, `all|${obj.class}|all`]) {
        const t = tally(key);
        t.gt++;
        t.found += best >= 0 ? 1 : 0;
        t.pixels += pixels;
        t.unblurred += unchanged;
        if (Math.min(obj.box[2], obj.box[3]) >= 24) {
          t.gt24++;
          t.found24 += best >= 0 ? 1 : 0;
        }
      }
    }
    result.detections.forEach((d, i) => {
      const cls = detClass(d);
      if (!cls || !img.gt.exhaustive.includes(cls)) return;
      const p = precision.get(cls)!;
      p.dets++;
      p.tp += used.has(i) ? 1 : 0;
    });
    perImage.push({ image: img.name, timings: result.timings, detections: result.detections.length, missed });
  }

  const pct = (a: number, b: number) => (b ? (a / b).toFixed(3) : '  -  ');
  const lines: string[] = [];
  lines.push(`models: faces=${names.faces} plates=${names.plates} objects=${names.objects}; thresholds ${JSON.stringify(options.thresholds)}; tiling=${settings.tiling} tileScale=${JSON.stringify(settings.tileScale)} tileOverlap=${settings.tileOverlap} platesOnVehicles=${settings.platesOnVehicles} facesOnPersons=${settings.facesOnPersons}(max ${settings.maxPersons}, score ${settings.personScore}) margins=${JSON.stringify(settings.blurMargin)}`);
  lines.push('set        class    bucket   gt   found  recall  unblurred-px');
  const report: Record<string, unknown> = {};
  for (const [key, t] of [...tallies.entries()].sort()) {
    const [set, cls, bucket] = key.split('|');
    lines.push(`${set.padEnd(10)} ${cls.padEnd(8)} ${bucket.padEnd(7)} ${String(t.gt).padStart(4)} ${String(t.found).padStart(6)}  ${pct(t.found, t.gt)}   ${pct(t.unblurred, t.pixels)}`);
    report[key] = { ...t, recall: t.gt ? t.found / t.gt : null, recall24: t.gt24 ? t.found24 / t.gt24 : null, unblurredShare: t.pixels ? t.unblurred / t.pixels : null };
  }
  lines.push('recall for objects >= 24 px (short side), all sets:');
  for (const cls of GT_CLASSES) {
    const t = tallies.get(`all|${cls}|all`);
    if (t) lines.push(`  ${cls.padEnd(8)} ${pct(t.found24, t.gt24)} (${t.found24}/${t.gt24})`);
  }
  lines.push('precision on fixtures (classes labelled exhaustively in the image):');
  for (const [cls, p] of precision) lines.push(`  ${cls.padEnd(8)} ${pct(p.tp, p.dets)} (${p.tp}/${p.dets} detections)`);
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  lines.push('median stage ms (single thread): fixtures (0.1-2 MP) | synthetic (1920x1080)');
  const stages = [...new Set([...Object.keys(timings.fixtures), ...Object.keys(timings.synthetic)])];
  for (const s of stages) lines.push(`  ${s.padEnd(24)} ${String(timings.fixtures[s] ? median(timings.fixtures[s]).toFixed(1) : '-').padStart(8)} | ${String(timings.synthetic[s] ? median(timings.synthetic[s]).toFixed(1) : '-').padStart(8)}`);
  const detectMs = (set: 'fixtures' | 'synthetic') => Object.entries(timings[set]).filter(([s]) => s.startsWith('detect')).reduce((n, [, v]) => n + median(v), 0);
  lines.push(`  ${'detect total'.padEnd(24)} ${detectMs('fixtures').toFixed(1).padStart(8)} | ${detectMs('synthetic').toFixed(1).padStart(8)}`);
  console.log(lines.join('\n'));

  const dir = path.join(repoRoot, 'eval', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const json = JSON.stringify({ label: args.label ?? 'latest', models: names, thresholds: options.thresholds, settings, tallies: report, precision: Object.fromEntries(precision), timingsMedianMs: Object.fromEntries((['fixtures', 'synthetic'] as const).map((s) => [s, Object.fromEntries(Object.entries(timings[s]).map(([k, v]) => [k, median(v)]))])), perImage }, null, 2);
  fs.writeFileSync(path.join(dir, 'latest.json'), json);
  if (args.label) fs.writeFileSync(path.join(dir, `${args.label}.json`), json);
  for (const d of Object.values(detectors)) await d?.release();
}

await main();
