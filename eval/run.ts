// Detection quality on hand-labelled fixtures and synthetic composites: recall and precision per
// class and object size, the share of ground-truth pixels left unblurred, and per-stage cost.
// Usage: node --import tsx eval/run.ts [--faces=ultraface-rfb-320] [--plates=hyperlpr-y5fu-320]
//   [--objects=yolox-nano] [--face-threshold=0.6] [--plate-threshold=0.15] [--object-threshold=0.35]
//   [--tiling=auto|fallback|off] [--face-tile-scale=1.5] [--plate-tile-scale=2] [--tile-overlap=0.25]
//   [--vehicles=on|off] [--max-vehicles=8] [--persons=on|off] [--max-persons=8] [--person-score=0.3]
//   [--face-margin=0.15] [--plate-margin=0.15] [--synthetic=on|off] [--label=NAME]
//   [--sets=fixtures,synthetic,crowds,openalpr,cars,video] [--profile=ultraface-tiled] (UltraFace + HyperLPR with tiles; legacy is its old name)
//   video: clips with per-frame labels through the image pipeline and the tracker; its flags are in eval/video/run-video.ts
//   [--face-long-side=1280] [--face-crop-input=160] (dynamic face models: FACE_INPUT_LONG_SIDE, FACE_CROP_INPUT)
//   [--vehicle-score=0.25] [--plate-crop-below=8|off] (PLATE_CROP_BELOW_PX)
//   [--plate-precision=auto|int8|float|original] (PLATE_MODEL_PRECISION: which yolov9-t-plates file runs)
//   [--plausibility=off] [--face-large-share=0.2] [--face-large-min-score=0.8] [--plate-large-share=0.3]
//   [--plate-large-min-score=0.6] [--plate-min-aspect=0.8] [--plate-max-aspect=6] (src/pipeline/plausibility.ts)
// Models are read from MODEL_DIR (default ../shared/models) and, if missing there, EXTRA_MODEL_DIR.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { defaults } from '../src/config/defaults.js';
import { processImage } from '../src/pipeline/process-image.js';
import type { Detection } from '../src/job.js';
import { loadEvalConfig, parseArgs } from './config.js';
import { loadOpenalpr } from './openalpr.js';
import { GT_CLASSES, loadGroundTruth, repoRoot, resolveImage, type GtClass, type GtImage } from './ground-truth.js';
import { buildSynthetic } from './synthetic.js';
import { buildCarComposites } from './synthetic-cars.js';
import { buildCrowdComposites } from './synthetic-crowds.js';
import { runVideoEval } from './video/run-video.js';

sharp.concurrency(1);
sharp.cache(false);

const args = parseArgs(process.argv.slice(2));

