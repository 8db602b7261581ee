// Every option of the pixel ops is checked here, before it reaches the addon or the fallback:
// the C++ side reads a flat options object and checks nothing itself (sharp's split).
import { invalidOption } from '../errors.js';
import { deepestLevel, ImagePyramid } from './pyramid.js';
import type { BlurRegion, JpegBlocksRequest, BlurSpec, RawImage, RegionTensorOptions, SourceRegion, TensorLayout, TensorSpec } from './types.js';

/** Keeps every index and running sum in the addon inside int32/uint32. */
export const MAX_DIMENSION = 65535;

const BLUR_STYLES: readonly BlurSpec['style'][] = ['gaussian', 'pixelate', 'solid'];
const BLUR_SHAPES: readonly BlurSpec['shape'][] = ['box', 'ellipse'];
const CHANNEL_ORDERS: readonly TensorSpec['channelOrder'][] = ['rgb', 'bgr'];
const RESIZES: readonly TensorSpec['resize'][] = ['letterbox', 'stretch'];
const ALIGNS: readonly TensorSpec['align'][] = ['top-left', 'center'];
const LAYOUTS: readonly (TensorLayout | undefined)[] = ['nchw', 'nhwc', undefined];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isIntegerIn = (v: unknown, min: number, max: number): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

function checkDimension(name: string, value: unknown): void {
  if (!isIntegerIn(value, 1, MAX_DIMENSION)) throw invalidOption(name, `an integer from 1 to ${MAX_DIMENSION}`, value);
}

function checkOneOf<T>(name: string, allowed: readonly T[], value: unknown): void {
  if (!allowed.includes(value as T)) throw invalidOption(name, `one of ${allowed.join(', ')}`, value);
}

function checkTriple(name: string, value: unknown, nonZero: boolean): void {
  const ok = Array.isArray(value) && value.length === 3 && value.every((v) => isFiniteNumber(v) && (!nonZero || v !== 0));
  if (!ok) throw invalidOption(name, nonZero ? 'an array of 3 finite non-zero numbers' : 'an array of 3 finite numbers', value);
}

export function validateImage(image: RawImage): void {
  if (!isObject(image)) throw invalidOption('image', 'an object with data, width, height and channels', image);
  if (!(image.data instanceof Uint8Array)) throw invalidOption('image.data', 'a Uint8Array', image.data);
  checkDimension('image.width', image.width);
  checkDimension('image.height', image.height);
  checkOneOf('image.channels', [3, 4], image.channels);
  // The length, not the contents, goes into the message: a whole image is slow to print and useless to read.
  const bytes = image.width * image.height * image.channels;
  if (image.data.length !== bytes) throw invalidOption('image.data.length', `${bytes} (width × height × channels)`, image.data.length);
}

function checkRegions(regions: BlurRegion[], name = 'regions'): void {
  if (!Array.isArray(regions)) throw invalidOption(name, 'an array of {x, y, width, height}', regions);
  regions.forEach((region, i) => {
    if (!isObject(region)) throw invalidOption(`${name}[${i}]`, 'an object with x, y, width and height', region);
    for (const key of ['x', 'y', 'width', 'height'] as const) {
      if (!isFiniteNumber(region[key])) throw invalidOption(`${name}[${i}].${key}`, 'a finite number', region[key]);
    }
  });
}

export function validateBlurArgs(image: RawImage, regions: BlurRegion[], spec: BlurSpec): void {
  validateImage(image);
  checkRegions(regions);
  if (!isObject(spec)) throw invalidOption('spec', 'an object with style and shape', spec);
  checkOneOf('spec.style', BLUR_STYLES, spec.style);
  checkOneOf('spec.shape', BLUR_SHAPES, spec.shape);
}

export function validateNmsArgs(boxes: Float32Array, scores: Float32Array, iouThreshold: number, classes: Int32Array | undefined): void {
  if (!(scores instanceof Float32Array)) throw invalidOption('scores', 'a Float32Array', scores);
  if (!(boxes instanceof Float32Array)) throw invalidOption('boxes', 'a Float32Array of x1, y1, x2, y2 per candidate', boxes);
  if (boxes.length !== scores.length * 4) throw invalidOption('boxes.length', `${scores.length * 4} (4 × scores.length)`, boxes.length);
  if (!(isFiniteNumber(iouThreshold) && iouThreshold >= 0 && iouThreshold <= 1)) throw invalidOption('iouThreshold', 'a number from 0 to 1', iouThreshold);
  if (classes === undefined) return;
  if (!(classes instanceof Int32Array)) throw invalidOption('classes', 'an Int32Array or undefined', classes);
  if (classes.length !== scores.length) throw invalidOption('classes.length', `${scores.length} (scores.length)`, classes.length);
}

/** The fields every tensor writer reads; resize and align only matter where the addon plans the resize. */
function checkTensorSpec(spec: TensorSpec): void {
  if (!isObject(spec)) throw invalidOption('spec', 'a TensorSpec object', spec);
  checkDimension('spec.width', spec.width);
  checkDimension('spec.height', spec.height);
  checkOneOf('spec.channelOrder', CHANNEL_ORDERS, spec.channelOrder);
  if (!isFiniteNumber(spec.padValue)) throw invalidOption('spec.padValue', 'a finite number', spec.padValue);
  checkTriple('spec.mean', spec.mean, false);
  checkTriple('spec.std', spec.std, true);
}

