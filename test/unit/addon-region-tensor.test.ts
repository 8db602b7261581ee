// What a detector relies on from pixelOps.regionToTensor (native when built, else the
// TypeScript fallback; addon-native-region-tensor.test.ts holds the two to the same floats):
// no aliasing when shrinking far, a transform that points back at the right image pixels,
// batch items written in place, layouts, channel order and padding.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { pixelOps } from '../../src/addon/index.js';
import type { RawImage, RegionTensor, SourceRegion, TensorLayout, TensorSpec } from '../../src/addon/types.js';
import { prepareModelInput } from '../../harness/sharp-model-input.js';
import { facesDir } from '../../harness/photos.js';

const unit: Pick<TensorSpec, 'padValue' | 'mean' | 'std'> = { padValue: 0, mean: [0, 0, 0], std: [1, 1, 1] };
const spec = (over: Partial<TensorSpec & { layout: TensorLayout }> = {}): TensorSpec & { layout?: TensorLayout } => ({
  width: 64,
  height: 48,
  channelOrder: 'rgb',
  resize: 'letterbox',
  align: 'top-left',
  ...unit,
  ...over,
});

function synthetic(width: number, height: number, channels: 3 | 4, pixel: (x: number, y: number) => [number, number, number]): RawImage {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data.set(pixel(x, y), (y * width + x) * channels);
      if (channels === 4) data[(y * width + x) * channels + 3] = 255;
    }
  }
  return { data, width, height, channels };
}

function spread(values: Float32Array): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { min, max };
}

test(`a 1-px checkerboard shrunk 8.3× comes out uniform grey through the pyramid, and aliases without it (${pixelOps.implementation})`, () => {
  // 8.3×, not 8×: at exactly 8× with aligned centres plain bilinear happens to land between two pixels and average them.
  const board = synthetic(1000, 1000, 3, (x, y) => ((x + y) % 2 ? [255, 255, 255] : [0, 0, 0]));
  const stretch = spec({ width: 120, height: 120, resize: 'stretch' });
  const smooth = pixelOps.regionToTensor(pixelOps.buildPyramid(board), stretch);
  const plain = pixelOps.regionToTensor(pixelOps.buildPyramid(board, { maxLevel: 0 }), stretch);
  assert.equal(smooth.level, 3);
  assert.equal(plain.level, 0);
  const grey = spread(smooth.tensor);
  assert.ok(grey.min >= 127 && grey.max <= 129, `through the pyramid: ${grey.min}…${grey.max}`);
  const aliased = spread(plain.tensor);
  assert.ok(aliased.max - aliased.min > 100, `plain bilinear: ${aliased.min}…${aliased.max}`);
});

test('the transform maps a marker in a region back to its full-image position, letterboxed and stretched', () => {
  // A smooth blob (σ 4 px) centred at (705.3, 403.6) on black, in a 1280×720 frame: smooth, so
  // the centroid of the samples does not depend on where between pixels they fall.
  const blob = (x: number, y: number) => Math.round(255 * Math.exp(-((x + 0.5 - 705.3) ** 2 + (y + 0.5 - 403.6) ** 2) / 32));
  const image = synthetic(1280, 720, 3, (x, y) => [blob(x, y), 0, 0]);
  const pyramid = pixelOps.buildPyramid(image);
  const region = { x: 500.5, y: 250.25, width: 400, height: 300 };
  for (const over of [{ resize: 'letterbox', align: 'center' }, { resize: 'stretch' }] as const) {
    const s = spec({ width: 200, height: 200, ...over });
    const { tensor, transform } = pixelOps.regionToTensor(pyramid, s, { region });
    // Weighted centroid of the first plane, at pixel centres, mapped back with image = (model - pad) / scale.
    let sum = 0;
    let cx = 0;
    let cy = 0;
    for (let y = 0; y < s.height; y++) {
      for (let x = 0; x < s.width; x++) {
        const v = tensor[y * s.width + x];
        sum += v;
        cx += v * (x + 0.5);
        cy += v * (y + 0.5);
      }
    }
    assert.ok(sum > 0, `${over.resize}: the marker is missing`);
    const imageX = (cx / sum - transform.padX) / transform.scaleX;
    const imageY = (cy / sum - transform.padY) / transform.scaleY;
    assert.ok(Math.abs(imageX - 705.3) < 0.2 && Math.abs(imageY - 403.6) < 0.2, `${over.resize}: marker at (${imageX}, ${imageY}), expected (705.3, 403.6)`);
  }
});

