// The current defaults (YuNet-n at FACE_INPUT_LONG_SIDE + head crops, YOLOv9-t full frame + vehicle
// crops, thresholds from the manifests) on real photos, held to at least what the legacy profile found
// (test/unit/detection-photos.test.ts): uf_3's five faces, the uf_1 crowd, the alpr plates, openalpr samples.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadGroundTruth, resolveImage } from '../../eval/ground-truth.js';
import { loadOpenalpr, type OpenalprImage } from '../../eval/openalpr.js';
import { pixelOps } from '../../src/addon/index.js';
import { loadConfig } from '../../src/config/config.js';
import { defaultJobOptions, type Detection, type JobOptions } from '../../src/job.js';
import { configuredModels, defaultThresholds } from '../../src/models/configured.js';
import { loadManifests } from '../../src/models/manifest.js';
import { processImage } from '../../src/pipeline/process-image.js';
import { modelDir } from '../../harness/fixtures.js';
import { detectorsForSuite } from '../../harness/suite-detectors.js';

const config = loadConfig({});
const manifests = loadManifests();
const models = configuredModels(config, manifests);
const options: JobOptions = { ...defaultJobOptions(config, defaultThresholds(models)), format: 'png' };
const gt = loadGroundTruth();

function iou(a: [number, number, number, number], b: Detection['box']): number {
  const w = Math.min(a[0] + a[2], b.x + b.width) - Math.max(a[0], b.x);
  const h = Math.min(a[1] + a[3], b.y + b.height) - Math.max(a[1], b.y);
  return w > 0 && h > 0 ? (w * h) / (a[2] * a[3] + b.width * b.height - w * h) : 0;
}
const hits = (boxes: Array<[number, number, number, number]>, detections: Detection[], kind: 'face' | 'plate') =>
  boxes.filter((b) => detections.some((d) => d.kind === kind && iou(b, d.box) >= 0.3)).length;
const labelled = (image: string, cls: 'face' | 'plate') => gt.find((g) => g.image === image)!.objects.filter((o) => o.class === cls).map((o) => o.box);

