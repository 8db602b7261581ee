import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Detector } from '../../src/models/detector.js';
import { loadManifests } from '../../src/models/manifest.js';
import { ULTRAFACE_TILED_DETECTION_SETTINGS as DEFAULT_DETECTION_SETTINGS, type DetectionSettings } from '../../src/config/detection.js';
import type { Detectors } from '../../src/pipeline/detect.js';
import { processImage } from '../../src/pipeline/process-image.js';
import type { Detection, JobOptions } from '../../src/job.js';
import { loadGroundTruth, resolveImage } from '../../eval/ground-truth.js';
import { modelDir, readFixture } from '../../harness/fixtures.js';
import fs from 'node:fs';
import sharp from 'sharp';

// The models and settings before issue 14 (PROFILE=legacy: UltraFace + HyperLPR with tiles), still
// selectable; test/unit/detection-defaults.test.ts holds the current defaults to what these found.
const options: JobOptions = {
  blur: 'gaussian',
  shape: 'box',
  detect: { faces: true, plates: true, objects: true },
  thresholds: { face: 0.6, plate: 0.15, object: 0.35 },
  blurClasses: [],
  format: 'png',
  quality: 90,
};
const gt = loadGroundTruth();

function iou(a: [number, number, number, number], b: Detection['box']): number {
  const w = Math.min(a[0] + a[2], b.x + b.width) - Math.max(a[0], b.x);
  const h = Math.min(a[1] + a[3], b.y + b.height) - Math.max(a[1], b.y);
  return w > 0 && h > 0 ? (w * h) / (a[2] * a[3] + b.width * b.height - w * h) : 0;
}

/** Ground-truth boxes of a class that some detection of that kind overlaps with IoU ≥ 0.3. */
function matched(image: string, cls: 'face' | 'plate' | 'vehicle', detections: Detection[]) {
  const entry = gt.find((g) => g.image === image)!;
  const boxes = entry.objects.filter((o) => o.class === cls).map((o) => o.box);
  const kind = (d: Detection) => (cls === 'vehicle' ? d.kind === 'object' && ['car', 'truck', 'bus', 'motorcycle'].includes(d.label) : d.kind === cls);
  const hits = boxes.filter((b) => detections.some((d) => kind(d) && iou(b, d.box) >= 0.3));
  return { total: boxes.length, hits: hits.length };
}

