// The per-pixel stages, from the native addon when it is built and loads, otherwise from the
// TypeScript fallbacks. Callers import from here only, so both paths run the same pipeline.
import { blurRegionsFallback } from './fallback/blur.js';
import { nmsFallback } from './fallback/nms.js';
import { normalizeToChwFallback } from './fallback/tensor.js';

export type { BlurRegion, BlurSpec, InputTransform, ModelInput, RawImage, TensorSpec } from './types.js';

export const pixelOps = {
  implementation: 'typescript' as 'typescript' | 'native',
  blurRegions: blurRegionsFallback,
  nms: nmsFallback,
  normalizeToChw: normalizeToChwFallback,
};
