// What a user relies on from the TypeScript pixel ops, the fallback when the addon is not built.
// The native addon is held to the same results by addon-native.test.ts.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { blurRadiusFor, blurRegionsFallback, decimationFor } from '../../src/addon/fallback/blur.js';
import { nmsFallback } from '../../src/addon/fallback/nms.js';
import { normalizeToChw } from '../../harness/sharp-model-input.js';
import type { BlurRegion, RawImage, TensorSpec } from '../../src/addon/types.js';
import { facesDir } from '../../harness/photos.js';

// A face in uf_3.jpg (1024×768), labelled by hand.
const FACE: BlurRegion = { x: 399, y: 243, width: 94, height: 115 };

async function photo(alpha = false): Promise<RawImage> {
  let pipeline = sharp(path.join(facesDir, 'uf_3.jpg')).rotate();
  pipeline = alpha ? pipeline.ensureAlpha(0.5) : pipeline.removeAlpha();
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels as 3 | 4 };
}

const px = (image: RawImage, x: number, y: number) => Array.from(image.data.subarray((y * image.width + x) * image.channels, (y * image.width + x + 1) * image.channels));

function variance(image: RawImage, r: BlurRegion): number {
  const values: number[] = [];
  for (let y = r.y; y < r.y + r.height; y++) for (let x = r.x; x < r.x + r.width; x++) values.push(px(image, x, y)[1]);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
}

function unchangedOutside(before: RawImage, after: RawImage, r: BlurRegion): boolean {
  for (let y = 0; y < before.height; y++) {
    for (let x = 0; x < before.width; x++) {
      const inside = x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
      if (!inside && px(before, x, y).join() !== px(after, x, y).join()) return false;
    }
  }
  return true;
}

test('gaussian blur flattens the face and nothing outside it', async () => {
  const before = await photo();
  const after = { ...before, data: before.data.slice() };
  blurRegionsFallback(after, [FACE], { style: 'gaussian', shape: 'box' });
  assert.ok(variance(after, FACE) < variance(before, FACE) * 0.5, `variance ${variance(before, FACE)} → ${variance(after, FACE)}`);
  assert.ok(unchangedOutside(before, after, FACE));
});

/** The gaussian at full size, as every region was blurred before: three clamped box passes per axis, per channel. */
function fullSizeGaussian(image: RawImage, r: BlurRegion, radius: number): Float64Array[] {
  const planes = [0, 1, 2].map((c) => Float64Array.from({ length: r.width * r.height }, (_, i) => px(image, r.x + (i % r.width), r.y + Math.floor(i / r.width))[c]));
  const pass = (plane: Float64Array, count: number, lines: number, at: (line: number, i: number) => number) => {
    const out = new Float64Array(plane.length);
    for (let line = 0; line < lines; line++) {
      for (let i = 0; i < count; i++) {
        let sum = 0;
        for (let k = i - radius; k <= i + radius; k++) sum += plane[at(line, Math.min(count - 1, Math.max(0, k)))];
        out[at(line, i)] = sum / (2 * radius + 1);
      }
    }
    return out;
  };
  return planes.map((plane) => {
    for (let p = 0; p < 3; p++) {
      plane = pass(plane, r.width, r.height, (y, x) => y * r.width + x);
      plane = pass(plane, r.height, r.width, (x, y) => y * r.width + x);
    }
    return plane;
  });
}

test('a wide region, blurred at reduced size and scaled back up, is the full-size gaussian within a grey level or two', async () => {
  // 480×400: radius 50, blurred at 1/6 size.
  const region = { x: 300, y: 200, width: 480, height: 400 };
  const radius = blurRadiusFor(region.width, region.height);
  assert.equal(decimationFor(radius), 6);
  const before = await photo();
  const after = { ...before, data: before.data.slice() };
  blurRegionsFallback(after, [region], { style: 'gaussian', shape: 'box' });
  const reference = fullSizeGaussian(before, region, radius);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < region.width * region.height; i++) {
    const got = px(after, region.x + (i % region.width), region.y + Math.floor(i / region.width));
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(got[c] - reference[c][i]);
      sum += d;
      max = Math.max(max, d);
    }
  }
  const mean = sum / (3 * region.width * region.height);
  assert.ok(mean < 1 && max < 12, `mean |Δ| ${mean.toFixed(2)}, max ${max.toFixed(1)} against the full-size blur`);
  assert.ok(unchangedOutside(before, after, region));
});

