import sharp from 'sharp';
import { pixelOps } from '../addon/index.js';
import type { InputTransform, ModelInput, RawImage, TensorSpec } from '../addon/types.js';

/** Where the image lands inside the model input, and at what scale. */
export function planInput(imageWidth: number, imageHeight: number, spec: TensorSpec) {
  if (spec.resize === 'stretch') {
    const transform: InputTransform = { scaleX: spec.width / imageWidth, scaleY: spec.height / imageHeight, padX: 0, padY: 0 };
    return { contentWidth: spec.width, contentHeight: spec.height, transform };
  }
  const scale = Math.min(spec.width / imageWidth, spec.height / imageHeight);
  const contentWidth = Math.max(1, Math.min(spec.width, Math.round(imageWidth * scale)));
  const contentHeight = Math.max(1, Math.min(spec.height, Math.round(imageHeight * scale)));
  const padX = spec.align === 'center' ? Math.floor((spec.width - contentWidth) / 2) : 0;
  const padY = spec.align === 'center' ? Math.floor((spec.height - contentHeight) / 2) : 0;
  const transform: InputTransform = { scaleX: contentWidth / imageWidth, scaleY: contentHeight / imageHeight, padX, padY };
  return { contentWidth, contentHeight, transform };
}

/**
 * The decoded image → one model's input tensor. libvips does the resize (SIMD, on the
 * libuv pool); the normalise + HWC→CHW pass runs in the addon or its fallback.
 */
export async function prepareModelInput(image: RawImage, spec: TensorSpec): Promise<ModelInput> {
  const { contentWidth, contentHeight, transform } = planInput(image.width, image.height, spec);
  let resized = sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  if (image.channels === 4) resized = resized.removeAlpha();
  const rgb = await resized.resize(contentWidth, contentHeight, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
  const tensor = pixelOps.normalizeToChw(rgb, contentWidth, contentHeight, transform.padX, transform.padY, spec);
  return { tensor, transform };
}
