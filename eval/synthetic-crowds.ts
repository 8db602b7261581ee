// Small faces with their bodies around them: the group photos of the fixtures (those with labelled
// faces) shrunk whole so their faces land at 10–32 px, packed into 1920×1080 frames over a street
// background. Unlike the pasted face crops of synthetic.ts, the people are there, so person detection
// and the head crops it steers are measured on distant faces; the face crops without a body stay the
// measure of faces seen through car windows. Built at eval time from ../shared/fixtures, never stored.
// Recall only (uf_17 has only its largest faces labelled, and shrunk photos hold unlabelled people).
import sharp, { type OverlayOptions } from 'sharp';
import { loadGroundTruth, resolveImage, type GtImage } from './ground-truth.js';
import type { SyntheticImage } from './synthetic.js';

/** Median face short side each photo is shrunk to; a photo is never enlarged. */
export const CROWD_FACE_SIZES = [10, 12, 14, 16, 19, 22, 26, 32];
const WIDTH = 1920;
const HEIGHT = 1080;
const GAP = 8;
const BACKGROUND = 'darknet:horses.jpg';

interface Paste {
  source: GtImage;
  scale: number;
  width: number;
  height: number;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const shortSide = (box: GtImage['objects'][number]['box']) => Math.min(box[2], box[3]);

/** Every group photo at every target size it can be shrunk to, largest first (shelf packing fills better). */
function pastes(): Paste[] {
  const photos = loadGroundTruth().filter((g) => g.objects.some((o) => o.class === 'face'));
  const out: Paste[] = [];
  for (const source of photos) {
    const typical = median(source.objects.filter((o) => o.class === 'face').map((o) => shortSide(o.box)));
    for (const size of CROWD_FACE_SIZES) {
      const scale = size / typical;
      if (scale >= 1) continue;
      const width = Math.round(source.width * scale);
      const height = Math.round(source.height * scale);
      if (width + 2 * GAP > WIDTH || height + 2 * GAP > HEIGHT) continue;
      out.push({ source, scale, width, height });
    }
  }
  return out.sort((a, b) => b.height - a.height || b.width - a.width);
}

/** Shelf packing: rows left to right, a new frame when a paste fits under no row. */
function layout(all: Paste[]): Array<Array<Paste & { left: number; top: number }>> {
  const frames: Array<Array<Paste & { left: number; top: number }>> = [];
  let frame: Array<Paste & { left: number; top: number }> = [];
  let x = GAP;
  let rowTop = GAP;
  let rowHeight = 0;
  for (const p of all) {
    if (x + p.width + GAP > WIDTH) {
      rowTop += rowHeight + GAP;
      x = GAP;
      rowHeight = 0;
    }
    if (rowTop + p.height + GAP > HEIGHT) {
      frames.push(frame);
      frame = [];
      x = GAP;
      rowTop = GAP;
      rowHeight = 0;
    }
    frame.push({ ...p, left: x, top: rowTop });
    x += p.width + GAP;
    rowHeight = Math.max(rowHeight, p.height);
  }
  if (frame.length) frames.push(frame);
  return frames;
}

export async function buildCrowdComposites(): Promise<SyntheticImage[]> {
  const base = await sharp(resolveImage(BACKGROUND)).rotate().resize(WIDTH, HEIGHT, { fit: 'cover' }).removeAlpha().png().toBuffer();
  const out: SyntheticImage[] = [];
  for (const [index, frame] of layout(pastes()).entries()) {
    const layers: OverlayOptions[] = [];
    const objects: GtImage['objects'] = [];
    for (const p of frame) {
      const input = await sharp(resolveImage(p.source.image)).rotate().resize(p.width, p.height, { fit: 'fill' }).png().toBuffer();
      layers.push({ input, left: p.left, top: p.top });
      const [sx, sy] = [p.width / p.source.width, p.height / p.source.height];
      for (const o of p.source.objects) {
        if (o.class !== 'face') continue;
        objects.push({ class: 'face', box: [p.left + o.box[0] * sx, p.top + o.box[1] * sy, o.box[2] * sx, o.box[3] * sy] });
      }
    }
    const data = await sharp(base).composite(layers).jpeg({ quality: 92 }).toBuffer();
    const name = `synthetic-crowds:${index}`;
    out.push({ name, data, gt: { image: name, width: WIDTH, height: HEIGHT, exhaustive: [], objects } });
  }
  return out;
}
