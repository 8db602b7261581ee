import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Detector, ModelShapeError } from '../../src/models/detector.js';
import { inputSizeFor, InputSizeError, resolveInputSize } from '../../src/models/input-size.js';
import { loadManifests, validateManifest, type ModelManifest } from '../../src/models/manifest.js';
import { decodeYunet, type YunetHeads } from '../../src/models/postprocess/yunet.js';
import { modelDir } from '../../harness/fixtures.js';

const manifests = loadManifests();
const yunet = manifests.get('yunet-n')!;
const settings = { intraOpThreads: 1, executionProviders: ['cpu'] };
const image = { data: new Uint8Array(100 * 80 * 3).fill(128), width: 100, height: 80, channels: 3 as const };

/** Empty heads for a 64×32 input (strides 8/16/32), every cell scoring 0. */
function emptyHeads(width: number, height: number): YunetHeads[] {
  return [8, 16, 32].map((stride) => {
    const n = (width / stride) * (height / stride);
    return { stride, cls: new Float32Array(n), obj: new Float32Array(n), bbox: new Float32Array(n * 4), kps: new Float32Array(n * 10) };
  });
}

describe('yunet decoding', () => {
  test('a hand-made stride-8 cell gives its box, sqrt(cls·obj) as score and five landmarks, mapped to image pixels', () => {
    const heads = emptyHeads(64, 32);
    // Cell (row 1, col 3) of the 8×4 stride-8 grid: index 1·8 + 3 = 11.
    const s8 = heads[0];
    s8.cls[11] = 0.81;
    s8.obj[11] = 1;
    s8.bbox.set([0.5, 0.5, Math.log(2), Math.log(3)], 11 * 4);
    s8.kps.set([0, 0, 1, 0, 0.5, 0.5, 0, 1, 1, 1], 11 * 10);
    // A second, weak cell that the threshold drops.
    s8.cls[0] = 0.1;
    s8.obj[0] = 0.1;
    // Input = image × 0.5 + 4 (a letterboxed crop): image = (input − 4) / 0.5.
    const transform = { scaleX: 0.5, scaleY: 0.5, padX: 4, padY: 4 };
    const [d, ...rest] = decodeYunet(heads, { inputWidth: 64, inputHeight: 32, imageWidth: 200, imageHeight: 200, transform, threshold: 0.5, iou: 0.3 });
    assert.equal(rest.length, 0);
    // Centre (3.5·8, 1.5·8) = (28, 12), size 16 × 24 → input box 20,0 – 36,24 → image 32,-8(clipped 0) – 64,40.
    assert.deepEqual([d.x1, d.y1, d.x2, d.y2], [32, 0, 64, 40]);
    assert.ok(Math.abs(d.score - 0.9) < 1e-6);
    assert.deepEqual(d.landmarks, [
      [40, 8],
      [56, 8],
      [48, 16],
      [40, 24],
      [56, 24],
    ]);
  });

  test('overlapping cells of one face are merged by NMS and keep the landmarks of the best', () => {
    const heads = emptyHeads(64, 32);
    const s8 = heads[0];
    for (const [i, score] of [[11, 0.9], [12, 0.7]] as const) {
      s8.cls[i] = score;
      s8.obj[i] = score;
      s8.bbox.set(i === 11 ? [0.6, 0.5, Math.log(3), Math.log(3)] : [-0.4, 0.5, Math.log(3), Math.log(3)], i * 4);
      s8.kps.fill(i === 11 ? 0.25 : 0.75, i * 10, i * 10 + 10);
    }
    const found = decodeYunet(heads, { inputWidth: 64, inputHeight: 32, imageWidth: 64, imageHeight: 32, transform: { scaleX: 1, scaleY: 1, padX: 0, padY: 0 }, threshold: 0.5, iou: 0.3 });
    assert.equal(found.length, 1);
    assert.ok(Math.abs(found[0].score - 0.9) < 1e-6);
    assert.deepEqual(found[0].landmarks![0], [(3 + 0.25) * 8, (1 + 0.25) * 8]);
  });
});