export function validatePyramidArgs(image: RawImage, options: { maxLevel?: number } | undefined): void {
  validateImage(image);
  if (options === undefined) return;
  if (!isObject(options)) throw invalidOption('options', 'an object with maxLevel, or undefined', options);
  const deepest = deepestLevel(image.width, image.height);
  if (options.maxLevel !== undefined && !isIntegerIn(options.maxLevel, 0, deepest)) {
    throw invalidOption('options.maxLevel', `an integer from 0 to ${deepest} (the levels of a ${image.width}×${image.height} image), or undefined`, options.maxLevel);
  }
}

/** Inside the image, at least one pixel each way; fractional edges are allowed. */
function checkSourceRegion(region: SourceRegion, imageWidth: number, imageHeight: number): void {
  if (!isObject(region) || Array.isArray(region)) throw invalidOption('options.region', 'an object with x, y, width and height, or undefined', region);
  const inRange = (v: unknown, min: number, max: number): v is number => isFiniteNumber(v) && v >= min && v <= max;
  if (!inRange(region.x, 0, imageWidth - 1)) throw invalidOption('options.region.x', `a number from 0 to ${imageWidth - 1} (image.width - 1)`, region.x);
  if (!inRange(region.y, 0, imageHeight - 1)) throw invalidOption('options.region.y', `a number from 0 to ${imageHeight - 1} (image.height - 1)`, region.y);
  const maxWidth = imageWidth - region.x;
  const maxHeight = imageHeight - region.y;
  if (!inRange(region.width, 1, maxWidth)) throw invalidOption('options.region.width', `a number from 1 to ${maxWidth} (image.width - region.x)`, region.width);
  if (!inRange(region.height, 1, maxHeight)) throw invalidOption('options.region.height', `a number from 1 to ${maxHeight} (image.height - region.y)`, region.height);
}

export function validateRegionTensorArgs(pyramid: ImagePyramid, spec: TensorSpec & { layout?: TensorLayout }, options: RegionTensorOptions | undefined): void {
  if (!(pyramid instanceof ImagePyramid)) throw invalidOption('pyramid', 'an ImagePyramid from pixelOps.buildPyramid', pyramid);
  checkTensorSpec(spec);
  checkOneOf('spec.resize', RESIZES, spec.resize);
  checkOneOf('spec.align', ALIGNS, spec.align);
  if (!LAYOUTS.includes(spec.layout)) throw invalidOption('spec.layout', 'one of nchw, nhwc, or undefined', spec.layout);
  if (options === undefined) return;
  // Not isObject: its narrowing would widen options.region to unknown.
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object with region, out and offset, or undefined', options);
  if (options.region !== undefined) checkSourceRegion(options.region, pyramid.image.width, pyramid.image.height);
  const size = 3 * spec.width * spec.height;
  if (options.out !== undefined) {
    if (!(options.out instanceof Float32Array)) throw invalidOption('options.out', 'a Float32Array, or undefined', options.out);
    if (options.out.length < size) throw invalidOption('options.out.length', `at least ${size} (3 × spec.width × spec.height)`, options.out.length);
  }
  const maxOffset = (options.out?.length ?? size) - size;
  if (options.offset !== undefined && !isIntegerIn(options.offset, 0, maxOffset)) {
    throw invalidOption('options.offset', `an integer from 0 to ${maxOffset} (out.length - 3 × spec.width × spec.height)`, options.offset);
  }
}

/** A JPEG segment payload is at most 65533 bytes (its length field counts itself). */
const MAX_MARKER_PAYLOAD = 65533;

export function validateJpegBlocksArgs(request: JpegBlocksRequest): void {
  if (!isObject(request)) throw invalidOption('request', 'an object with jpeg, image, regions and markers', request);
  if (!(request.jpeg instanceof Uint8Array)) throw invalidOption('request.jpeg', 'a Uint8Array', request.jpeg);
  if (!(request.jpeg.length >= 4 && request.jpeg[0] === 0xff && request.jpeg[1] === 0xd8)) {
    throw invalidOption('request.jpeg', 'JPEG bytes (starting FF D8)', `${request.jpeg.length} bytes`);
  }
  validateImage(request.image);
  checkRegions(request.regions, 'request.regions');
  if (request.markers === undefined) return;
  if (!Array.isArray(request.markers)) throw invalidOption('request.markers', 'an array of {code, payload}, or undefined', request.markers);
  request.markers.forEach((marker, i) => {
    if (!isObject(marker)) throw invalidOption(`request.markers[${i}]`, 'an object with code and payload', marker);
    if (!isIntegerIn(marker.code, 0xe0, 0xef)) throw invalidOption(`request.markers[${i}].code`, 'an APPn marker code from 224 (0xE0) to 239 (0xEF)', marker.code);
    if (!(marker.payload instanceof Uint8Array)) throw invalidOption(`request.markers[${i}].payload`, 'a Uint8Array', marker.payload);
    if (marker.payload.length > MAX_MARKER_PAYLOAD) {
      throw invalidOption(`request.markers[${i}].payload.length`, `at most ${MAX_MARKER_PAYLOAD} bytes`, marker.payload.length);
    }
  });
}
