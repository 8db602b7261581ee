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

/**
 * Regions blurred with a radius of at least 2 × LOW_RES_RADIUS are blurred at 1/f of their size
 * (f = radius / LOW_RES_RADIUS) and scaled back up bilinearly: the box passes cost f² less, and a
 * blur that wide has nothing left at the finer scale to lose. Same rule in native/src/blur.h.
 */
export const LOW_RES_RADIUS = 8;
export function decimationFor(radius: number): number {
  return radius >= 2 * LOW_RES_RADIUS ? Math.floor(radius / LOW_RES_RADIUS) : 1;
}

/** The two samples around full-resolution pixel x (pixel centres aligned), clamped, and the second's weight. */
function bilinearTaps(x: number, f: number, lowCount: number): [number, number, number] {
  const u = (x + 0.5) / f - 0.5;
  const base = Math.floor(u);
  return [Math.min(lowCount - 1, Math.max(0, base)), Math.min(lowCount - 1, Math.max(0, base + 1)), u - base];
}

/** Three box passes per axis approximate a gaussian; cost does not grow with the radius. */
function gaussianInto(image: RawImage, rect: Rect, out: Float32Array[]): void {
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  const radius = Math.min(blurRadiusFor(w, h), Math.max(w, h));
  const f = decimationFor(radius);
  const lw = Math.ceil(w / f);
  const lh = Math.ceil(h / f);
  const lowRadius = f > 1 ? Math.round(radius / f) : radius;
  const tmp = new Float32Array(lw * lh);
  const low = f > 1 ? new Float32Array(lw * lh) : undefined;
  const taps = f > 1 ? Array.from({ length: w }, (_, x) => bilinearTaps(x, f, lw)) : [];
  for (let c = 0; c < 3; c++) {
    const plane = low ?? out[c];
    for (let by = 0; by < lh; by++) {
      for (let bx = 0; bx < lw; bx++) {
        // f = 1: the pixel itself; otherwise the mean of its f × f block.
        let sum = 0;
        let count = 0;
        for (let y = by * f; y < Math.min(h, (by + 1) * f); y++) {
          for (let x = bx * f; x < Math.min(w, (bx + 1) * f); x++) {
            sum += image.data[((rect.y0 + y) * image.width + rect.x0 + x) * image.channels + c];
            count++;
          }
        }
        plane[by * lw + bx] = sum / count;
      }
    }
    for (let pass = 0; pass < 3; pass++) {
      for (let y = 0; y < lh; y++) boxPass(plane, tmp, y * lw, lw, 1, lowRadius);
      for (let x = 0; x < lw; x++) boxPass(tmp, plane, x, lh, lw, lowRadius);
    }
    if (!low) continue;
    for (let y = 0; y < h; y++) {
      const [y0, y1, ty] = bilinearTaps(y, f, lh);
      for (let x = 0; x < w; x++) {
        const [x0, x1, tx] = taps[x];
        const top = low[y0 * lw + x0] * (1 - tx) + low[y0 * lw + x1] * tx;
        const bottom = low[y1 * lw + x0] * (1 - tx) + low[y1 * lw + x1] * tx;
        out[c][y * w + x] = top * (1 - ty) + bottom * ty;
      }
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
