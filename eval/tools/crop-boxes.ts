// Looking before calling a box false: cuts every openalpr plate box that is not the labelled plate out of
// its photo (with context, the box outlined) into PNGs, one contact sheet per 12 boxes, to judge by eye.
// Usage: node --import tsx eval/tools/crop-boxes.ts [results.json (default eval/results/latest.json)] [out dir (default /tmp/pixveil-unlabelled)]
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { repoRoot } from '../ground-truth.js';
import { openalprDir } from '../openalpr.js';

const [resultsFile = path.join(repoRoot, 'eval', 'results', 'latest.json'), outDir = '/tmp/pixveil-unlabelled'] = process.argv.slice(2);
const { unlabelled } = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as { unlabelled: Array<{ image: string; box: { x: number; y: number; width: number; height: number }; score: number }> };
fs.mkdirSync(outDir, { recursive: true });
const TILE = 256;
const tiles: Buffer[] = [];
for (const { image, box } of unlabelled) {
  const file = path.join(openalprDir, image.replace(/^openalpr:/, ''));
  const src = sharp(file).rotate();
  const { width, height } = await sharp(await src.clone().png().toBuffer()).metadata();
  const pad = Math.max(box.width, box.height);
  const left = Math.max(0, Math.floor(box.x - pad));
  const top = Math.max(0, Math.floor(box.y - pad));
  const w = Math.min(width! - left, Math.ceil(box.width + 2 * pad));
  const h = Math.min(height! - top, Math.ceil(box.height + 2 * pad));
  const outline = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect x="${box.x - left}" y="${box.y - top}" width="${box.width}" height="${box.height}" fill="none" stroke="red" stroke-width="2"/></svg>`);
  const crop = await src.extract({ left, top, width: w, height: h }).composite([{ input: outline }]).png().toBuffer();
  tiles.push(await sharp(crop).resize(TILE, TILE, { fit: 'contain', background: '#000' }).png().toBuffer());
}
for (let sheet = 0; sheet * 12 < tiles.length; sheet++) {
  const page = tiles.slice(sheet * 12, sheet * 12 + 12);
  const layers = page.map((input, i) => ({ input, left: (i % 4) * TILE, top: Math.floor(i / 4) * TILE }));
  const file = path.join(outDir, `sheet-${sheet}.png`);
  await sharp({ create: { width: 4 * TILE, height: 3 * TILE, channels: 3, background: '#222' } }).composite(layers).png().toFile(file);
  console.log(`${file}: boxes ${sheet * 12}–${sheet * 12 + page.length - 1} (${page.map((_, i) => unlabelled[sheet * 12 + i].image.replace(/^openalpr:/, '')).join(', ')})`);
}
