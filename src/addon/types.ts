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

/** Tensor layout of a model input: planes (NCHW) or interleaved pixels (NHWC, TensorFlow exports). */
export type TensorLayout = 'nchw' | 'nhwc';

/**
 * A rectangle of the decoded image in pixels. Fractional edges are sampled as such; the
 * rectangle must lie inside the image (clip it first: nothing outside is invented).
 */
export interface SourceRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One level of an ImagePyramid: level 0 is the decoded image, level k is 2^k times smaller. */
export interface PyramidLevel {
  /** Interleaved 8-bit pixels, `channels` per pixel; levels 1 and up are RGB. */
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3 | 4;
  /** Image pixels per level pixel along each axis: 2^level. */
  scale: number;
}

export interface RegionTensorOptions {
  /** Default: the whole image. */
  region?: SourceRegion;
  /** Tensor to write into, e.g. one [N, 3, H, W] batch; default a new one of 3 × H × W. */
  out?: Float32Array;
  /** Element index in `out` where this input starts (i × 3 × H × W for batch item i). */
  offset?: number;
}

export interface RegionTensor extends ModelInput {
  /** The caller's `out` (e.g. the whole batch) or a new 3 × H × W tensor, in spec.layout. */
  tensor: Float32Array;
  /** Where this input starts in `tensor` (the caller's offset). */
  offset: number;
  /** The pyramid level sampled (0 = the full image). */
  level: number;
}

/** An APPn segment written after the file header (code 0xE0–0xEF), payload without marker and length. */
export interface JpegMarker {
  code: number;
  payload: Uint8Array;
}

export interface JpegBlocksRequest {
  /** The input JPEG, as uploaded. */
  jpeg: Uint8Array;
  /** Its decoded, blurred pixels at the JPEG's stored size and orientation. */
  image: RawImage;
  /** Every region whose pixels changed; the MCUs they touch are re-encoded from `image`. */
  regions: BlurRegion[];
  markers?: JpegMarker[];
}

export type JpegBlocksOutcome =
  /** huffman: the output's tables: the standard ones (as the input's), the input's own (extended by symbols they lacked), or optimal ones made for it (a second entropy pass). */
  | { kept: true; data: Buffer; mcusRewritten: number; mcusTotal: number; huffman: 'standard' | 'input' | 'input-extended' | 'optimal' }
  /** The input cannot keep its blocks (CMYK, 12-bit, corrupt data…): re-encode it whole. */
  | { kept: false; reason: string };

export interface JpegBlocksSupport {
  available: boolean;
  /** The library when available, else why not. */
  detail: string;
}