export const BUCKETS = [
  { name: '<12', min: 0, max: 12 },
  { name: '12-16', min: 12, max: 16 },
  { name: '16-24', min: 16, max: 24 },
  { name: '24-32', min: 24, max: 32 },
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
  const { names, detectors, settings, options, release } = await loadEvalConfig(args);

  const sets = new Set((args.sets ?? 'fixtures,synthetic,crowds,openalpr,cars,video').split(','));
  if (args.synthetic === 'off') sets.delete('synthetic');
  type EvalSet = 'fixtures' | 'synthetic' | 'crowds' | 'openalpr' | 'cars';
  const images: Array<{ name: string; data: Buffer; gt: GtImage; set: EvalSet; region?: string }> = [];
  if (sets.has('fixtures')) for (const gt of loadGroundTruth()) images.push({ name: gt.image, data: fs.readFileSync(resolveImage(gt.image)), gt, set: 'fixtures' });
  if (sets.has('synthetic')) for (const s of await buildSynthetic()) images.push({ ...s, set: 'synthetic' });
  if (sets.has('crowds')) for (const s of await buildCrowdComposites()) images.push({ ...s, set: 'crowds' });
  if (sets.has('cars')) for (const s of await buildCarComposites()) images.push({ ...s, set: 'cars' });
  if (sets.has('openalpr')) for (const o of await loadOpenalpr()) images.push({ name: o.name, data: fs.readFileSync(o.file), gt: o.gt, set: 'openalpr', region: o.region });

  const tallies = new Map<string, Tally>();
  const tally = (key: string) => tallies.get(key) ?? (tallies.set(key, newTally()), tallies.get(key)!);
  const precision = new Map<GtClass, { dets: number; tp: number }>(GT_CLASSES.map((c) => [c, { dets: 0, tp: 0 }]));
  const timings: Record<EvalSet, Record<string, number[]>> = { fixtures: {}, synthetic: {}, crowds: {}, openalpr: {}, cars: {} };
  const perImage: unknown[] = [];
  // openalpr labels one plate per photo: plate boxes off it are counted here, to be looked at (eval/tools/crop-boxes.ts).
  // onLabelled: a second or badly fitting box on the labelled plate itself (it overlaps it), not another object.
  const unlabelled: Array<{ image: string; box: Detection['box']; score: number; onLabelled: boolean }> = [];
  const openalprImages = { all: 0, withUnlabelled: 0 };

  // Warm the sessions so the first image's timings are not load costs.
  if (images.length) await processImage(images[0].data, options, detectors, { maxPixels: defaults.maxPixels }, settings);
  for (const img of images) {
    const result = await processImage(img.data, options, detectors, { maxPixels: defaults.maxPixels }, settings);
    for (const [stage, ms] of Object.entries(result.timings)) (timings[img.set][stage] ??= []).push(ms);
    const before = await rawPixels(img.data);
    const after = await rawPixels(result.image);
    const used = new Set<number>();
    const missed: unknown[] = [];
    // Score of the detection matched to each labelled object, so a threshold can be chosen afterwards from the JSON.
    const matchedScores: Array<{ class: GtClass; score: number }> = [];
    for (const obj of img.gt.objects) {
      let best = -1;
      let bestIou = IOU_MATCH;
      result.detections.forEach((d, i) => {
        if (used.has(i) || detClass(d) !== obj.class) return;
        const v = iou(obj.box, d.box);
        if (v >= bestIou) [best, bestIou] = [i, v];
      });
      if (best >= 0) {
        used.add(best);
        matchedScores.push({ class: obj.class, score: result.detections[best].score });
      }
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
      const keys =
        img.set === 'openalpr'
          ? [`openalpr|${obj.class}|${bucketOf(obj.box)}`, `openalpr|${obj.class}|all`, `openalpr-${img.region}|${obj.class}|all`]
          : img.set === 'cars' || img.set === 'crowds'
            ? [`${img.set}|${obj.class}|${bucketOf(obj.box)}`, `${img.set}|${obj.class}|all`]
            : [`${img.set}|${obj.class}|${bucketOf(obj.box)}`, `${img.set}|${obj.class}|all`, `all|${obj.class}|all`];
      for (const key of keys) {
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
    if (img.set === 'openalpr') {
      const off = result.detections.filter((d, i) => d.kind === 'plate' && !used.has(i));
      const plate = img.gt.objects[0].box;
      for (const d of off) unlabelled.push({ image: img.name, box: d.box, score: d.score, onLabelled: iou(plate, d.box) > 0 });
      openalprImages.all++;
      openalprImages.withUnlabelled += off.length > 0 ? 1 : 0;
    }
    // Face and plate boxes with their geometry, matched or not: what the plausibility thresholds are chosen from.
    const boxes = result.detections.flatMap((d, i) => (d.kind === 'object' ? [] : [{ kind: d.kind, score: d.score, box: d.box, landmarks: d.landmarks, matched: used.has(i) }]));
    perImage.push({ image: img.name, set: img.set, width: before.info.width, height: before.info.height, timings: result.timings, detections: result.detections.length, missed, matchedScores, boxes });
  }

  const pct = (a: number, b: number) => (b ? (a / b).toFixed(3) : '  -  ');
  const lines: string[] = [];
  lines.push(`models: ${Object.entries(names).map(([slot, name]) => `${slot}=${name}`).join(' ')}; thresholds ${JSON.stringify(options.thresholds)}; tiling=${settings.tiling} tileScale=${JSON.stringify(settings.tileScale)} tileOverlap=${settings.tileOverlap} platesOnVehicles=${settings.platesOnVehicles} facesOnPersons=${settings.facesOnPersons}(max ${settings.maxPersons}, score ${settings.personScore}) margins=${JSON.stringify(settings.blurMargin)}`);
  lines.push('set        class    bucket   gt   found  recall  unblurred-px');
  const report: Record<string, unknown> = {};
  for (const [key, t] of [...tallies.entries()].sort()) {
    const [set, cls, bucket] = key.split('|');
    lines.push(`${set.padEnd(10)} ${cls.padEnd(8)} ${bucket.padEnd(7)} ${String(t.gt).padStart(4)} ${String(t.found).padStart(6)}  ${pct(t.found, t.gt)}   ${pct(t.unblurred, t.pixels)}`);
    report[key] = { ...t, recall: t.gt ? t.found / t.gt : null, recall24: t.gt24 ? t.found24 / t.gt24 : null, unblurredShare: t.pixels ? t.unblurred / t.pixels : null };
  }
  if (openalprImages.all) {
    const elsewhere = unlabelled.filter((u) => !u.onLabelled).length;
    lines.push(`openalpr: ${unlabelled.length} plate boxes besides the labelled plate's match in ${openalprImages.all} images (${openalprImages.withUnlabelled} images have any): ${elsewhere} elsewhere = ${(elsewhere / openalprImages.all).toFixed(3)} unlabelled boxes per image, ${unlabelled.length - elsewhere} overlapping the labelled plate`);
  }
  lines.push('recall for objects >= 24 px (short side), fixtures + synthetic:');
  for (const cls of GT_CLASSES) {
    const t = tallies.get(`all|${cls}|all`);
    if (t) lines.push(`  ${cls.padEnd(8)} ${pct(t.found24, t.gt24)} (${t.found24}/${t.gt24})`);
  }
  lines.push('precision on fixtures (classes labelled exhaustively in the image):');
  for (const [cls, p] of precision) lines.push(`  ${cls.padEnd(8)} ${pct(p.tp, p.dets)} (${p.tp}/${p.dets} detections)`);
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  lines.push('median stage ms (single thread): fixtures (0.1-2 MP) | synthetic (1920x1080) | crowds (1920x1080) | openalpr | cars (1920x1080)');
  const setNames: EvalSet[] = ['fixtures', 'synthetic', 'crowds', 'openalpr', 'cars'];
  const stages = [...new Set(setNames.flatMap((n) => Object.keys(timings[n])))];
  const cell = (set: EvalSet, stage: string) => String(timings[set][stage] ? median(timings[set][stage]).toFixed(1) : '-').padStart(8);
  for (const s of stages) lines.push(`  ${s.padEnd(24)} ${setNames.map((n) => cell(n, s)).join(' | ')}`);
  const detectMs = (set: EvalSet) => Object.entries(timings[set]).filter(([s]) => s.startsWith('detect')).reduce((n, [, v]) => n + median(v), 0);
  lines.push(`  ${'detect total'.padEnd(24)} ${setNames.map((n) => detectMs(n).toFixed(1).padStart(8)).join(' | ')}`);
  // The synthetic composites are 1920×1080, so their medians are the cost of a 1080p image.
  if (timings.synthetic.decode) lines.push(`cost per 1080p image (single thread, medians): detect ${detectMs('synthetic').toFixed(1)} ms; decode + detect + blur ${(detectMs('synthetic') + median(timings.synthetic.decode) + median(timings.synthetic.blur)).toFixed(1)} ms (PNG encode not counted)`);
  const video = sets.has('video') ? await runVideoEval({ names, detectors, settings, options, release }, args) : undefined;
  if (video) lines.push(...video.lines);
  console.log(lines.join('\n'));

  const dir = path.join(repoRoot, 'eval', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const json = JSON.stringify({ label: args.label ?? 'latest', models: names, thresholds: options.thresholds, settings, tallies: report, unlabelled, precision: Object.fromEntries(precision), timingsMedianMs: Object.fromEntries(setNames.map((s) => [s, Object.fromEntries(Object.entries(timings[s]).map(([k, v]) => [k, median(v)]))])), perImage, video: video?.json }, null, 2);
  fs.writeFileSync(path.join(dir, 'latest.json'), json);
  if (args.label) fs.writeFileSync(path.join(dir, `${args.label}.json`), json);
  await release();
}

await main();
