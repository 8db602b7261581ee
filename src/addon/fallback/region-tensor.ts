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
  // Sources are RGB or BGR: the middle channel never moves.
  const bgr = plan.source[0] === 2;
  const [k0, k1, k2] = plan.scale;
  const [b0, b1, b2] = plan.bias;
  for (let y = 0; y < plan.contentHeight; y++) {
    const top = rows.first[y] * stride;
    const bottom = rows.second[y] * stride;
    const wy = rows.weight[y];
    const wyTop = WEIGHT_ONE - wy;
    const pixel = (y + plan.offsetY) * plan.tensorWidth + plan.offsetX;
    const o0 = offset + (nhwc ? pixel * 3 : pixel);
    const o1 = nhwc ? o0 + 1 : o0 + plane;
    const o2 = nhwc ? o0 + 2 : o0 + 2 * plane;
    for (let x = 0; x < plan.contentWidth; x++) {
      const wx = columns.weight[x];
      const wxFirst = WEIGHT_ONE - wx;
      const a = top + columns.first[x];
      const b = top + columns.second[x];
      const c = bottom + columns.first[x];
      const d = bottom + columns.second[x];
      // Exact integers: value × 2^16, as in the addon.
      const red = (data[a] * wxFirst + data[b] * wx) * wyTop + (data[c] * wxFirst + data[d] * wx) * wy;
      const green = (data[a + 1] * wxFirst + data[b + 1] * wx) * wyTop + (data[c + 1] * wxFirst + data[d + 1] * wx) * wy;
      const blue = (data[a + 2] * wxFirst + data[b + 2] * wx) * wyTop + (data[c + 2] * wxFirst + data[d + 2] * wx) * wy;
      const o = x * step;
      // The store into the Float32Array rounds the difference to float: the addon's float subtraction.
      out[o0 + o] = Math.fround((bgr ? blue : red) * k0) - b0;
      out[o1 + o] = Math.fround(green * k1) - b1;
      out[o2 + o] = Math.fround((bgr ? red : blue) * k2) - b2;
    }
  }
}
