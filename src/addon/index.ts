// The per-pixel stages, from the native addon when it is built and loads, otherwise from the
// TypeScript fallbacks. Callers import from here only, so both paths run the same pipeline, and
// both get the same validation (src/addon/validate.ts) first.
import { isMainThread } from 'node:worker_threads';
import { ConfigError } from '../config/config.js';
import { choosePixelOps, pixelOpsMode } from './choose.js';
import { blurRegionsFallback } from './fallback/blur.js';
import { nmsFallback } from './fallback/nms.js';
import { halveImageFallback } from './fallback/pyramid.js';
import { regionToTensorFallback } from './fallback/region-tensor.js';
import { createJpegBlocks } from './jpeg-blocks.js';
import { createNativeOps, loadNativeAddon } from './native.js';
import { deepestLevel, ImagePyramid } from './pyramid.js';
import { planRegionTensor } from './region-plan.js';
import type { BlurRegion, BlurSpec, RawImage, RegionTensor, RegionTensorOptions, TensorLayout, TensorSpec } from './types.js';
import { validateBlurArgs, validateNmsArgs, validatePyramidArgs, validateRegionTensorArgs } from './validate.js';

export { ImagePyramid } from './pyramid.js';
export type { PixelOpsImplementation } from './choose.js';
export type { JpegBlocks } from './jpeg-blocks.js';
export type {
  BlurRegion,
  BlurSpec,
  InputTransform,
  JpegBlocksOutcome,
  JpegBlocksRequest,
  JpegBlocksSupport,
  JpegMarker,
  ModelInput,
  PyramidLevel,
  RawImage,
  RegionTensor,
  RegionTensorOptions,
  SourceRegion,
  TensorLayout,
  TensorSpec,
} from './types.js';

const fallback = {
  blurRegions: blurRegionsFallback,
  nms: nmsFallback,
  halveImage: halveImageFallback,
  regionToTensor: regionToTensorFallback,
};

// PIXEL_OPS (src/addon/choose.ts says what each value picks); PIXVEIL_NATIVE=off is the older `ts`.
function chooseImplementation() {
  const { mode, error } = pixelOpsMode(process.env);
  const choice = choosePixelOps(error ? 'auto' : mode, loadNativeAddon, fallback, createNativeOps);
  if (error) return { ...choice, note: undefined, error };
  if (mode === 'ts' && !process.env.PIXEL_OPS) return { ...choice, note: 'native pixel ops disabled by PIXVEIL_NATIVE=off; using the TypeScript fallback' };
  return choice;
}

// Chosen once per thread (PIXEL_OPS, read here in every thread like PIXVEIL_NATIVE before it).
const chosen = chooseImplementation();
// Pool workers load this module too; the main thread alone speaks, so the line appears once per process.
// An error is not spoken here: checkPixelOps() turns it into the one start-up line.
if (chosen.note && !chosen.error && isMainThread) process.stderr.write(`pixveil: ${chosen.note}\n`);

/** Stops start-up (ConfigError: one line, exit 2) when PIXEL_OPS asked for what cannot run here. */
export function checkPixelOps(): void {
  if (chosen.error) throw new ConfigError(chosen.error);
}

export const pixelOps = {
  implementation: chosen.implementation,
  /** Anonymizes each region of `image` in place. Synchronous: call it from a pool thread. */
  blurRegions(image: RawImage, regions: BlurRegion[], spec: BlurSpec): void {
    validateBlurArgs(image, regions, spec);
    chosen.ops.blurRegions(image, regions, spec);
  },
  nms(boxes: Float32Array, scores: Float32Array, iouThreshold: number, classes?: Int32Array): Int32Array {
    validateNmsArgs(boxes, scores, iouThreshold, classes);
    return chosen.ops.nms(boxes, scores, iouThreshold, classes);
  },
  /**
   * The anti-aliasing pyramid of one decoded image, built once and passed to every
   * regionToTensor call on it. Levels are built on first use; maxLevel 0 turns them off.
   */
  buildPyramid(image: RawImage, options?: { maxLevel?: number }): ImagePyramid {
    validatePyramidArgs(image, options);
    return new ImagePyramid(image, options?.maxLevel ?? deepestLevel(image.width, image.height), chosen.ops.halveImage);
  },
  /**
   * One model input from a region of the image in one pass: crop + resize (bilinear from the
   * deepest pyramid level that leaves a 1–2× shrink) + channel order + normalise + layout + padding.
   * Writes into options.out at options.offset when given (one item of a batch tensor).
   * The transform maps model-input coordinates to full-image pixels.
   */
  regionToTensor(pyramid: ImagePyramid, spec: TensorSpec & { layout?: TensorLayout }, options?: RegionTensorOptions): RegionTensor {
    validateRegionTensorArgs(pyramid, spec, options);
    const region = options?.region ?? { x: 0, y: 0, width: pyramid.image.width, height: pyramid.image.height };
    const plan = planRegionTensor(region, spec, pyramid.maxLevel);
    const tensor = options?.out ?? new Float32Array(3 * spec.width * spec.height);
    const offset = options?.offset ?? 0;
    chosen.ops.regionToTensor(pyramid.level(plan.level), plan, tensor, offset);
    return { tensor, offset, transform: plan.transform, level: plan.level };
  },
};

/** Keeps a JPEG's untouched DCT blocks when the addon has libjpeg-turbo (src/addon/jpeg-blocks.ts). */
export const jpegBlocks = createJpegBlocks('keepJpegBlocks' in chosen.ops ? chosen.ops : undefined, chosen.note ?? 'the native addon is not loaded');