test('an ellipse leaves the corners of the box as they were and changes the middle', async () => {
  const before = await photo();
  const after = { ...before, data: before.data.slice() };
  blurRegionsFallback(after, [FACE], { style: 'solid', shape: 'ellipse' });
  const right = FACE.x + FACE.width - 1;
  const bottom = FACE.y + FACE.height - 1;
  for (const [x, y] of [[FACE.x, FACE.y], [right, FACE.y], [FACE.x, bottom], [right, bottom]]) assert.deepEqual(px(after, x, y), px(before, x, y));
  assert.deepEqual(px(after, FACE.x + 47, FACE.y + 57), [0, 0, 0]);
});

test('solid paints the whole box black', async () => {
  const image = await photo();
  blurRegionsFallback(image, [FACE], { style: 'solid', shape: 'box' });
  assert.equal(variance(image, FACE), 0);
  assert.deepEqual(px(image, FACE.x, FACE.y), [0, 0, 0]);
});

test('pixelate fills each block with one colour', async () => {
  const image = await photo();
  blurRegionsFallback(image, [FACE], { style: 'pixelate', shape: 'box' });
  // Blocks are ceil(115 / 8) = 15 px: the first block is uniform, and differs from some other block.
  const block = { x: FACE.x, y: FACE.y, width: 15, height: 15 };
  assert.equal(variance(image, block), 0);
  assert.ok(variance(image, FACE) > 0);
});

test('alpha is left as it was for every style', async () => {
  for (const style of ['gaussian', 'pixelate', 'solid'] as const) {
    const image = await photo(true);
    const alpha = image.data[3];
    blurRegionsFallback(image, [FACE, { x: -10, y: -10, width: 2000, height: 40 }], { style, shape: 'ellipse' });
    for (let i = 3; i < image.data.length; i += 4) assert.equal(image.data[i], alpha, `${style}: alpha changed at byte ${i}`);
  }
});

test('regions outside the image or empty after clipping change nothing', async () => {
  const before = await photo();
  const after = { ...before, data: before.data.slice() };
  blurRegionsFallback(after, [{ x: 5000, y: 0, width: 10, height: 10 }, { x: 10, y: 10, width: 0, height: 50 }], { style: 'solid', shape: 'box' });
  assert.deepEqual(after.data, before.data);
});

test('nms keeps the best of overlapping boxes, and boxes of other classes', () => {
  const boxes = new Float32Array([0, 0, 10, 10, 1, 1, 11, 11, 50, 50, 60, 60, 0, 0, 10, 10]);
  const scores = new Float32Array([0.8, 0.9, 0.5, 0.7]);
  assert.deepEqual(Array.from(nmsFallback(boxes, scores, 0.5)), [1, 2]);
  assert.deepEqual(Array.from(nmsFallback(boxes, scores, 0.5, new Int32Array([0, 0, 0, 1]))), [1, 3, 2]);
});

test('the sharp reference input (normalizeToChw) pads, normalizes and swaps to BGR', () => {
  const spec: TensorSpec = { width: 3, height: 2, channelOrder: 'bgr', resize: 'letterbox', align: 'top-left', padValue: 114, mean: [10, 20, 30], std: [2, 4, 8] };
  const tensor = normalizeToChw(new Uint8Array([30, 60, 90, 130, 160, 190]), 2, 1, 1, 1, spec);
  const plane = 6;
  // Output channel 0 is blue: (90 - 10) / 2 at (1, 1); padding everywhere the image is not.
  assert.equal(tensor[4], 40);
  assert.equal(tensor[5], 90);
  assert.equal(tensor[plane + 4], 10);
  assert.equal(tensor[2 * plane + 4], 0);
  assert.equal(tensor[0], 52);
  assert.equal(tensor[plane], 23.5);
  assert.equal(tensor[2 * plane], 10.5);
});
