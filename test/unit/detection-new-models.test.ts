import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { loadGroundTruth, resolveImage } from '../../eval/ground-truth.js';
import { loadOpenalpr, type OpenalprImage } from '../../eval/openalpr.js';
import type { RawImage } from '../../src/addon/types.js';
import { Detector } from '../../src/models/detector.js';
import { inputSizeFor } from '../../src/models/input-size.js';
import { loadManifests } from '../../src/models/manifest.js';
import type { RawDetection } from '../../src/models/postprocess/candidates.js';
import { DEFAULT_DETECTION_SETTINGS } from '../../src/config/detection.js';
import { processImage } from '../../src/pipeline/process-image.js';
import type { JobOptions } from '../../src/job.js';
import { modelDir } from '../../harness/fixtures.js';

// YuNet-n and YOLOv9-t on real photos, straight through Detector (the pipeline's resolution-aware
// passes come in phase B of issue 14). Thresholds: the service's face default and the plate
// threshold chosen on the openalpr development split (eval/README.md).
const FACE_THRESHOLD = 0.6;
const PLATE_THRESHOLD = 0.25;
const FACE_LONG_SIDE = 1280;
const gt = loadGroundTruth();
const settings = { intraOpThreads: 1, executionProviders: ['cpu'] };

async function decodeUpright(file: string): Promise<RawImage> {
  const { data, info } = await sharp(fs.readFileSync(file)).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 3 };
}

function iou(a: [number, number, number, number], d: RawDetection): number {
  const w = Math.min(a[0] + a[2], d.x2) - Math.max(a[0], d.x1);
  const h = Math.min(a[1] + a[3], d.y2) - Math.max(a[1], d.y1);
  return w > 0 && h > 0 ? (w * h) / (a[2] * a[3] + (d.x2 - d.x1) * (d.y2 - d.y1) - w * h) : 0;
}

/** Labelled boxes that some detection overlaps with IoU ≥ 0.3 (the eval's match). */
const hits = (boxes: Array<[number, number, number, number]>, found: RawDetection[]) => boxes.filter((b) => found.some((d) => iou(b, d) >= 0.3));
const labelled = (image: string, cls: 'face' | 'plate') => gt.find((g) => g.image === image)!.objects.filter((o) => o.class === cls).map((o) => o.box);

describe('YuNet-n on real photos, one pass at an input size chosen from the image', () => {
  let yunet: Detector;
  const manifest = loadManifests().get('yunet-n')!;
  before(async () => {
    yunet = await Detector.load(manifest, path.join(modelDir, manifest.file), settings);
  });
  after(async () => yunet.release());
  const faces = async (key: string) => {
    const image = await decodeUpright(resolveImage(key));
    return yunet.detect(image, FACE_THRESHOLD, undefined, { inputSize: inputSizeFor(image.width, image.height, FACE_LONG_SIDE, 32) });
  };

  test('uf_3.jpg: the five hand-labelled faces, and nothing else', async () => {
    const found = await faces('fixtures:faces/uf_3.jpg');
    const boxes = labelled('fixtures:faces/uf_3.jpg', 'face');
    assert.equal(boxes.length, 5);
    assert.equal(hits(boxes, found).length, 5);
    assert.equal(found.length, 5, `${found.length} faces found`);
  });

  test('uf_1.jpg: at least 40 of the 52 faces of 20–28 px in the crowd', async () => {
    const found = await faces('fixtures:faces/uf_1.jpg');
    const boxes = labelled('fixtures:faces/uf_1.jpg', 'face');
    assert.equal(boxes.length, 52);
    assert.ok(hits(boxes, found).length >= 40, `found ${hits(boxes, found).length}/52`);
  });

  test('selected as the face model of today\'s pipeline (manifest default size, tiles), it blurs the five faces of uf_3.jpg', async () => {
    const options: JobOptions = { blur: 'solid', shape: 'box', detect: { faces: true, plates: false, objects: false }, thresholds: { face: FACE_THRESHOLD, plate: 0.15, object: 0.35 }, blurClasses: [], format: 'png', quality: 90 };
    const key = 'fixtures:faces/uf_3.jpg';
    const result = await processImage(fs.readFileSync(resolveImage(key)), options, { faces: yunet }, { maxPixels: 50e6 }, DEFAULT_DETECTION_SETTINGS);
    assert.equal(result.models.faces, 'yunet-n');
    const asRaw = result.detections.map((d) => ({ x1: d.box.x, y1: d.box.y, x2: d.box.x + d.box.width, y2: d.box.y + d.box.height, score: d.score, classId: 0 }));
    assert.equal(hits(labelled(key, 'face'), asRaw).length, 5);
    assert.ok(result.detections.every((d) => d.blurred));
  });

  test('every face carries five landmarks inside its box (with a margin of a quarter of its size)', async () => {
    const found = [...(await faces('fixtures:faces/uf_3.jpg')), ...(await faces('fixtures:faces/uf_20.jpg'))];
    assert.ok(found.length >= 10);
    for (const d of found) {
      assert.equal(d.landmarks?.length, 5);
      const mx = (d.x2 - d.x1) / 4;
      const my = (d.y2 - d.y1) / 4;
      for (const [x, y] of d.landmarks!) assert.ok(x >= d.x1 - mx && x <= d.x2 + mx && y >= d.y1 - my && y <= d.y2 + my, `landmark ${x},${y} outside ${JSON.stringify(d)}`);
      // Eyes above the mouth corners: the points are in face order, not shuffled by the mapping.
      assert.ok(d.landmarks![0][1] < d.landmarks![3][1] && d.landmarks![1][1] < d.landmarks![4][1]);
    }
  });
});

describe('YOLOv9-t plates on real photos, full frame', () => {
  let plates: Detector;
  const manifest = loadManifests().get('yolov9-t-plates')!;
  before(async () => {
    plates = await Detector.load(manifest, path.join(modelDir, manifest.file), settings);
  });
  after(async () => plates.release());

  test('every labelled plate of the alpr fixtures (US plates, close-ups and cars)', async () => {
    const images = gt.filter((g) => g.image.includes('plates/alpr_'));
    let total = 0;
    const missed: string[] = [];
    for (const g of images) {
      const boxes = labelled(g.image, 'plate');
      const found = await plates.detect(await decodeUpright(resolveImage(g.image)), PLATE_THRESHOLD);
      total += boxes.length;
      if (hits(boxes, found).length < boxes.length) missed.push(`${g.image}: ${hits(boxes, found).length}/${boxes.length}`);
    }
    assert.ok(total >= 12, `${total} labelled plates`);
    assert.deepEqual(missed, []);
  });

  test('the labelled plate on the first four openalpr photos of each region (us, eu, br)', async () => {
    const sample: OpenalprImage[] = [];
    for (const region of ['us', 'eu', 'br'] as const) sample.push(...(await loadOpenalpr([region])).slice(0, 4));
    const missed: string[] = [];
    for (const o of sample) {
      const found = await plates.detect(await decodeUpright(o.file), PLATE_THRESHOLD);
      if (hits([o.gt.objects[0].box], found).length === 0) missed.push(o.name);
    }
    assert.deepEqual(missed, []);
  });
});
