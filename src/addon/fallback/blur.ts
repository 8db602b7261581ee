import type { BlurRegion, BlurSpec, RawImage } from '../types.js';

interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function clip(region: BlurRegion, image: RawImage): Rect | undefined {
  const x0 = Math.max(0, Math.floor(region.x));
  const y0 = Math.max(0, Math.floor(region.y));
  const x1 = Math.min(image.width, Math.ceil(region.x + region.width));
  const y1 = Math.min(image.height, Math.ceil(region.y + region.height));
  return x1 - x0 >= 1 && y1 - y0 >= 1 ? { x0, y0, x1, y1 } : undefined;
}

/** Strength scales with the region so a large face is as unrecognisable as a small one. */
export function blurRadiusFor(width: number, height: number): number {
  return Math.max(2, Math.round(Math.min(width, height) / 8));
}

export function pixelSizeFor(width: number, height: number): number {
  return Math.max(4, Math.ceil(Math.max(width, height) / 8));
}

/** true when pixel (x, y) of the rect is inside the mask shape. */
function maskTest(rect: Rect, shape: BlurSpec['shape']): (x: number, y: number) => boolean {
  if (shape === 'box') return () => true;
  const cx = (rect.x0 + rect.x1) / 2;
  const cy = (rect.y0 + rect.y1) / 2;
  const rx = (rect.x1 - rect.x0) / 2;
  const ry = (rect.y1 - rect.y0) / 2;
  return (x, y) => {
    const dx = (x + 0.5 - cx) / rx;
    const dy = (y + 0.5 - cy) / ry;
    return dx * dx + dy * dy <= 1;
  };
}

/** One box-filter pass along a line of `count` samples with `stride`, edges clamped. */
function boxPass(src: Float32Array, dst: Float32Array, start: number, count: number, stride: number, radius: number): void {
  const window = 2 * radius + 1;
  const at = (i: number) => src[start + Math.min(count - 1, Math.max(0, i)) * stride];
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += at(i);
  for (let i = 0; i < count; i++) {
    dst[start + i * stride] = sum / window;
    sum += at(i + radius + 1) - at(i - radius);
  }
}

/** Three box passes per axis approximate a gaussian; cost does not grow with the radius. */
function gaussianInto(image: RawImage, rect: Rect, out: Float32Array[]): void {
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  const radius = Math.min(blurRadiusFor(w, h), Math.max(w, h));
  const tmp = new Float32Array(w * h);
  for (let c = 0; c < 3; c++) {
    const plane = out[c];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) plane[y * w + x] = image.data[((rect.y0 + y) * image.width + rect.x0 + x) * image.channels + c];
    }
    for (let pass = 0; pass < 3; pass++) {
      for (let y = 0; y < h; y++) boxPass(plane, tmp, y * w, w, 1, radius);
      for (let x = 0; x < w; x++) boxPass(tmp, plane, x, h, w, radius);
    }
  }
}

function pixelateInto(image: RawImage, rect: Rect, out: Float32Array[]): void {
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  const block = pixelSizeFor(w, h);
  for (let by = 0; by < h; by += block) {
    for (let bx = 0; bx < w; bx += block) {
      const ey = Math.min(h, by + block);
      const ex = Math.min(w, bx + block);
      const n = (ey - by) * (ex - bx);
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let y = by; y < ey; y++) {
          for (let x = bx; x < ex; x++) sum += image.data[((rect.y0 + y) * image.width + rect.x0 + x) * image.channels + c];
        }
        const mean = sum / n;
        for (let y = by; y < ey; y++) out[c].fill(mean, y * w + bx, y * w + ex);
      }
    }
  }
}

/** Anonymizes each region of `image` in place. Alpha, where present, is left as it was. */
export function blurRegionsFallback(image: RawImage, regions: BlurRegion[], spec: BlurSpec): void {
  for (const region of regions) {
    const rect = clip(region, image);
    if (!rect) continue;
    const w = rect.x1 - rect.x0;
    const h = rect.y1 - rect.y0;
    const planes = [new Float32Array(w * h), new Float32Array(w * h), new Float32Array(w * h)];
    if (spec.style === 'gaussian') gaussianInto(image, rect, planes);
    else if (spec.style === 'pixelate') pixelateInto(image, rect, planes);
    const inside = maskTest(rect, spec.shape);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!inside(rect.x0 + x, rect.y0 + y)) continue;
        const p = ((rect.y0 + y) * image.width + rect.x0 + x) * image.channels;
        // solid leaves the planes at zero: black.
        for (let c = 0; c < 3; c++) image.data[p + c] = Math.round(planes[c][y * w + x]);
      }
    }
  }
}
