import fs from 'node:fs';
import sharp from 'sharp';
import { pixelOps } from '../src/addon/index.js';
import { decodeImage } from '../src/pipeline/decode.js';
import { buildCorpus } from '../bench/corpus.js';
sharp.concurrency(1);
const recorded = JSON.parse(fs.readFileSync('.scratch/regions.json', 'utf8'));
const corpus = await buildCorpus(1920, 1080, '1080p');
for (const r of recorded) {
  if (!r.regions.length) continue;
  const d = await decodeImage(corpus.images[r.i], 1e8);
  const times: number[] = [];
  for (let k = 0; k < 9; k++) {
    const copy = { ...d.image, data: Buffer.from(d.image.data) };
    const t = performance.now();
    pixelOps.blurRegions(copy, r.regions, { style: 'gaussian', shape: 'box' });
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const area = r.regions.reduce((s: number, b: any) => s + b.width * b.height, 0);
  const maxArea = Math.max(...r.regions.map((b: any) => b.width * b.height));
  console.log(r.i, r.regions.length, 'median ms', times[4].toFixed(2), 'area px', Math.round(area), 'largest', Math.round(maxArea));
}
