import sharp from 'sharp';
import type { InputTransform, ModelInput, RawImage, TensorSpec } from '../src/addon/types.js';
import { chwToHwc, planInput, type PixelRegion, type TensorLayout } from '../src/models/input.js';

// The pre-issue-14 way to build a model input (sharp crops and resizes per pass): kept as the reference the
// fused regionToTensor pass is checked against (addon-region-tensor test) and timed against (bench/preprocess.ts).

/**
 * The decoded image (or one region of it) → one model's input tensor, the sharp way. libvips does the crop and
 * resize (SIMD, on the libuv pool); the normalise + HWC→CHW pass is normalizeToChw below.
 * The returned transform maps model-input coordinates to full-image pixels, the region's offset included.
 */
export async function prepareModelInput(image: RawImage, spec: TensorSpec & { layout?: TensorLayout }, region?: PixelRegion): Promise<ModelInput> {
  const area = region ?? { x: 0, y: 0, width: image.width, height: image.height };
  const { contentWidth, contentHeight, transform } = planInput(area.width, area.height, spec);
  let resized = sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  if (region) resized = resized.extract({ left: area.x, top: area.y, width: area.width, height: area.height });
  if (image.channels === 4) resized = resized.removeAlpha();
  const rgb = await resized.resize(contentWidth, contentHeight, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  const chw = normalizeToChw(rgb, contentWidth, contentHeight, transform.padX, transform.padY, spec);
  const tensor = spec.layout === 'nhwc' ? chwToHwc(chw, spec.width, spec.height) : chw;
  // image = (model - pad) / scale + offset  ⇔  image = (model - (pad - offset·scale)) / scale
  const full: InputTransform = { ...transform, padX: transform.padX - area.x * transform.scaleX, padY: transform.padY - area.y * transform.scaleY };
  return { tensor, transform: full };
}

/**
 * The reference's normalize step (the addon's before the fused pass): normalizes an already-resized RGB image of contentWidth × contentHeight into an NCHW
 * tensor of spec.width × spec.height, placing it at (offsetX, offsetY) and filling the
 * rest with the pad value, in the model's channel order.
 */
export function normalizeToChw(
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
