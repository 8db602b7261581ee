// Every bad option gets sharp's message template, checked in TypeScript before either
// implementation runs: one test per message.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pixelOps } from '../../src/addon/index.js';
import type { ImagePyramid } from '../../src/addon/pyramid.js';
import type { BlurRegion, BlurSpec, RawImage, RegionTensorOptions, TensorSpec } from '../../src/addon/types.js';
import { PixveilError } from '../../src/errors.js';

const image = (over: Record<string, unknown> = {}) => ({ data: new Uint8Array(4 * 3 * 3), width: 4, height: 3, channels: 3, ...over }) as unknown as RawImage;
const region: BlurRegion = { x: 0, y: 0, width: 2, height: 2 };
const blurSpec: BlurSpec = { style: 'gaussian', shape: 'box' };
const tensorSpec = (over: Record<string, unknown> = {}) =>
  ({ width: 8, height: 6, channelOrder: 'rgb', resize: 'letterbox', align: 'top-left', padValue: 0, mean: [0, 0, 0], std: [1, 1, 1], ...over }) as unknown as TensorSpec;

const blur = (img: unknown, regions: unknown = [region], spec: unknown = blurSpec) => () =>
  pixelOps.blurRegions(img as RawImage, regions as BlurRegion[], spec as BlurSpec);
const nms = (boxes: unknown, scores: unknown, iou: unknown, classes?: unknown) => () =>
  pixelOps.nms(boxes as Float32Array, scores as Float32Array, iou as number, classes as Int32Array);
const pyramidOf = (img: unknown, options?: unknown) => () => pixelOps.buildPyramid(img as RawImage, options as { maxLevel?: number });
// A 4×3 image: levels 0 and 1 fit. The tensor spec is 8×6: 144 elements.
const pyramid = pixelOps.buildPyramid(image());
const regionTensor = (pyr: unknown, spec: unknown = tensorSpec(), options?: unknown) => () =>
  pixelOps.regionToTensor(pyr as ImagePyramid, spec as TensorSpec, options as RegionTensorOptions);
const withRegion = (over: Record<string, unknown>) => ({ region: { x: 0, y: 0, width: 4, height: 3, ...over } });
const fourBoxes = new Float32Array(8);
const twoScores = new Float32Array(2);

