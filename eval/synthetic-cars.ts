// Distant plates with their cars around them: openalpr photos shrunk so the labelled plate's height hits
// a target size (12–28 px), six per 1920×1080 frame over a street background. Unlike the pasted plate
// crops of synthetic.ts, the vehicle detector can find these cars, so vehicle crops are measured too.
// Recall only (the photos hold unlabelled plates).
import sharp, { type OverlayOptions } from 'sharp';
import { resolveImage, type GtImage } from './ground-truth.js';
import { loadOpenalpr } from './openalpr.js';
import type { SyntheticImage } from './synthetic.js';

const PLATE_HEIGHTS = [12, 14, 18, 22, 28];
const WIDTH = 1920;
const HEIGHT = 1080;
const COLS = 3;
const ROWS = 2;
const BACKGROUND = 'darknet:horses.jpg';

export async function buildCarComposites(): Promise<SyntheticImage[]> {
  const photos = await loadOpenalpr();
  const base = await sharp(resolveImage(BACKGROUND)).rotate().resize(WIDTH, HEIGHT, { fit: 'cover' }).removeAlpha().png().toBuffer();
  const cellW = WIDTH / COLS;
  const cellH = HEIGHT / ROWS;
  const out: SyntheticImage[] = [];
  for (let first = 0; first < photos.length; first += COLS * ROWS) {
    const layers: OverlayOptions[] = [];
    const objects: GtImage['objects'] = [];
    for (const [cell, photo] of photos.slice(first, first + COLS * ROWS).entries()) {
      const [x, y, w, h] = photo.gt.objects[0].box;
      const f = PLATE_HEIGHTS[(first + cell) % PLATE_HEIGHTS.length] / h;
      if (f >= 1) continue;
      // The window of the photo around its plate that fills one cell once shrunk by f.
      const winW = Math.min(photo.gt.width, Math.floor(cellW / f));
      const winH = Math.min(photo.gt.height, Math.floor(cellH / f));
      const left = Math.round(Math.min(Math.max(0, x + w / 2 - winW / 2), photo.gt.width - winW));
      const top = Math.round(Math.min(Math.max(0, y + h / 2 - winH / 2), photo.gt.height - winH));
      const width = Math.max(1, Math.min(cellW, Math.round(winW * f)));
      const height = Math.max(1, Math.min(cellH, Math.round(winH * f)));
      const input = await sharp(photo.file).rotate().extract({ left, top, width: winW, height: winH }).resize(width, height, { fit: 'fill' }).png().toBuffer();
      const at = { left: Math.round((cell % COLS) * cellW), top: Math.round(Math.floor(cell / COLS) * cellH) };
      layers.push({ input, ...at });
      objects.push({ class: 'plate', box: [at.left + (x - left) * (width / winW), at.top + (y - top) * (height / winH), w * (width / winW), h * (height / winH)] });
    }
    const data = await sharp(base).composite(layers).jpeg({ quality: 92 }).toBuffer();
    const name = `synthetic-cars:${first / (COLS * ROWS)}`;
    out.push({ name, data, gt: { image: name, width: WIDTH, height: HEIGHT, exhaustive: [], objects } });
  }
  return out;
}
