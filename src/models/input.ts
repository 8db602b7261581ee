import { planInput } from '../addon/input-plan.js';

/** Tensor layout of a model input; the addon only writes NCHW, NHWC is transposed here. */
export type TensorLayout = 'nchw' | 'nhwc';

/** A pixel rectangle of the decoded image (integers, inside the image). */
export interface PixelRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where the image lands inside the model input, and at what scale: the addon's rule, so both paths agree. */
export { planInput };

/** NCHW → NHWC for models exported from TensorFlow (BlazeFace); one pass, no per-pixel allocation. */
export function chwToHwc(chw: Float32Array, width: number, height: number): Float32Array {
  const plane = width * height;
  const hwc = new Float32Array(chw.length);
  for (let i = 0, o = 0; i < plane; i++, o += 3) {
    hwc[o] = chw[i];
    hwc[o + 1] = chw[plane + i];
    hwc[o + 2] = chw[2 * plane + i];
  }
  return hwc;
}

/** Clips a region to the image and rounds it to whole pixels; null when nothing is left. */
export function clipRegion(region: PixelRegion, imageWidth: number, imageHeight: number): PixelRegion | null {
  const x1 = Math.max(0, Math.floor(region.x));
  const y1 = Math.max(0, Math.floor(region.y));
  const x2 = Math.min(imageWidth, Math.ceil(region.x + region.width));
  const y2 = Math.min(imageHeight, Math.ceil(region.y + region.height));
  return x2 - x1 >= 2 && y2 - y1 >= 2 ? { x: x1, y: y1, width: x2 - x1, height: y2 - y1 } : null;
}