test('batch items land at their offsets in one tensor and leave the rest of it alone', () => {
  const image = synthetic(640, 480, 3, (x, y) => [x % 256, y % 256, (x * y) % 256]);
  const pyramid = pixelOps.buildPyramid(image);
  const s = spec();
  const item = 3 * s.width * s.height;
  const regions = [
    { x: 0, y: 0, width: 320, height: 240 },
    { x: 100.5, y: 80.5, width: 90, height: 200 },
  ];
  const batch = new Float32Array(3 * item).fill(-7);
  const results: RegionTensor[] = regions.map((region, i) => pixelOps.regionToTensor(pyramid, s, { region, out: batch, offset: (i + 1) * item }));
  assert.ok(batch.subarray(0, item).every((v) => v === -7), 'the slot before the batch items was written');
  regions.forEach((region, i) => {
    assert.equal(results[i].tensor, batch);
    assert.equal(results[i].offset, (i + 1) * item);
    assert.deepEqual(batch.subarray((i + 1) * item, (i + 2) * item), pixelOps.regionToTensor(pyramid, s, { region }).tensor);
  });
});

test('NHWC is the NCHW tensor interleaved, BGR swaps the outer channels, and padding is (padValue - mean) / std', () => {
  const image = synthetic(300, 100, 4, (x, y) => [x % 256, (2 * y) % 256, 200]);
  const pyramid = pixelOps.buildPyramid(image);
  const base = spec({ width: 40, height: 40, padValue: 114, mean: [10, 20, 30], std: [2, 4, 8] });
  const nchw = pixelOps.regionToTensor(pyramid, base).tensor;
  const nhwc = pixelOps.regionToTensor(pyramid, { ...base, layout: 'nhwc' }).tensor;
  const bgr = pixelOps.regionToTensor(pyramid, { ...base, channelOrder: 'bgr', mean: [30, 20, 10], std: [8, 4, 2] }).tensor;
  const plane = 40 * 40;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) assert.equal(nhwc[i * 3 + c], nchw[c * plane + i]);
    assert.equal(bgr[i], nchw[2 * plane + i]);
    assert.equal(bgr[2 * plane + i], nchw[i]);
  }
  // 300×100 letterboxed top-left into 40×40: rows 13… are padding; row 0 is image (blue is 200).
  assert.equal(nchw[39 * 40], (114 - 10) / 2);
  assert.equal(nchw[plane + 39 * 40], (114 - 20) / 4);
  assert.equal(nchw[2 * plane + 39 * 40], (114 - 30) / 8);
  assert.equal(nchw[2 * plane], (200 - 30) / 8);
});

test('levels are chosen per pass from one pyramid and built only when a pass needs them', () => {
  const image = synthetic(1920, 1080, 3, (x, y) => [x % 256, y % 256, 0]);
  const pyramid = pixelOps.buildPyramid(image);
  assert.equal(pyramid.builtLevels, 1);
  // 1920 → 1280 is a 1.5× shrink: bilinear on the image itself, no level built.
  assert.equal(pixelOps.regionToTensor(pyramid, spec({ width: 1280, height: 720 })).level, 0);
  assert.equal(pyramid.builtLevels, 1);
  // 1920 → 320 is a 6× shrink: level 2 leaves 1.5×.
  assert.equal(pixelOps.regionToTensor(pyramid, spec({ width: 320, height: 320 })).level, 2);
  assert.equal(pyramid.builtLevels, 3);
  // Exactly 2×: level 1 read 1:1 (the same 2×2 average bilinear would take from level 0).
  assert.equal(pixelOps.regionToTensor(pyramid, spec({ width: 960, height: 544 })).level, 1);
  // A 400-px crop into 320 needs no level at all.
  assert.equal(pixelOps.regionToTensor(pyramid, spec({ width: 320, height: 320 }), { region: { x: 800, y: 300, width: 400, height: 400 } }).level, 0);
});

test('close to the sharp path it replaces on a real photo, closer than one pixel of misalignment would be', async () => {
  const { data, info } = await sharp(path.join(facesDir, 'uf_3.jpg')).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const image: RawImage = { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
  const pyramid = pixelOps.buildPyramid(image);
  // Bounds in grey levels: about 1.3× what was measured (1.41, 0.69, 0.61); shifting the source
  // by one pixel measured 2.12, 1.44 and 7.21, so each bound catches that.
  const cases: [TensorSpec, SourceRegion | undefined, number][] = [
    [spec({ width: 320, height: 240, resize: 'stretch' }), undefined, 1.8],
    [spec({ width: 416, height: 416, align: 'center', padValue: 114 }), undefined, 0.9],
    [spec({ width: 128, height: 128, channelOrder: 'bgr' }), { x: 380, y: 220, width: 140, height: 160 }, 0.8],
  ];
  for (const [s, region, bound] of cases) {
    const ours = pixelOps.regionToTensor(pyramid, s, { region });
    const today = await prepareModelInput(image, s, region);
    assert.deepEqual(ours.transform, today.transform);
    let total = 0;
    for (let i = 0; i < ours.tensor.length; i++) total += Math.abs(ours.tensor[i] - today.tensor[i]);
    const mean = total / ours.tensor.length;
    assert.ok(mean < bound, `${s.width}×${s.height} ${s.resize}: mean abs difference ${mean.toFixed(3)} grey levels, over ${bound}`);
  }
});
