// JPEG output, today's whole re-encode (quality 90) against keeping the input's untouched blocks,
// on every corpus photo with the regions the default detectors blur: encode time (interleaved
// repetitions, medians), output size against the upload, and how many pixels farther than 16 px
// from every blurred box come back identical to the decoded upload.
//   node dist/bench/jpeg-output.js [--reps=15] [--tables=standard]     writes bench/results/jpeg-output[-standard].json
// --tables=standard first rewrites each photo losslessly with the standard Huffman tables (jpegtran),
// as most cameras code them; the corpus itself is sharp's output, with optimised tables.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { jpegBlocks, pixelOps } from '../src/addon/index.js';
import { packageRoot } from '../src/paths.js';
import { decodeImage } from '../src/pipeline/decode.js';
import { encodeImage, encodeOutput } from '../src/pipeline/encode.js';
import { decodePixels, farPixels } from '../harness/jpeg-blocks.js';
import { corpusWithRegions, median } from './corpus-regions.js';

const reps = Number(process.argv.find((a) => a.startsWith('--reps='))?.slice(7) ?? 15);
const standardTables = process.argv.includes('--tables=standard');
if (!jpegBlocks.support.available) {
  console.error(`bench/jpeg-output: JPEG blocks unavailable (${jpegBlocks.support.detail})`);
  process.exit(1);
}

const photos = await corpusWithRegions();
if (standardTables) for (const photo of photos) photo.jpeg = execFileSync('jpegtran', ['-copy', 'none'], { input: photo.jpeg, maxBuffer: 64 << 20 });
const rows = [];
const all = { oldMs: [] as number[], newMs: [] as number[], oldRatio: [] as number[], newRatio: [] as number[], far: 0, oldSame: 0, newSame: 0, oldMax: 0, newMax: 0 };
for (const photo of photos) {
  const decoded = await decodeImage(photo.jpeg, 100_000_000);
  pixelOps.blurRegions(decoded.image, photo.regions, { style: 'gaussian', shape: 'box' });
  const kept = { policy: 'strip' as const };
  const source = { input: photo.jpeg, decoded, regions: photo.regions };
  const times = { old: [] as number[], new: [] as number[] };
  let whole: Buffer = Buffer.alloc(0);
  let blocks = await encodeOutput(decoded.image, 'jpg', undefined, kept, source);
  for (let i = 0; i < reps; i++) {
    let t = performance.now();
    whole = await encodeImage(decoded.image, 'jpg', 90, kept);
    times.old.push(performance.now() - t);
    t = performance.now();
    blocks = await encodeOutput(decoded.image, 'jpg', undefined, kept, source);
    times.new.push(performance.now() - t);
  }
  const input = await decodePixels(photo.jpeg);
  const oldFar = farPixels(input, await decodePixels(whole), photo.regions);
  const newFar = farPixels(input, await decodePixels(blocks.data), photo.regions);
  all.oldMs.push(median(times.old));
  all.newMs.push(median(times.new));
  all.oldRatio.push(whole.length / photo.jpeg.length);
  all.newRatio.push(blocks.data.length / photo.jpeg.length);
  all.far += oldFar.far;
  all.oldSame += oldFar.far - oldFar.changed;
  all.newSame += newFar.far - newFar.changed;
  all.oldMax = Math.max(all.oldMax, oldFar.maxDiff);
  all.newMax = Math.max(all.newMax, newFar.maxDiff);
  rows.push({
    photo: photo.name,
    regions: photo.regions.length,
    path: blocks.method,
    'MCUs re-encoded': blocks.mcus ? `${blocks.mcus.rewritten}/${blocks.mcus.total}` : '-',
    'whole ms': +median(times.old).toFixed(2),
    'blocks ms': +median(times.new).toFixed(2),
    'whole size ×': +(whole.length / photo.jpeg.length).toFixed(3),
    'blocks size ×': +(blocks.data.length / photo.jpeg.length).toFixed(3),
    'far px same, whole': `${((100 * (oldFar.far - oldFar.changed)) / oldFar.far).toFixed(1)}%`,
    'far px same, blocks': `${((100 * (newFar.far - newFar.changed)) / newFar.far).toFixed(1)}%`,
  });
}
const summary = {
  photos: photos.length,
  median_whole_ms: +median(all.oldMs).toFixed(2),
  median_blocks_ms: +median(all.newMs).toFixed(2),
  mean_whole_ms: +(all.oldMs.reduce((a, b) => a + b, 0) / photos.length).toFixed(2),
  mean_blocks_ms: +(all.newMs.reduce((a, b) => a + b, 0) / photos.length).toFixed(2),
  median_size_ratio_whole: +median(all.oldRatio).toFixed(3),
  median_size_ratio_blocks: +median(all.newRatio).toFixed(3),
  far_pixels: all.far,
  far_identical_whole: +(all.oldSame / all.far).toFixed(4),
  far_identical_blocks: +(all.newSame / all.far).toFixed(4),
  far_max_diff_whole: all.oldMax,
  far_max_diff_blocks: all.newMax,
};
console.log(`${os.cpus()[0]?.model}, ${os.availableParallelism()} cores, load ${os.loadavg()[0].toFixed(1)}; ${jpegBlocks.support.detail}; medians of ${reps} interleaved repetitions; ${standardTables ? 'standard' : 'optimised'} Huffman tables in`);
console.table(rows);
console.log(summary);
const out = path.join(packageRoot, 'bench', 'results', standardTables ? 'jpeg-output-standard.json' : 'jpeg-output.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ cpu: os.cpus()[0]?.model, loadavg: os.loadavg(), reps, rows, summary }, null, 2));
