// What the JPEG block tests compare: decoded pixels far from every blurred box, and inside them.
import { execFileSync } from 'node:child_process';
import sharp from 'sharp';

export interface PixelBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Decoded {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

/** Decoded as the pipeline decodes (upright, sRGB), without conversion when `asStored`. */
export async function decodePixels(bytes: Buffer, asStored = false): Promise<Decoded> {
  const pipeline = asStored ? sharp(bytes) : sharp(bytes).rotate().toColourspace('srgb');
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** The pixels the blur stage really changes: the box clipped outward to whole pixels, as the addon clips it. */
function pixelRect(box: PixelBox, width: number, height: number) {
  return {
    x0: Math.max(0, Math.floor(box.x)),
    y0: Math.max(0, Math.floor(box.y)),
    x1: Math.min(width, Math.ceil(box.x + box.width)),
    y1: Math.min(height, Math.ceil(box.y + box.height)),
  };
}

/**
 * Pixels farther than `margin` px (Chebyshev) from every box, and how many of them differ between
 * the two images, with the largest difference seen.
 */
export function farPixels(a: Decoded, b: Decoded, boxes: PixelBox[], margin = 16): { far: number; changed: number; maxDiff: number } {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) throw new Error(`different shapes: ${a.width}×${a.height}×${a.channels} vs ${b.width}×${b.height}×${b.channels}`);
  // Mark the near pixels once per box: cheaper than a distance per pixel and box.
  const near = new Uint8Array(a.width * a.height);
  for (const box of boxes) {
    const r = pixelRect(box, a.width, a.height);
    for (let y = Math.max(0, r.y0 - margin); y < Math.min(a.height, r.y1 + margin); y++) near.fill(1, y * a.width + Math.max(0, r.x0 - margin), y * a.width + Math.min(a.width, r.x1 + margin));
  }
  let far = 0;
  let changed = 0;
  let maxDiff = 0;
  for (let p = 0; p < near.length; p++) {
    if (near[p]) continue;
    far++;
    let diff = 0;
    for (let c = 0; c < a.channels; c++) diff = Math.max(diff, Math.abs(a.data[p * a.channels + c] - b.data[p * a.channels + c]));
    if (diff > 0) changed++;
    maxDiff = Math.max(maxDiff, diff);
  }
  return { far, changed, maxDiff };
}

/** Mean absolute difference over the box's pixels (all channels). */
export function meanDiffInside(a: Decoded, b: Decoded, box: PixelBox): number {
  const r = pixelRect(box, a.width, a.height);
  let sum = 0;
  let n = 0;
  for (let y = r.y0; y < r.y1; y++) {
    for (let x = r.x0; x < r.x1; x++) {
      for (let c = 0; c < a.channels; c++) {
        const i = (y * a.width + x) * a.channels + c;
        sum += Math.abs(a.data[i] - b.data[i]);
        n++;
      }
    }
  }
  return sum / n;
}

/** Mean absolute horizontal gradient inside the box, first channel: detail, which a blur removes. */
export function detailInside(image: Decoded, box: PixelBox): number {
  const r = pixelRect(box, image.width, image.height);
  let sum = 0;
  let n = 0;
  for (let y = r.y0; y < r.y1; y++) {
    for (let x = r.x0 + 1; x < r.x1; x++) {
      sum += Math.abs(image.data[(y * image.width + x) * image.channels] - image.data[(y * image.width + x - 1) * image.channels]);
      n++;
    }
  }
  return sum / n;
}

/** libjpeg-turbo's jpegtran (Debian: libjpeg-turbo-progs) with a restart marker every `mcus` MCUs (`-restart NB`). */
export function withRestartMarkers(jpeg: Buffer, mcus = 1, optimise = false): Buffer {
  return execFileSync('jpegtran', ['-restart', `${mcus}B`, '-copy', 'none', ...(optimise ? ['-optimize'] : [])], { input: jpeg, maxBuffer: 64 * 1024 * 1024 });
}

/** Markers of a JPEG before its first scan, e.g. 0xdd (DRI), 0xc2 (progressive SOF). */
export function jpegMarkers(jpeg: Buffer): number[] {
  const out: number[] = [];
  for (let i = 2; i + 4 <= jpeg.length && jpeg[i] === 0xff; i += 2 + jpeg.readUInt16BE(i + 2)) {
    out.push(jpeg[i + 1]);
    if (jpeg[i + 1] === 0xda) break;
  }
  return out;
}

/** Restart markers (FF D0–D7) in the entropy-coded data. */
export function countRestartMarkers(jpeg: Buffer): number {
  let n = 0;
  for (let i = 0; i + 1 < jpeg.length; i++) if (jpeg[i] === 0xff && jpeg[i + 1] >= 0xd0 && jpeg[i + 1] <= 0xd7) n++;
  return n;
}
