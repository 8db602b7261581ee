// Synthetic composites for recall by object size: face and plate crops cut from the fixtures with
// their hand-labelled boxes, scaled so the box's short side hits a target size, pasted at known
// positions onto 1920×1080 backgrounds that hold no face or plate of their own.
import sharp, { type OverlayOptions } from 'sharp';
import { loadGroundTruth, resolveImage, type GtImage } from './ground-truth.js';

export interface SyntheticImage {
  name: string;
  data: Buffer;
  gt: GtImage;
}

const FACE_SIZES = [12, 14, 18, 22, 28, 40, 64, 128];
const PLATE_SIZES = [10, 12, 14, 18, 22, 28, 40, 64];
const BACKGROUNDS = ['darknet:dog.jpg', 'darknet:horses.jpg', 'darknet:person.jpg'];
const FACE_SOURCES = ['faces/uf_2.jpg', 'faces/uf_3.jpg', 'faces/uf_9.jpg', 'faces/uf_13.jpg', 'faces/uf_20.jpg'];
const WIDTH = 1920;
const HEIGHT = 1080;
const COLS = 6;
const ROWS = 4;

/** Deterministic LCG so every run places the same crops at the same spots. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

interface Crop {
  file: string;
  box: [number, number, number, number];
  context: number;
}

function crops(gt: GtImage[], cls: 'face' | 'plate', sources: (image: string) => boolean, context: number): Crop[] {
  return gt.filter((g) => sources(g.image)).flatMap((g) => g.objects.filter((o) => o.class === cls).map((o) => ({ file: g.image, box: o.box, context })));
}

async function paste(crop: Crop, target: number): Promise<{ data: Buffer; width: number; height: number; box: [number, number, number, number] }> {
  const [x, y, w, h] = crop.box;
  const src = sharp(resolveImage(crop.file)).rotate();
  const { width: iw, height: ih } = await sharp(await src.clone().png().toBuffer()).metadata();
  const left = Math.max(0, Math.round(x - w * crop.context));
  const top = Math.max(0, Math.round(y - h * crop.context));
  const right = Math.min(iw!, Math.round(x + w * (1 + crop.context)));
  const bottom = Math.min(ih!, Math.round(y + h * (1 + crop.context)));
  const f = target / Math.min(w, h);
  const width = Math.max(1, Math.round((right - left) * f));
  const height = Math.max(1, Math.round((bottom - top) * f));
  const data = await src.extract({ left, top, width: right - left, height: bottom - top }).resize(width, height, { fit: 'fill' }).png().toBuffer();
  return { data, width, height, box: [(x - left) * f, (y - top) * f, w * f, h * f] };
}

/** 2 composites per background (faces and plates alternating by cell), 24 objects each. */
export async function buildSynthetic(): Promise<SyntheticImage[]> {
  const gt = loadGroundTruth();
  const faces = crops(gt, 'face', (i) => FACE_SOURCES.some((s) => i.endsWith(s)), 0.3);
  const plates = crops(gt, 'plate', (i) => i.includes('plates/alpr_'), 0.3);
  const out: SyntheticImage[] = [];
  let n = 0;
  for (const bg of BACKGROUNDS) {
    for (let variant = 0; variant < 2; variant++) {
      const random = rng(1000 + n);
      const base = await sharp(resolveImage(bg)).rotate().resize(WIDTH, HEIGHT, { fit: 'cover' }).removeAlpha().png().toBuffer();
      const layers: OverlayOptions[] = [];
      const objects: GtImage['objects'] = [];
      const cellW = WIDTH / COLS;
      const cellH = HEIGHT / ROWS;
      for (let cell = 0; cell < COLS * ROWS; cell++) {
        const isFace = (cell + variant) % 2 === 0;
        const sizes = isFace ? FACE_SIZES : PLATE_SIZES;
        const size = sizes[Math.floor(cell / 2) % sizes.length];
        const pool = isFace ? faces : plates;
        const crop = pool[(cell * 7 + n * 3) % pool.length];
        const piece = await paste(crop, size);
        if (piece.width > cellW || piece.height > cellH) continue;
        const left = Math.round((cell % COLS) * cellW + random() * (cellW - piece.width));
        const top = Math.round(Math.floor(cell / COLS) * cellH + random() * (cellH - piece.height));
        layers.push({ input: piece.data, left, top });
        const [bx, by, bw, bh] = piece.box;
        objects.push({ class: isFace ? 'face' : 'plate', box: [left + bx, top + by, bw, bh] });
      }
      const data = await sharp(base).composite(layers).jpeg({ quality: 92 }).toBuffer();
      const name = `synthetic:${bg.split(':')[1].replace('.jpg', '')}-${variant}`;
      out.push({ name, data, gt: { image: name, width: WIDTH, height: HEIGHT, exhaustive: [], objects } });
      n++;
    }
  }
  return out;
}