describe('legacy profile (ultraface-rfb-320, hyperlpr-y5fu-320) on real photos against hand-labelled ground truth', () => {
  const detectors: Detectors = {};
  before(async () => {
    const manifests = loadManifests();
    const load = (name: string) => Detector.load(manifests.get(name)!, path.join(modelDir, manifests.get(name)!.file), { intraOpThreads: 1, executionProviders: ['cpu'] });
    detectors.faces = await load('ultraface-rfb-320');
    detectors.plates = await load('hyperlpr-y5fu-320');
    detectors.objects = await load('yolox-nano');
  });
  after(async () => {
    for (const d of [detectors.faces, detectors.plates, detectors.objects]) await d?.release();
  });
  const run = (image: string, settings: DetectionSettings = DEFAULT_DETECTION_SETTINGS) => processImage(fs.readFileSync(resolveImage(image)), options, detectors, { maxPixels: 50e6 }, settings);

  test('uf_1.jpg (52 faces of 20-28 px): tiling finds at least 90% of them; one pass at 320×240 finds fewer', async () => {
    // At 720×478 the default tile scale leaves it to the full-image pass (2.25×); 2× tiles are finer.
    const tiled = await run('fixtures:faces/uf_1.jpg', { ...DEFAULT_DETECTION_SETTINGS, tileScale: { faces: 2, plates: 2 } });
    const m = matched('fixtures:faces/uf_1.jpg', 'face', tiled.detections);
    assert.equal(m.total, 52);
    assert.ok(m.hits >= 47, `found ${m.hits}/52`);
    assert.ok('detect_faces_tiles' in tiled.timings, 'the tile pass is timed as its own stage');
    const single = await run('fixtures:faces/uf_1.jpg', { ...DEFAULT_DETECTION_SETTINGS, tiling: 'off' });
    assert.ok(matched('fixtures:faces/uf_1.jpg', 'face', single.detections).hits < m.hits);
  });

  test('uf_3.jpg: all 5 faces found and blurred', async () => {
    const result = await run('fixtures:faces/uf_3.jpg');
    assert.deepEqual(matched('fixtures:faces/uf_3.jpg', 'face', result.detections), { total: 5, hits: 5 });
    assert.ok(result.detections.filter((d) => d.kind === 'face').every((d) => d.blurred && d.blurBox));
  });

  test('the plate in alpr_h786poj.jpg and the car around it', async () => {
    const result = await run('fixtures:plates/alpr_h786poj.jpg');
    assert.deepEqual(matched('fixtures:plates/alpr_h786poj.jpg', 'plate', result.detections), { total: 1, hits: 1 });
    assert.deepEqual(matched('fixtures:plates/alpr_h786poj.jpg', 'vehicle', result.detections), { total: 1, hits: 1 });
  });

  test('plates in at least 7 of the 11 US (alpr) photos', async () => {
    let found = 0;
    const images = gt.filter((g) => g.image.includes('plates/alpr_'));
    assert.equal(images.length, 11);
    for (const g of images) {
      const result = await run(g.image);
      if (matched(g.image, 'plate', result.detections).hits > 0) found++;
    }
    assert.ok(found >= 7, `plates found in ${found}/11 photos`);
  });

  test('small faces in a large image are found through the persons around them, with tiling off', async () => {
    // uf_3.jpg's five girls at 0.4× (faces of 24-39 px) on a 1920×1080 canvas: the full-image pass shrinks faces 6×.
    const group = await sharp(resolveImage('fixtures:faces/uf_3.jpg')).resize(410).png().toBuffer();
    const canvas = sharp({ create: { width: 1920, height: 1080, channels: 3, background: { r: 120, g: 130, b: 110 } } });
    const image = await canvas.composite([{ input: group, left: 1200, top: 500 }]).jpeg({ quality: 92 }).toBuffer();
    const expected = gt.find((g) => g.image === 'fixtures:faces/uf_3.jpg')!.objects.map((o) => o.box.map((v, i) => v * 0.4 + (i === 0 ? 1200 : i === 1 ? 500 : 0)) as [number, number, number, number]);
    const hits = (detections: Detection[]) => expected.filter((b) => detections.some((d) => d.kind === 'face' && iou(b, d.box) >= 0.3)).length;
    const noTiles = { ...DEFAULT_DETECTION_SETTINGS, tiling: 'off' as const };
    const withPersons = await processImage(image, options, detectors, { maxPixels: 50e6 }, { ...noTiles, facesOnPersons: true });
    const without = await processImage(image, options, detectors, { maxPixels: 50e6 }, { ...noTiles, facesOnPersons: false });
    assert.ok(hits(withPersons.detections) >= 4, `found ${hits(withPersons.detections)}/5 through the persons`);
    assert.ok(hits(without.detections) < hits(withPersons.detections), 'the full-image pass alone finds fewer');
    assert.ok('detect_faces_persons' in withPersons.timings, 'the person pass is timed as its own stage');
    assert.ok(!('detect_faces_persons' in without.timings));
  });

  test('the pickup truck in dog.jpg', async () => {
    readFixture(resolveImage('darknet:dog.jpg'));
    const result = await run('darknet:dog.jpg');
    const truck = gt.find((g) => g.image === 'darknet:dog.jpg')!.objects[0].box;
    assert.ok(result.detections.some((d) => d.kind === 'object' && ['car', 'truck'].includes(d.label) && iou(truck, d.box) >= 0.5));
  });
});
