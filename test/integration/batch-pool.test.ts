import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import type { Detection } from '../../src/job.js';
import { ImagePool } from '../../src/pool/image-pool.js';
import type { ImageTaskFailure, ImageTaskResult } from '../../src/pool/task.js';
import { facesDir, platesDir } from '../../harness/fixtures.js';
import { everyDetectorOptions, testPoolOptions } from '../../harness/pool.js';

const options = everyDetectorOptions;

// The default models: YuNet-n (dynamic batch axis: joined across images), YOLOX-nano and the
// YOLOv9-t plate export (batch 1: one run per image).
const base = testPoolOptions({ threads: 2, concurrencyPerThread: 2, models: { faces: 'yunet-n', objects: 'yolox-nano', plates: 'yolov9-t-plates' } });

/** Real photos; the first four (in flight together) at one size, so YuNet's full-frame inputs share a shape and can be joined. */
async function photos(): Promise<Array<{ name: string; bytes: Buffer }>> {
  const files = [...fs.readdirSync(facesDir).slice(0, 6).map((f) => path.join(facesDir, f)), ...['hlpr_1.jpg', 'alpr_h786poj.jpg'].map((f) => path.join(platesDir, f))];
  const out = [];
  for (const [i, file] of files.entries()) {
    const bytes = fs.readFileSync(file);
    out.push({ name: path.basename(file), bytes: i < 4 ? await sharp(bytes).rotate().resize(1280, 720, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer() : bytes });
  }
  return out;
}

async function runAll(pool: ImagePool, images: Array<{ bytes: Buffer }>): Promise<Array<ImageTaskResult | ImageTaskFailure>> {
  return Promise.all(images.map((img) => pool.run(Buffer.from(img.bytes), options)));
}

const byPosition = (a: Detection, b: Detection) => a.kind.localeCompare(b.kind) || a.box.x - b.box.x || a.box.y - b.box.y;

test('BATCH_IMAGES=4 finds the same detections as one session per thread, with YuNet runs shared by several images', async () => {
  const images = await photos();
  const plain = new ImagePool(base);
  let expected: Array<ImageTaskResult | ImageTaskFailure>;
  try {
    expected = await runAll(plain, images);
  } finally {
    await plain.close();
  }
  const batched = new ImagePool({ ...base, batch: { images: 4, waitMs: 500 } });
  try {
    await batched.warmUp();
    const got = await runAll(batched, images);
    for (const [i, result] of got.entries()) {
      const want = expected[i];
      assert.ok(result.ok && want.ok, `${images[i].name}: ${JSON.stringify(result.ok ? want : result)}`);
      const a = [...result.detections].sort(byPosition);
      const b = [...want.detections].sort(byPosition);
      assert.equal(a.length, b.length, `${images[i].name}: ${a.length} detections batched, ${b.length} unbatched`);
      for (const [k, d] of a.entries()) {
        assert.equal(d.kind, b[k].kind);
        // Boxes come back rounded to 0.1 px: equal raw boxes (within 1e-3, see test/unit/batch-inference) may round one step apart.
        for (const key of ['x', 'y', 'width', 'height'] as const) assert.ok(Math.abs(d.box[key] - b[k].box[key]) <= 0.1 + 1e-3, `${images[i].name} ${d.kind} ${key}: ${d.box[key]} vs ${b[k].box[key]}`);
        assert.ok(Math.abs(d.score - b[k].score) <= 0.001 + 1e-6);
      }
    }
    assert.ok(got.some((r) => r.ok && r.detections.some((d) => d.kind === 'face')), 'the photos have faces');
    const stats = (await batched.inferenceStats())!;
    const faces = stats['yunet-n'];
    assert.ok(faces.requests > faces.runs, `YuNet served ${faces.requests} requests in ${faces.runs} runs: some were joined`);
    for (const fixed of ['yolox-nano', 'yolov9-t-plates']) assert.equal(stats[fixed].runs, stats[fixed].requests, `${fixed} (batch 1) runs once per image`);
    assert.equal(stats['yolox-nano'].requests, images.length);
  } finally {
    await batched.close();
  }
});

test('when the inference thread stops, jobs in flight and later fail with a clear, retryable error instead of hanging', async () => {
  const images = await photos();
  const pool = new ImagePool({ ...base, batch: { images: 4, waitMs: 5 } });
  try {
    await pool.warmUp();
    const inFlight = runAll(pool, images);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await pool.inference!.stop('stopped by the test');
    const results = await inFlight;
    const failed = results.filter((r): r is ImageTaskFailure => !r.ok);
    assert.ok(failed.length > 0, 'some jobs were still waiting on inference');
    for (const f of failed) {
      assert.equal(f.code, 'PROCESSING_ERROR');
      assert.match(f.message, /inference thread/);
      assert.equal(f.retryable, true);
    }
    const later = await pool.run(Buffer.from(images[0].bytes), options);
    assert.ok(!later.ok);
    assert.match(later.message, /inference thread/);
  } finally {
    await pool.close();
  }
});
