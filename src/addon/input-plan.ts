// Where the image (or a region of it) lands inside a model input, and at what scale: the one
// rule for the fused pass and for src/models/input.ts (which re-exports it); regions may have
// fractional sizes here.
import type { InputTransform, TensorSpec } from './types.js';

export interface InputPlan {
  contentWidth: number;
  contentHeight: number;
  /** Model input → region pixels: region = (model - pad) / scale. */
  transform: InputTransform;
}

export function planInput(regionWidth: number, regionHeight: number, spec: TensorSpec): InputPlan {
  if (spec.resize === 'stretch') {
    const transform: InputTransform = { scaleX: spec.width / regionWidth, scaleY: spec.height / regionHeight, padX: 0, padY: 0 };
    return { contentWidth: spec.width, contentHeight: spec.height, transform };
  }
  const scale = Math.min(spec.width / regionWidth, spec.height / regionHeight);
  const contentWidth = Math.max(1, Math.min(spec.width, Math.round(regionWidth * scale)));
  const contentHeight = Math.max(1, Math.min(spec.height, Math.round(regionHeight * scale)));
  const padX = spec.align === 'center' ? Math.floor((spec.width - contentWidth) / 2) : 0;
  const padY = spec.align === 'center' ? Math.floor((spec.height - contentHeight) / 2) : 0;
  const transform: InputTransform = { scaleX: contentWidth / regionWidth, scaleY: contentHeight / regionHeight, padX, padY };
  return { contentWidth, contentHeight, transform };
}