describe('default models and passes on real photos', () => {
  const detectors = detectorsForSuite(config);
  const run = (input: Buffer) => processImage(input, options, detectors, { maxPixels: 50e6 }, config.detection);

  test('the defaults are YuNet-n and YOLOv9-t at the plate threshold of its manifest', () => {
    assert.equal(models.faces?.name, 'yunet-n');
    assert.equal(models.plates?.name, 'yolov9-t-plates');
    assert.equal(options.thresholds.plate, models.plates?.threshold);
  });

  test('uf_3.jpg: all five faces, blurred, each with five landmarks in the job record', async () => {
    const key = 'fixtures:faces/uf_3.jpg';
    const result = await run(fs.readFileSync(resolveImage(key)));
    const faces = result.detections.filter((d) => d.kind === 'face');
    assert.equal(hits(labelled(key, 'face'), result.detections, 'face'), 5);
    assert.equal(faces.length, 5, `${faces.length} faces`);
    for (const d of faces) {
      assert.ok(d.blurred && d.blurBox);
      assert.equal(d.landmarks?.length, 5);
      for (const [x, y] of d.landmarks!) assert.ok(x >= d.box.x - d.box.width / 4 && x <= d.box.x + (5 * d.box.width) / 4 && y >= d.box.y - d.box.height / 4 && y <= d.box.y + (5 * d.box.height) / 4);
    }
    // The record is JSON: landmarks survive the trip to the job record as [x, y] pairs.
    const stored = JSON.parse(JSON.stringify(result.detections)) as Detection[];
    assert.deepEqual(stored.find((d) => d.kind === 'face')?.landmarks, faces[0].landmarks);
  });

  test('uf_1.jpg: at least 47 of the 52 faces of the crowd (what the legacy tiles found)', async () => {
    const key = 'fixtures:faces/uf_1.jpg';
    const result = await run(fs.readFileSync(resolveImage(key)));
    const found = hits(labelled(key, 'face'), result.detections, 'face');
    assert.ok(found >= 47, `found ${found}/52`);
    assert.ok(!('detect_faces_tiles' in result.timings), 'one pass, no tiles, for an image below FACE_INPUT_LONG_SIDE');
  });

  test('uf_3.jpg shrunk into a 1080p frame: all five faces, through the full pass and the batched head crops', async () => {
    const group = await sharp(resolveImage('fixtures:faces/uf_3.jpg')).resize(410).png().toBuffer();
    const canvas = sharp({ create: { width: 1920, height: 1080, channels: 3, background: { r: 120, g: 130, b: 110 } } });
    const image = await canvas.composite([{ input: group, left: 1200, top: 500 }]).jpeg({ quality: 92 }).toBuffer();
    const expected = gt.find((g) => g.image === 'fixtures:faces/uf_3.jpg')!.objects.map((o) => o.box.map((v, i) => v * 0.4 + (i === 0 ? 1200 : i === 1 ? 500 : 0)) as [number, number, number, number]);
    const result = await run(image);
    assert.equal(hits(expected, result.detections, 'face'), 5);
    // A coarse full pass (long side 320: faces shrunk 6×, as UltraFace saw them) leaves them to the head crops of the five girls.
    const coarse = { ...config.detection, faceInputLongSide: 320, tiling: 'off' as const };
    const withHeads = await processImage(image, options, detectors, { maxPixels: 50e6 }, coarse);
    const without = await processImage(image, options, detectors, { maxPixels: 50e6 }, { ...coarse, facesOnPersons: false });
    assert.ok(withHeads.timings.detect_faces_persons > 0, 'the head crops ran, timed as their own stage');
    assert.ok(hits(expected, withHeads.detections, 'face') >= 4, `found ${hits(expected, withHeads.detections, 'face')}/5 through the persons`);
    assert.ok(hits(expected, without.detections, 'face') < hits(expected, withHeads.detections, 'face'), `the coarse pass alone finds fewer (${hits(expected, without.detections, 'face')} vs ${hits(expected, withHeads.detections, 'face')}; ${JSON.stringify(without.timings)})`);
  });

  test('every labelled plate of the alpr fixtures', async () => {
    const missed: string[] = [];
    for (const g of gt.filter((e) => e.image.includes('plates/alpr_'))) {
      const boxes = labelled(g.image, 'plate');
      const result = await run(fs.readFileSync(resolveImage(g.image)));
      if (hits(boxes, result.detections, 'plate') < boxes.length) missed.push(g.image);
    }
    assert.deepEqual(missed, []);
  });

  test('the labelled plate of the first four openalpr photos of each region, and vehicle crops timed as their own stage', async () => {
    const sample: OpenalprImage[] = [];
    for (const region of ['us', 'eu', 'br'] as const) sample.push(...(await loadOpenalpr([region])).slice(0, 4));
    const missed: string[] = [];
    let vehiclePasses = 0;
    for (const o of sample) {
      const result = await run(fs.readFileSync(o.file));
      if (hits([o.gt.objects[0].box], result.detections, 'plate') === 0) missed.push(o.name);
      if ('detect_plates_vehicles' in result.timings) vehiclePasses++;
    }
    assert.deepEqual(missed, []);
    assert.ok(vehiclePasses > 0);
  });

  test('head crops in one batched run give the boxes of one run per crop', async () => {
    const { data, info } = await sharp(resolveImage('fixtures:faces/uf_3.jpg')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const pyramid = pixelOps.buildPyramid({ data, width: info.width, height: info.height, channels: 3 });
    const regions = [{ x: 0, y: 0, width: 320, height: 320 }, { x: 200, y: 40, width: 300, height: 300 }, { x: info.width - 256, y: 0, width: 256, height: 256 }];
    const faces = detectors.faces!;
    assert.ok(faces.batches, 'YuNet has a symbolic batch dimension');
    const inputSize = { width: 160, height: 160 };
    const batched = await faces.detectBatch(pyramid, 0.5, regions, { inputSize });
    const single = await Promise.all(regions.map((r) => faces.detect(pyramid, 0.5, r, { inputSize })));
    assert.equal(batched.length, 3);
    assert.ok(single.flat().length > 0);
    for (let i = 0; i < 3; i++) {
      assert.equal(batched[i].length, single[i].length);
      batched[i].forEach((d, k) => assert.ok(Math.abs(d.x1 - single[i][k].x1) < 0.5 && Math.abs(d.score - single[i][k].score) < 1e-3));
    }
    assert.equal(detectors.plates!.batches, false, 'the YOLOv9-t export is batch 1: one run per crop');
  });

  test('the TypeScript fallback (PIXVEIL_NATIVE=off) runs the same passes and finds uf_3.jpg\'s five faces', () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const script = `
      const { processImage } = await import(${JSON.stringify(path.resolve(here, '../../src/pipeline/process-image.js'))});
      const { pixelOps } = await import(${JSON.stringify(path.resolve(here, '../../src/addon/index.js'))});
      const { Detector } = await import(${JSON.stringify(path.resolve(here, '../../src/models/detector.js'))});
      const { loadManifests } = await import(${JSON.stringify(path.resolve(here, '../../src/models/manifest.js'))});
      const { loadConfig } = await import(${JSON.stringify(path.resolve(here, '../../src/config/config.js'))});
      const fs = await import('node:fs');
      const m = loadManifests().get('yunet-n');
      const faces = await Detector.load(m, ${JSON.stringify(modelDir)} + '/' + m.file, { intraOpThreads: 1, executionProviders: ['cpu'] });
      const options = { blur: 'gaussian', shape: 'box', detect: { faces: true, plates: false, objects: false }, thresholds: { face: 0.6, plate: 0.4, object: 0.35 }, blurClasses: [], format: 'png', quality: 90 };
      const r = await processImage(fs.readFileSync(${JSON.stringify(resolveImage('fixtures:faces/uf_3.jpg'))}), options, { faces }, { maxPixels: 50e6 }, loadConfig({}).detection);
      process.stdout.write(JSON.stringify({ ops: pixelOps.implementation, faces: r.detections.length }));
    `;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, PIXVEIL_NATIVE: 'off' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    assert.deepEqual(out, { ops: 'typescript', faces: 5 });
  });
});
