// Shapes shared by the native addon and its TypeScript fallback. Everything here is validated
// in TypeScript (src/addon/validate.ts) before it reaches either implementation.

export interface RawImage {
  /** Interleaved 8-bit pixels, row-major, `channels` per pixel, no row padding. */
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3 | 4;
}

/** A region to anonymize, in image pixels; clipped to the image by the implementation. */
export interface BlurRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface BlurSpec {
  style: 'gaussian' | 'pixelate' | 'solid';
  shape: 'box' | 'ellipse';
}

export interface TensorSpec {
  width: number;
  height: number;
  channelOrder: 'rgb' | 'bgr';
  /** letterbox keeps aspect ratio and pads; stretch ignores it. */
  resize: 'letterbox' | 'stretch';
  /** Where a letterboxed image sits in the model input. */
  align: 'top-left' | 'center';
  padValue: number;
  /** value = (pixel - mean) / std, per channel in channelOrder. */
  mean: [number, number, number];
  std: [number, number, number];
}

/** How model-input coordinates map back to image pixels: image = (model - pad) / scale. */
export interface InputTransform {
  scaleX: number;
  scaleY: number;
  padX: number;
  padY: number;
}

export interface ModelInput {
  /** NCHW float32, 1 × 3 × spec.height × spec.width. */
  tensor: Float32Array;
  transform: InputTransform;
}
