import type { RegionTensorPlan } from '../region-plan.js';
import type { PyramidLevel } from '../types.js';

/** Bilinear weights in 8-bit fixed point, as native/src/preprocess.h's kWeightBits. */
const WEIGHT_ONE = 256;

/** Per content pixel along one axis: the two level pixels it blends (clamped) and the second's weight. */
function tapsFor(count: number, origin: number, scale: number, levelScale: number, limit: number) {
  const first = new Int32Array(count);
  const second = new Int32Array(count);
  const weight = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const position = (origin + (i + 0.5) / scale) / levelScale - 0.5;
    const base = Math.floor(position);
    weight[i] = Math.floor((position - base) * WEIGHT_ONE + 0.5);
    first[i] = Math.min(Math.max(base, 0), limit - 1);
    second[i] = Math.min(Math.max(base + 1, 0), limit - 1);
  }
  return { first, second, weight };
}

function fillPadding(plan: RegionTensorPlan, out: Float32Array, offset: number): void {
  const { tensorWidth: w, tensorHeight: h, offsetX, offsetY, pad } = plan;
  const x1 = offsetX + plan.contentWidth;
  const y1 = offsetY + plan.contentHeight;
  const plane = w * h;
  const outside = (y: number, from: number, to: number) => {
    if (from >= to) return;
    if (plan.layout === 'nhwc') {
      for (let x = from; x < to; x++) out.set(pad, offset + (y * w + x) * 3);
      return;
    }
    for (let c = 0; c < 3; c++) out.fill(pad[c], offset + c * plane + y * w + from, offset + c * plane + y * w + to);
  };
  for (let y = 0; y < h; y++) {
    if (y < offsetY || y >= y1) {
      outside(y, 0, w);
    } else {
      outside(y, 0, offsetX);
      outside(y, x1, w);
    }
  }
}

/**
 * Crop + bilinear resize + channel order + normalise + layout + padding from one pyramid level
 * into `out` at element `offset`, in 8-bit fixed-point weights. Gives the same floats as
 * native/src/preprocess.cc: the sums are exact integers, and the normalisation is float
 * arithmetic emulated with Math.fround (a double product or difference of two floats, rounded
 * to float, is the float operation's result).
 */
export function regionToTensorFallback(level: PyramidLevel, plan: RegionTensorPlan, out: Float32Array, offset: number): void {
  fillPadding(plan, out, offset);
  const { data, channels } = level;
  const columns = tapsFor(plan.contentWidth, plan.regionX, plan.scaleX, level.scale, level.width);
  const rows = tapsFor(plan.contentHeight, plan.regionY, plan.scaleY, level.scale, level.height);
  for (let x = 0; x < plan.contentWidth; x++) {
    columns.first[x] *= channels;
    columns.second[x] *= channels;
  }
  const stride = level.width * channels;
  const plane = plan.tensorWidth * plan.tensorHeight;
  const nhwc = plan.layout === 'nhwc';
  const step = nhwc ? 3 : 1;
  const [s0, s1, s2] = plan.source;
  const [k0, k1, k2] = plan.scale;
  const [b0, b1, b2] = plan.bias;
  for (let y = 0; y < plan.contentHeight; y++) {
    const top = rows.first[y] * stride;
    const bottom = rows.second[y] * stride;
    const wy = rows.weight[y];
    const pixel = (y + plan.offsetY) * plan.tensorWidth + plan.offsetX;
    const o0 = offset + (nhwc ? pixel * 3 : pixel);
    const o1 = nhwc ? o0 + 1 : o0 + plane;
    const o2 = nhwc ? o0 + 2 : o0 + 2 * plane;
    for (let x = 0; x < plan.contentWidth; x++) {
      const wx = columns.weight[x];
      const a = top + columns.first[x];
      const b = top + columns.second[x];
      const c = bottom + columns.first[x];
      const d = bottom + columns.second[x];
      const sample = (s: number) =>
        (data[a + s] * (WEIGHT_ONE - wx) + data[b + s] * wx) * (WEIGHT_ONE - wy) + (data[c + s] * (WEIGHT_ONE - wx) + data[d + s] * wx) * wy;
      const o = x * step;
      out[o0 + o] = Math.fround(Math.fround(sample(s0) * k0) - b0);
      out[o1 + o] = Math.fround(Math.fround(sample(s1) * k1) - b1);
      out[o2 + o] = Math.fround(Math.fround(sample(s2) * k2) - b2);
    }
  }
}
