// Everything the fused region → tensor pass needs, worked out once in TypeScript so the addon
// and the fallback read the same numbers (and so give the same floats): the pyramid level, the
// sampling scales, the normalisation constants and the transform back to image pixels.
import { planInput } from './input-plan.js';
import type { InputTransform, SourceRegion, TensorLayout, TensorSpec } from './types.js';

/** Bilinear is a box filter at 2× shrink at most; beyond that it skips pixels and aliases. */
export const MAX_BILINEAR_SHRINK = 2;
/** Bilinear sums carry 16 fraction bits (two 8-bit weights). */
const SUM_ONE = 65536;

export interface RegionTensorPlan {
  level: number;
  regionX: number;
  regionY: number;
  /** Content pixels per image pixel. */
  scaleX: number;
  scaleY: number;
  contentWidth: number;
  contentHeight: number;
  offsetX: number;
  offsetY: number;
  tensorWidth: number;
  tensorHeight: number;
  layout: TensorLayout;
  /** Output channel c reads source channel source[c]. */
  source: Int32Array;
  /**
   * value = sum × scale[c] − bias[c] in float arithmetic, with sum = pixel × 2^16 (exact in a
   * float): (pixel − mean) / std. Float, not double, so the addon can vectorise it.
   */
  scale: Float32Array;
  bias: Float32Array;
  pad: Float64Array;
  /** Model input → full-image pixels, the region's offset included. */
  transform: InputTransform;
}

/**
 * The deepest level that leaves a shrink of at least 1 (so at most MAX_BILINEAR_SHRINK) to the
 * model input: nothing is upsampled from a level that threw detail away. At exactly 2× this
 * takes the next level 1:1 rather than bilinear at 2× from this one: the same 2×2 average,
 * already built for the other passes, and half the pixels to read.
 */
export function levelFor(shrink: number, maxLevel: number): number {
  let level = 0;
  while (level < maxLevel && shrink / 2 ** (level + 1) >= 1) level++;
  return level;
}

export function planRegionTensor(region: SourceRegion, spec: TensorSpec & { layout?: TensorLayout }, maxLevel: number): RegionTensorPlan {
  const { contentWidth, contentHeight, transform } = planInput(region.width, region.height, spec);
  const shrink = Math.max(region.width / contentWidth, region.height / contentHeight);
  const source = Int32Array.from(spec.channelOrder === 'rgb' ? [0, 1, 2] : [2, 1, 0]);
  const scale = Float32Array.from(spec.std, (std) => 1 / (SUM_ONE * std));
  const bias = Float32Array.from(spec.std, (std, c) => spec.mean[c] / std);
  const pad = Float64Array.from(spec.std, (std, c) => (spec.padValue - spec.mean[c]) / std);
  return {
    level: levelFor(shrink, maxLevel),
    regionX: region.x,
    regionY: region.y,
    scaleX: transform.scaleX,
    scaleY: transform.scaleY,
    contentWidth,
    contentHeight,
    offsetX: transform.padX,
    offsetY: transform.padY,
    tensorWidth: spec.width,
    tensorHeight: spec.height,
    layout: spec.layout ?? 'nchw',
    source,
    scale,
    bias,
    pad,
    // image = (model - pad) / scale + offset  ⇔  image = (model - (pad - offset·scale)) / scale
    transform: { ...transform, padX: transform.padX - region.x * transform.scaleX, padY: transform.padY - region.y * transform.scaleY },
  };
}
