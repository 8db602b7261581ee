import type { TensorSpec } from '../types.js';

/**
 * Normalizes an already-resized RGB image of contentWidth × contentHeight into an NCHW
 * tensor of spec.width × spec.height, placing it at (offsetX, offsetY) and filling the
 * rest with the pad value, in the model's channel order.
 */
export function normalizeToChwFallback(
  rgb: Uint8Array,
  contentWidth: number,
  contentHeight: number,
  offsetX: number,
  offsetY: number,
  spec: TensorSpec,
): Float32Array {
  const { width, height, mean, std } = spec;
  const plane = width * height;
  const tensor = new Float32Array(3 * plane);
  // Output channel c reads source channel src[c]: RGB keeps order, BGR swaps R and B.
  const src = spec.channelOrder === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const padded = (spec.padValue - mean[c]) / std[c];
    tensor.fill(padded, c * plane, (c + 1) * plane);
  }
  const scale = [1 / std[0], 1 / std[1], 1 / std[2]];
  for (let y = 0; y < contentHeight; y++) {
    const rowIn = y * contentWidth * 3;
    const rowOut = (y + offsetY) * width + offsetX;
    for (let x = 0; x < contentWidth; x++) {
      const p = rowIn + x * 3;
      const o = rowOut + x;
      tensor[o] = (rgb[p + src[0]] - mean[0]) * scale[0];
      tensor[plane + o] = (rgb[p + src[1]] - mean[1]) * scale[1];
      tensor[2 * plane + o] = (rgb[p + src[2]] - mean[2]) * scale[2];
    }
  }
  return tensor;
}
