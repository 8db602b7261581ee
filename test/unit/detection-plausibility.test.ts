// Issue 21 item 9: boxes with a shape their kind cannot have at their score are dropped before
// blurring (src/pipeline/plausibility.ts). The rules on made-up boxes, then the photos the issue
// names: uf_2.jpg (an 889×462 "plate" at 0.372 blurred the whole group photo) and hlpr_2.jpg (a
// 453×446 "face" at 0.64 on the car's lights), at the defaults and with the rules turned off.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { loadGroundTruth, resolveImage } from '../../eval/ground-truth.js';
import { loadConfig } from '../../src/config/config.js';
import type { DetectionSettings } from '../../src/config/detection.js';
import { defaultJobOptions, type Detection, type JobOptions } from '../../src/job.js';
import { configuredModels, defaultThresholds } from '../../src/models/configured.js';
import { loadManifests } from '../../src/models/manifest.js';
import type { RawDetection } from '../../src/models/postprocess/candidates.js';
import { plausible } from '../../src/pipeline/plausibility.js';
import { processImage } from '../../src/pipeline/process-image.js';
import { detectorsForSuite } from '../../harness/suite-detectors.js';

const config = loadConfig({});
const rules = config.detection.plausibility;
const box = (x1: number, y1: number, x2: number, y2: number, score: number): RawDetection => ({ x1, y1, x2, y2, score, classId: 0 });

test('a box over a large share of the frame is kept only at a high score, per kind', () => {
  // 1000×500 frame: 800×400 is 64% of it.
  assert.equal(plausible(box(100, 50, 900, 450, 0.37), 'plate', 1000, 500, rules), false);
  assert.equal(plausible(box(100, 50, 900, 450, 0.9), 'plate', 1000, 500, rules), true, 'a close-up plate scores high');
  assert.equal(plausible(box(600, 10, 1000, 450, 0.64), 'face', 1000, 500, rules), false);
  assert.equal(plausible(box(600, 10, 1000, 450, 0.95), 'face', 1000, 500, rules), true, 'a portrait scores high');
  assert.equal(plausible(box(100, 100, 140, 150, 0.61), 'face', 1000, 500, rules), true, 'small boxes keep any score over the threshold');
  const looser = { ...rules, plate: { ...rules.plate, largeMinScore: 0.3 } };
  assert.equal(plausible(box(100, 50, 900, 450, 0.37), 'plate', 1000, 500, looser), true, 'the rule follows PLATE_LARGE_MIN_SCORE');
});

test('a plate box inside the frame must have a plate\'s aspect; one the frame cuts may not', () => {
  assert.equal(plausible(box(500, 100, 520, 180, 0.9), 'plate', 1000, 500, rules), false, '20×80: four times as tall as wide');
  assert.equal(plausible(box(500, 100, 800, 120, 0.9), 'plate', 1000, 500, rules), false, '300×20: wider than any plate');
  assert.equal(plausible(box(500, 100, 530, 150, 0.9), 'plate', 1000, 500, rules), true, '30×50: a plate at a steep angle');
  assert.equal(plausible(box(0.5, 100, 12, 160, 0.9), 'plate', 1000, 500, rules), true, 'the left edge cuts it: a slice of a plate');
  assert.equal(plausible(box(500, 100, 520, 180, 0.9), 'face', 1000, 500, rules), true, 'the aspect rule is the plate\'s only');
});

describe('the photos of issue 21', () => {
  const manifests = loadManifests();
  const models = configuredModels(config, manifests);
  const options: JobOptions = { ...defaultJobOptions(config, defaultThresholds(models)), format: 'png' };
  const detectors = detectorsForSuite(config);
  const off: DetectionSettings = { ...config.detection, plausibility: { face: { largeShare: 1, largeMinScore: 0 }, plate: { largeShare: 1, largeMinScore: 0, minAspect: 0, maxAspect: 100 } } };
  const run = (image: string, settings = config.detection) => processImage(fs.readFileSync(resolveImage(image)), options, detectors, { maxPixels: config.maxPixels }, settings);
  const share = (d: Detection, r: { width: number; height: number }) => (d.box.width * d.box.height) / (r.width * r.height);
  const labelledCount = (image: string, cls: 'face' | 'plate') => loadGroundTruth().find((g) => g.image === image)!.objects.filter((o) => o.class === cls).length;

  test('uf_2.jpg: no plate over the group photo; its four faces are still blurred', async () => {
    const image = 'fixtures:faces/uf_2.jpg';
    const without = await run(image, off);
    assert.ok(without.detections.some((d) => d.kind === 'plate' && share(d, without) > 0.5), 'with the rules off, the giant plate is there (the issue\'s case)');
    const result = await run(image);
    assert.deepEqual(result.detections.filter((d) => d.kind === 'plate'), []);
    const faces = result.detections.filter((d) => d.kind === 'face' && d.blurred);
    assert.equal(faces.length, labelledCount(image, 'face'));
  });

  test('hlpr_2.jpg: no face on the car\'s lights; its plate is still blurred', async () => {
    const image = 'fixtures:plates/hlpr_2.jpg';
    const without = await run(image, off);
    assert.ok(without.detections.some((d) => d.kind === 'face' && share(d, without) > 0.2), 'with the rules off, the giant face is there (the issue\'s case)');
    const result = await run(image);
    assert.deepEqual(result.detections.filter((d) => d.kind === 'face'), []);
    assert.equal(result.detections.filter((d) => d.kind === 'plate' && d.blurred).length, labelledCount(image, 'plate'));
  });
});