describe('dynamic input sizes', () => {
  test('the manifest says which multiple the model takes; its width and height (the default) must be multiples of it', () => {
    assert.deepEqual(yunet.input.dynamic, { multipleOf: 32 });
    assert.throws(() => validateManifest({ ...yunet, input: { ...yunet.input, width: 650 } }, 'custom/y.json'), /Invalid model manifest custom\/y\.json: input\.width and input\.height \(the default size\) must be multiples of input\.dynamic\.multipleOf \(32\)/);
    assert.throws(() => validateManifest({ ...yunet, input: { ...yunet.input, dynamic: { multipleOf: 0 } } }, 'custom/y.json'), /input\.dynamic\.multipleOf must be an integer 1\.\.256/);
  });

  test('an input size from the image: long side capped, never enlarged, both sides rounded up to the multiple', () => {
    assert.deepEqual(inputSizeFor(1920, 1080, 960, 32), { width: 960, height: 544 });
    assert.deepEqual(inputSizeFor(1920, 1080, 1280, 32), { width: 1280, height: 736 });
    assert.deepEqual(inputSizeFor(720, 478, 1280, 32), { width: 736, height: 480 });
    assert.deepEqual(inputSizeFor(100, 40, 640, 32, true), { width: 640, height: 256 });
  });

  test('a per-call size is checked against the manifest with a message naming the model and what was received', () => {
    assert.deepEqual(resolveInputSize(yunet), { width: 640, height: 640 });
    assert.deepEqual(resolveInputSize(yunet, { width: 960, height: 544 }), { width: 960, height: 544 });
    assert.throws(() => resolveInputSize(yunet, { width: 650, height: 480 }), (err: Error) => err instanceof InputSizeError && err.message === 'Expected an input size with width and height positive multiples of 32 (at most 8192) for yunet-n but received 650×480 of type number×number');
    assert.throws(() => resolveInputSize(yunet, { width: '640', height: 480 } as never), /but received 640×480 of type string×number/);
    const uf = manifests.get('ultraface-rfb-320')!;
    assert.throws(() => resolveInputSize(uf, { width: 640, height: 480 }), /Expected the fixed input size 320×240 for ultraface-rfb-320 but received 640×480/);
  });

  test('YuNet runs at the size asked for each call and refuses a size that is not a multiple of 32', async () => {
    const detector = await Detector.load(yunet, path.join(modelDir, yunet.file), settings);
    try {
      for (const inputSize of [{ width: 128, height: 96 }, { width: 320, height: 256 }]) assert.deepEqual(await detector.detect(image, 0.5, undefined, { inputSize }), []);
      await assert.rejects(detector.detect(image, 0.5, undefined, { inputSize: { width: 100, height: 96 } }), InputSizeError);
    } finally {
      await detector.release();
    }
  });
});

describe('shape checks at load for the new kinds', () => {
  const uf = manifests.get('ultraface-rfb-320')!;

  test('a yunet manifest on a model without its heads names the heads it expected', async () => {
    const wrong: ModelManifest = { ...yunet, file: uf.file, input: { ...uf.input } };
    await assert.rejects(Detector.load(wrong, path.join(modelDir, uf.file), settings), (err: Error) => {
      assert.ok(err instanceof ModelShapeError);
      assert.match(err.message, /output kind yunet expects per stride s in 8\/16\/32 outputs "cls_s" \[1, N, 1\], "obj_s" \[1, N, 1\], "bbox_s" \[1, N, 4\], "kps_s" \[1, N, 10\]; the model has outputs "scores" \[1, 4420, 2\]/);
      return true;
    });
  });

  test('a dynamic manifest on a fixed-size model says the input must have symbolic H and W', async () => {
    const wrong: ModelManifest = { ...uf, input: { ...uf.input, width: 320, height: 256, dynamic: { multipleOf: 32 } } };
    await assert.rejects(Detector.load(wrong, path.join(modelDir, uf.file), settings), /the manifest declares a dynamic input \(H and W multiples of 32\), so input "input" must be \[1, 3, H, W\] with symbolic H and W \(nchw\), the model has \[1, 3, 240, 320\]/);
  });

  test('the YOLOv9-t plate model loads as kind nms: one [N, 7] output', async () => {
    const m = manifests.get('yolov9-t-plates')!;
    const detector = await Detector.load(m, path.join(modelDir, m.file), settings);
    await detector.release();
    const wrong: ModelManifest = { ...m, output: { kind: 'yolov8' } };
    await assert.rejects(Detector.load(wrong, path.join(modelDir, m.file), settings), /output kind yolov8 expects one output \[1, 5, N\].*the model has outputs "output0" \[batch, 7\]/);
  });
});
