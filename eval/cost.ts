// Time per 1080p image of several eval configurations, run interleaved (image by image, configuration
// by configuration, several rounds) so drift on a shared machine hits them all alike; medians.
// Usage: node --import tsx eval/cost.ts [--rounds=3] "<flags of configuration 1>" "<flags of configuration 2>" ...
//   e.g. eval/cost.ts "" "--faces=yunet-n --face-long-side=960 --plates=yolov9-t-plates --plate-tile-scale=1000 --vehicles=off"
import sharp from 'sharp';
import { processImage } from '../src/pipeline/process-image.js';
import { loadEvalConfig, parseArgs, type EvalConfig } from './config.js';
import { loadOpenalpr } from './openalpr.js';
import { buildSynthetic } from './synthetic.js';

sharp.concurrency(1);
sharp.cache(false);

const flags = process.argv.slice(2).filter((a) => a.startsWith('--rounds='));
const rounds = Number(parseArgs(flags).rounds ?? 3);
const specs = process.argv.slice(2).filter((a) => !a.startsWith('--rounds='));
const configs: Array<{ spec: string; config: EvalConfig; detect: number[]; total: number[]; stages: Record<string, number[]> }> = [];
for (const spec of specs) configs.push({ spec: spec || '(defaults)', config: await loadEvalConfig(parseArgs(spec.split(/\s+/).filter(Boolean))), detect: [], total: [], stages: {} });

// 1920×1080 JPEGs: the synthetic composites and real car photos (first four per openalpr region) scaled to 1080p.
const images: Buffer[] = (await buildSynthetic()).map((s) => s.data);
for (const region of ['us', 'eu', 'br'] as const) {
  for (const o of (await loadOpenalpr([region])).slice(0, 4)) images.push(await sharp(o.file).rotate().resize(1920, 1080, { fit: 'cover' }).jpeg({ quality: 85 }).toBuffer());
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
for (const c of configs) await processImage(images[0], { ...c.config.options, format: 'jpeg' }, c.config.detectors, { maxPixels: 100e6 }, c.config.settings);
for (let round = 0; round < rounds; round++) {
  for (const image of images) {
    for (const c of configs) {
      const { timings } = await processImage(image, { ...c.config.options, format: 'jpeg', quality: 85 }, c.config.detectors, { maxPixels: 100e6 }, c.config.settings);
      const detect = Object.entries(timings).filter(([s]) => s.startsWith('detect')).reduce((n, [, ms]) => n + ms, 0);
      c.detect.push(detect);
      for (const [stage, ms] of Object.entries(timings)) (c.stages[stage] ??= []).push(ms);
      c.total.push(Object.values(timings).reduce((n, ms) => n + ms, 0));
    }
  }
}
console.log(`ms per 1080p image, single thread, median of ${rounds} rounds × ${images.length} images, configurations interleaved:`);
console.log('detect   decode+detect+blur+encode(JPEG)   configuration');
for (const c of configs) console.log(`${median(c.detect).toFixed(1).padStart(6)}   ${median(c.total).toFixed(1).padStart(8)}                          ${c.spec}`);
console.log('median ms per stage:');
for (const c of configs) console.log(`  ${c.spec}: ${Object.entries(c.stages).filter(([, v]) => median(v) > 0).map(([s, v]) => `${s} ${median(v).toFixed(1)}`).join(', ')}`);
for (const c of configs) await c.config.release();
