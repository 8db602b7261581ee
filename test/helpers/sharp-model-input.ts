import sharp from 'sharp';
import { pixelOps } from '../../src/addon/index.js';
import type { InputTransform, ModelInput, RawImage, TensorSpec } from '../../src/addon/types.js';
import { chwToHwc, planInput, type PixelRegion, type TensorLayout } from '../../src/models/input.js';

// The pre-issue-14 way to build a model input (sharp crops and resizes per pass): kept as the reference the
// fused regionToTensor pass is checked against (addon-region-tensor test) and timed against (bench/preprocess.ts).

/**
 * The decoded image (or one region of it) → one model's input tensor, the sharp way. libvips does the crop and
 * resize (SIMD, on the libuv pool); the normalise + HWC→CHW pass runs in the addon or its fallback.
 * The returned transform maps model-input coordinates to full-image pixels, the region's offset included.
 */
export async function prepareModelInput(image: RawImage, spec: TensorSpec & { layout?: TensorLayout }, region?: PixelRegion): Promise<ModelInput> {
  const area = region ?? { x: 0, y: 0, width: image.width, height: image.height };
  const { contentWidth, contentHeight, transform } = planInput(area.width, area.height, spec);
  let resized = sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  if (region) resized = resized.extract({ left: area.x, top: area.y, width: area.width, height: area.height });
  if (image.channels === 4) resized = resized.removeAlpha();
  const rgb = await resized.resize(contentWidth, contentHeight, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  const chw = pixelOps.normalizeToChw(rgb, contentWidth, contentHeight, transform.padX, transform.padY, spec);
  const tensor = spec.layout === 'nhwc' ? chwToHwc(chw, spec.width, spec.height) : chw;
  // image = (model - pad) / scale + offset  ⇔  image = (model - (pad - offset·scale)) / scale
  const full: InputTransform = { ...transform, padX: transform.padX - area.x * transform.scaleX, padY: transform.padY - area.y * transform.scaleY };
  return { tensor, transform: full };
}
