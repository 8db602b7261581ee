// The openalpr end-to-end benchmark's development split (../shared/eval/openalpr, see its README):
// one labelled plate per car photo, in us/, eu/ and br/. Other plates in a photo are not labelled,
// so the eval counts detections off the labelled plate apart ("unlabelled boxes") instead of as false.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { repoRoot, type GtImage } from './ground-truth.js';

export const OPENALPR_REGIONS = ['us', 'eu', 'br'] as const;
export type OpenalprRegion = (typeof OPENALPR_REGIONS)[number];
export const openalprDir = process.env.OPENALPR_DIR ?? path.resolve(repoRoot, '../shared/eval/openalpr');

export interface OpenalprImage {
  name: string;
  region: OpenalprRegion;
  file: string;
  gt: GtImage;
}

/**
 * Labels are in the pixels of the image as stored; the pipeline applies EXIF orientation first, so a
 * rotated photo's box is turned the same way (none of the development split is rotated today).
 */
export function upright(box: [number, number, number, number], orientation: number, width: number, height: number): [number, number, number, number] {
  const [x, y, w, h] = box;
  switch (orientation) {
    case 1:
      return box;
    case 3:
      return [width - x - w, height - y - h, w, h];
    case 6:
      return [height - y - h, x, h, w];
    case 8:
      return [y, width - x - w, h, w];
    default:
      throw new Error(`EXIF orientation ${orientation} (mirrored) is not handled by the openalpr loader`);
  }
}

export async function loadOpenalpr(regions: readonly OpenalprRegion[] = OPENALPR_REGIONS): Promise<OpenalprImage[]> {
  const out: OpenalprImage[] = [];
  for (const region of regions) {
    const dir = path.join(openalprDir, region);
    for (const label of fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
      const [file, ...fields] = fs.readFileSync(path.join(dir, label), 'utf8').trim().split('\t');
      const [x, y, w, h] = fields.slice(0, 4).map(Number);
      const meta = await sharp(path.join(dir, file)).metadata();
      const orientation = meta.orientation ?? 1;
      const turned = orientation >= 5;
      const [width, height] = turned ? [meta.height!, meta.width!] : [meta.width!, meta.height!];
      const box = upright([x, y, w, h], orientation, meta.width!, meta.height!);
      const name = `openalpr:${region}/${file}`;
      out.push({ name, region, file: path.join(dir, file), gt: { image: name, width, height, exhaustive: [], objects: [{ class: 'plate', box }] } });
    }
  }
  return out;
}