const cases: [string, () => unknown, string][] = [
  ['image is not an object', blur(null), 'Expected an object with data, width, height and channels for image but received null of type null'],
  ['image.data is not a Uint8Array', blur(image({ data: [1, 2] })), 'Expected a Uint8Array for image.data but received [1,2] of type array'],
  ['image.width is not a positive integer', blur(image({ width: 4.5 })), 'Expected an integer from 1 to 65535 for image.width but received 4.5 of type number'],
  ['image.height is too large', blur(image({ height: 70000 })), 'Expected an integer from 1 to 65535 for image.height but received 70000 of type number'],
  ['image.channels is not 3 or 4', blur(image({ channels: 1 })), 'Expected one of 3, 4 for image.channels but received 1 of type number'],
  ['image.data has the wrong length', blur(image({ width: 5 })), 'Expected 45 (width × height × channels) for image.data.length but received 36 of type number'],
  ['regions is not an array', blur(image(), 'all'), 'Expected an array of {x, y, width, height} for regions but received all of type string'],
  ['a region is not an object', blur(image(), [region, 7]), 'Expected an object with x, y, width and height for regions[1] but received 7 of type number'],
  ['a region coordinate is not finite', blur(image(), [{ ...region, y: Infinity }]), 'Expected a finite number for regions[0].y but received null of type number'],
  ['a region size is missing', blur(image(), [{ x: 0, y: 0, width: 2 }]), 'Expected a finite number for regions[0].height but received undefined of type undefined'],
  ['the blur spec is not an object', blur(image(), [], 'gaussian'), 'Expected an object with style and shape for spec but received gaussian of type string'],
  ['spec.style is unknown', blur(image(), [], { style: 'blurry', shape: 'box' }), 'Expected one of gaussian, pixelate, solid for spec.style but received blurry of type string'],
  ['spec.shape is unknown', blur(image(), [], { style: 'solid', shape: 'circle' }), 'Expected one of box, ellipse for spec.shape but received circle of type string'],
  ['nms scores are not a Float32Array', nms(fourBoxes, [0.5, 0.6], 0.5), 'Expected a Float32Array for scores but received [0.5,0.6] of type array'],
  ['nms boxes are not a Float32Array', nms([0, 0, 1, 1], twoScores, 0.5), 'Expected a Float32Array of x1, y1, x2, y2 per candidate for boxes but received [0,0,1,1] of type array'],
  ['nms boxes do not match the scores', nms(new Float32Array(4), twoScores, 0.5), 'Expected 8 (4 × scores.length) for boxes.length but received 4 of type number'],
  ['nms iouThreshold is out of range', nms(fourBoxes, twoScores, 1.5), 'Expected a number from 0 to 1 for iouThreshold but received 1.5 of type number'],
  ['nms classes are not an Int32Array', nms(fourBoxes, twoScores, 0.5, [0, 1]), 'Expected an Int32Array or undefined for classes but received [0,1] of type array'],
  ['nms classes do not match the scores', nms(fourBoxes, twoScores, 0.5, new Int32Array(3)), 'Expected 2 (scores.length) for classes.length but received 3 of type number'],
  ['the tensor spec is not an object', regionTensor(pyramid, null), 'Expected a TensorSpec object for spec but received null of type null'],
  ['spec.width is not a positive integer', regionTensor(pyramid, tensorSpec({ width: 0 })), 'Expected an integer from 1 to 65535 for spec.width but received 0 of type number'],
  ['spec.height is not a number', regionTensor(pyramid, tensorSpec({ height: '6' })), 'Expected an integer from 1 to 65535 for spec.height but received 6 of type string'],
  ['spec.channelOrder is unknown', regionTensor(pyramid, tensorSpec({ channelOrder: 'grb' })), 'Expected one of rgb, bgr for spec.channelOrder but received grb of type string'],
  ['spec.padValue is not finite', regionTensor(pyramid, tensorSpec({ padValue: NaN })), 'Expected a finite number for spec.padValue but received null of type number'],
  ['spec.mean does not have 3 numbers', regionTensor(pyramid, tensorSpec({ mean: [0, 0] })), 'Expected an array of 3 finite numbers for spec.mean but received [0,0] of type array'],
  ['spec.std has a zero', regionTensor(pyramid, tensorSpec({ std: [1, 0, 1] })), 'Expected an array of 3 finite non-zero numbers for spec.std but received [1,0,1] of type array'],
  ['the pyramid image is not an image', pyramidOf({ data: new Uint8Array(3), width: 1, height: 1, channels: 2 }), 'Expected one of 3, 4 for image.channels but received 2 of type number'],
  ['the pyramid options are not an object', pyramidOf(image(), 2), 'Expected an object with maxLevel, or undefined for options but received 2 of type number'],
  ['maxLevel is deeper than the image allows', pyramidOf(image(), { maxLevel: 2 }), 'Expected an integer from 0 to 1 (the levels of a 4×3 image), or undefined for options.maxLevel but received 2 of type number'],
  ['regionToTensor gets no pyramid', regionTensor('uf_3.jpg'), 'Expected an ImagePyramid from pixelOps.buildPyramid for pyramid but received uf_3.jpg of type string'],
  ['regionToTensor spec is not an object', regionTensor(pyramid, 'yolo'), 'Expected a TensorSpec object for spec but received yolo of type string'],
  ['regionToTensor spec.std has a zero', regionTensor(pyramid, tensorSpec({ std: [0, 1, 1] })), 'Expected an array of 3 finite non-zero numbers for spec.std but received [0,1,1] of type array'],
  ['spec.resize is unknown', regionTensor(pyramid, tensorSpec({ resize: 'crop' })), 'Expected one of letterbox, stretch for spec.resize but received crop of type string'],
  ['spec.align is unknown', regionTensor(pyramid, tensorSpec({ align: 'bottom' })), 'Expected one of top-left, center for spec.align but received bottom of type string'],
  ['spec.layout is unknown', regionTensor(pyramid, tensorSpec({ layout: 'chw' })), 'Expected one of nchw, nhwc, or undefined for spec.layout but received chw of type string'],
  ['regionToTensor options are not an object', regionTensor(pyramid, tensorSpec(), 'all'), 'Expected an object with region, out and offset, or undefined for options but received all of type string'],
  ['the source region is not an object', regionTensor(pyramid, tensorSpec(), { region: [0, 0, 4, 3] }), 'Expected an object with x, y, width and height, or undefined for options.region but received [0,0,4,3] of type array'],
  ['region.x is left of the image', regionTensor(pyramid, tensorSpec(), withRegion({ x: -0.5 })), 'Expected a number from 0 to 3 (image.width - 1) for options.region.x but received -0.5 of type number'],
  ['region.y is not a number', regionTensor(pyramid, tensorSpec(), withRegion({ y: '1' })), 'Expected a number from 0 to 2 (image.height - 1) for options.region.y but received 1 of type string'],
  ['region.width runs past the image', regionTensor(pyramid, tensorSpec(), withRegion({ x: 1.5, width: 3 })), 'Expected a number from 1 to 2.5 (image.width - region.x) for options.region.width but received 3 of type number'],
  ['region.height is under a pixel', regionTensor(pyramid, tensorSpec(), withRegion({ height: 0.5 })), 'Expected a number from 1 to 3 (image.height - region.y) for options.region.height but received 0.5 of type number'],
  ['out is not a Float32Array', regionTensor(pyramid, tensorSpec(), { out: new Float64Array(144) }), 'Expected a Float32Array, or undefined for options.out but received {"0":0,"1":0,"2":0,"3":0,"4":0,"5":0,"6":0,"7":0,"8":0,"9":0,"10":0,"11":0,"1... of type object'],
  ['out is smaller than one input', regionTensor(pyramid, tensorSpec(), { out: new Float32Array(143) }), 'Expected at least 144 (3 × spec.width × spec.height) for options.out.length but received 143 of type number'],
  ['offset leaves no room for the input', regionTensor(pyramid, tensorSpec(), { out: new Float32Array(288), offset: 145 }), 'Expected an integer from 0 to 144 (out.length - 3 × spec.width × spec.height) for options.offset but received 145 of type number'],
  ['offset without out is not 0', regionTensor(pyramid, tensorSpec(), { offset: 1 }), 'Expected an integer from 0 to 0 (out.length - 3 × spec.width × spec.height) for options.offset but received 1 of type number'],
];

for (const [name, call, message] of cases) {
  test(`rejects: ${name}`, () => {
    assert.throws(call, (err: unknown) => {
      assert.ok(err instanceof PixveilError);
      assert.equal(err.code, 'INVALID_OPTION');
      assert.equal(err.retryable, false);
      assert.equal(err.message, message);
      return true;
    });
  });
}

test(`valid options pass validation on the ${pixelOps.implementation} implementation`, () => {
  const img = image();
  pixelOps.blurRegions(img, [region], { style: 'solid', shape: 'box' });
  assert.deepEqual(Array.from(img.data.subarray(0, 6)), [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(pixelOps.nms(fourBoxes, twoScores, 0.5, new Int32Array(2))), [0, 1]);
  const batch = new Float32Array(2 * 144);
  const second = pixelOps.regionToTensor(pixelOps.buildPyramid(img, { maxLevel: 1 }), tensorSpec({ layout: 'nhwc' }), { region: { x: 0.5, y: 0, width: 3.5, height: 3 }, out: batch, offset: 144 });
  assert.equal(second.tensor, batch);
  assert.equal(second.offset, 144);
});
