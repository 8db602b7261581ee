import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ensureDarknetPhotos } from './photos.js';

export { facesDir, modelDir, platesDir, sharedDir } from './photos.js';
/** Debian's darknet photos (dog.jpg has a car, a bicycle and a dog), fetched on first use. */
export const darknetDir = ensureDarknetPhotos();

export function fixture(...parts: string[]): string {
  const file = path.join(...parts);
  if (!fs.existsSync(file)) throw new Error(`Test fixture missing: ${file} (see README, "Tests")`);
  return file;
}

export function readFixture(...parts: string[]): Buffer {
  return fs.readFileSync(fixture(...parts));
}

/** Laplacian variance of the grayscale pixels inside a box: high for sharp detail, low once blurred. */
export async function sharpness(image: Buffer, box: { x: number; y: number; width: number; height: number }): Promise<number> {
  const meta = await sharp(image).metadata();
  const left = Math.max(0, Math.round(box.x));
  const top = Math.max(0, Math.round(box.y));
  const width = Math.min(meta.width! - left, Math.round(box.width));
  const height = Math.min(meta.height! - top, Math.round(box.height));
  const { data, info } = await sharp(image).rotate().extract({ left, top, width, height }).greyscale().raw().toBuffer({ resolveWithObject: true });
  const w = info.width;
  const values: number[] = [];
  for (let y = 1; y < info.height - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      values.push(4 * data[i] - data[i - 1] - data[i + 1] - data[i - w] - data[i + w]);
    }
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
}

async function laplacian(image: Buffer, box: { x: number; y: number; width: number; height: number }): Promise<Float64Array> {
  const left = Math.max(0, Math.round(box.x));
  const top = Math.max(0, Math.round(box.y));
  const { data, info } = await sharp(image).rotate().extract({ left, top, width: Math.round(box.width), height: Math.round(box.height) }).greyscale().raw().toBuffer({ resolveWithObject: true });
  const w = info.width;
  const out = new Float64Array((w - 2) * (info.height - 2));
  let k = 0;
  for (let y = 1; y < info.height - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      out[k++] = 4 * data[i] - data[i - 1] - data[i + 1] - data[i - w] - data[i + w];
    }
  }
  return out;
}

/**
 * Correlation of the fine detail (Laplacian) inside a box between two images: about 1 when the
 * detail survived, near 0 when it was destroyed — by blur, by pixelation (whose block edges do
 * not line up with the face's features) or by a solid fill.
 */
export async function detailCorrelation(original: Buffer, output: Buffer, box: { x: number; y: number; width: number; height: number }): Promise<number> {
  const a = await laplacian(original, box);
  const b = await laplacian(output, box);
  const mean = (v: Float64Array) => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = mean(a);
  const mb = mean(b);
  let cov = 0, va = 0, vb = 0;
  for (let i = 0; i < a.length; i++) {
    cov += (a[i] - ma) * (b[i] - mb);
    va += (a[i] - ma) ** 2;
    vb += (b[i] - mb) ** 2;
  }
  return va === 0 || vb === 0 ? 0 : cov / Math.sqrt(va * vb);
}
