// The addon's fused region → tensor pass and its pyramid must give exactly what the TypeScript
// fallback gives, on a real photo, for every kind of region, scale and spec. Allowed difference:
// 0. Both take their numbers from one plan (src/addon/region-plan.ts), the bilinear sums are
// exact integers, and the normalisation is the same two float operations on both sides, so any
// difference at all is a bug. Skipped, with the reason, only when the addon is not built.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { halveImageFallback } from '../../src/addon/fallback/pyramid.js';
import { regionToTensorFallback } from '../../src/addon/fallback/region-tensor.js';
import { createNativeOps, loadNativeAddon } from '../../src/addon/native.js';
import { deepestLevel, ImagePyramid } from '../../src/addon/pyramid.js';
import { planRegionTensor } from '../../src/addon/region-plan.js';
import type { RawImage, SourceRegion, TensorLayout, TensorSpec } from '../../src/addon/types.js';
import { facesDir } from '../../harness/photos.js';

const MAX_DIFFERENCE = 0;

const photo = path.join(facesDir, 'uf_3.jpg');
const loaded = loadNativeAddon();
const native = loaded.ok ? createNativeOps(loaded.addon) : undefined;
const skip = loaded.ok ? false : `native addon not built (${loaded.reason}); run npm run build:native`;

async function decode(alpha: boolean): Promise<RawImage> {
  let pipeline = sharp(photo).rotate();
  pipeline = alpha ? pipeline.ensureAlpha(0.5) : pipeline.removeAlpha();
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels as 3 | 4 };
}

type Spec = TensorSpec & { layout?: TensorLayout };
const specs: Spec[] = [
  { width: 320, height: 240, channelOrder: 'rgb', resize: 'stretch', align: 'top-left', padValue: 0, mean: [127, 127, 127], std: [128, 128, 128] },
  { width: 416, height: 416, channelOrder: 'bgr', resize: 'letterbox', align: 'center', padValue: 114, mean: [0, 0, 0], std: [255, 255, 255] },
  { width: 640, height: 640, channelOrder: 'rgb', resize: 'letterbox', align: 'top-left', padValue: 114, mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], layout: 'nhwc' },
  { width: 128, height: 128, channelOrder: 'bgr', resize: 'letterbox', align: 'center', padValue: 0, mean: [0, 0, 0], std: [1, 1, 1], layout: 'nhwc' },
  // Exactly 2× for the whole frame: level 1 read 1:1.
  { width: 512, height: 384, channelOrder: 'rgb', resize: 'stretch', align: 'top-left', padValue: 0, mean: [0, 0, 0], std: [1, 1, 1] },
  // Planar tensors over 8 MB, which the addon writes with streaming stores on AVX-512 CPUs: YuNet's
  // 1600×928, and one whose rows start at every alignment (1604 floats a row) with a centred letterbox.
  { width: 1600, height: 928, channelOrder: 'bgr', resize: 'letterbox', align: 'top-left', padValue: 0, mean: [0, 0, 0], std: [1, 1, 1] },
  { width: 1604, height: 930, channelOrder: 'rgb', resize: 'letterbox', align: 'center', padValue: 114, mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] },
];

/** uf_3 is 1024×768: the whole frame, a face, fractional edges, the corners, 1 px, thin, tiny. */
function regionsFor(image: RawImage): SourceRegion[] {
  const { width: w, height: h } = image;
  return [
    { x: 0, y: 0, width: w, height: h },
    { x: 399, y: 243, width: 94, height: 115 },
    { x: 100.3, y: 50.7, width: 200.5, height: 300.25 },
    { x: w - 37.5, y: h - 20.25, width: 37.5, height: 20.25 },
    { x: 0, y: 0, width: 1, height: 1 },
    { x: 500, y: 10, width: 3, height: 700 },
    { x: 12.9, y: 700.1, width: 1000, height: 1.5 },
  ];
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return Number.isNaN(max) ? Infinity : max;
}

describe('native regionToTensor matches the TypeScript fallback', { skip }, () => {
  for (const alpha of [false, true]) {
    test(`pyramid levels are byte for byte the same (${alpha ? 'RGBA' : 'RGB'})`, async () => {
      const image = await decode(alpha);
      const deepest = deepestLevel(image.width, image.height);
      const ours = new ImagePyramid(image, deepest, native!.halveImage);
      const theirs = new ImagePyramid(image, deepest, halveImageFallback);
      for (let k = 1; k <= deepest; k++) assert.deepEqual(ours.level(k), theirs.level(k), `level ${k}`);
    });
  }

  for (const spec of specs) {
    const name = `${spec.width}×${spec.height} ${spec.resize} ${spec.align} ${spec.channelOrder} ${spec.layout ?? 'nchw'}`;
    test(`${name}, every region, RGB and RGBA, with and without the pyramid (max diff ${MAX_DIFFERENCE})`, async () => {
      for (const alpha of [false, true]) {
        const image = await decode(alpha);
        for (const maxLevel of [deepestLevel(image.width, image.height), 0]) {
          const ours = new ImagePyramid(image, maxLevel, native!.halveImage);
          const theirs = new ImagePyramid(image, maxLevel, halveImageFallback);
          for (const region of regionsFor(image)) {
            const plan = planRegionTensor(region, spec, maxLevel);
            const size = 3 * spec.width * spec.height;
            // Written at an offset into a larger tensor, as one item of a batch; NaN shows what was not written.
            const expected = new Float32Array(2 * size).fill(NaN);
            const actual = new Float32Array(2 * size).fill(NaN);
            regionToTensorFallback(theirs.level(plan.level), plan, expected, size);
            native!.regionToTensor(ours.level(plan.level), plan, actual, size);
            const where = `${alpha ? 'RGBA' : 'RGB'} maxLevel ${maxLevel} region ${JSON.stringify(region)} level ${plan.level}`;
            assert.ok(actual.subarray(0, size).every(Number.isNaN), `${where}: wrote before its offset`);
            assert.ok(!expected.subarray(size).some(Number.isNaN), `${where}: the fallback left elements unwritten`);
            const diff = maxAbsDiff(actual.subarray(size), expected.subarray(size));
            assert.ok(diff <= MAX_DIFFERENCE, `${where}: max diff ${diff}`);
          }
        }
      }
    });
  }
});
