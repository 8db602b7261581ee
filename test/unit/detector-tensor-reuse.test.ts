// A Detector keeps its input tensors between runs (an 18 MB Float32Array per YuNet pass cost more than
// filling it). Reuse must never leak one image into the next: every element, padding included, is
// rewritten, and two passes in flight at once on one detector never share a tensor.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { decodeImage } from '../../src/pipeline/decode.js';
import { Detector } from '../../src/models/detector.js';
import { modelPath } from '../../src/models/files.js';
import { loadManifests } from '../../src/models/manifest.js';
import { facesDir, modelDir } from '../../harness/fixtures.js';
import sharp from 'sharp';

const manifests = loadManifests();
const session = { intraOpThreads: 1, executionProviders: ['cpu'] };
const load = (name: string) => Detector.load(manifests.get(name)!, modelPath(modelDir, manifests.get(name)!), session);

/** The same crowd photo as a wide and as a tall image: letterboxed into one square input, their padding lies on different sides. */
async function wideAndTall() {
  const file = path.join(facesDir, 'uf_1.jpg');
  const wide = await decodeImage(await sharp(file).resize(1200, 600, { fit: 'cover' }).jpeg().toBuffer(), 1e8);
  const tall = await decodeImage(await sharp(file).resize(500, 900, { fit: 'cover' }).jpeg().toBuffer(), 1e8);
  return { wide: wide.image, tall: tall.image };
}

test('a detector that ran another image first finds exactly what a fresh detector finds (padding is rewritten, not left over)', async () => {
  const { wide, tall } = await wideAndTall();
  for (const name of ['yolox-nano', 'ultraface-rfb-320']) {
    const used = await load(name);
    const fresh = await load(name);
    try {
      await used.detect(wide, 0.2);
      const again = await used.detect(tall, 0.2);
      assert.ok(again.length > 0, `${name} finds something in the tall photo`);
      assert.deepEqual(again, await fresh.detect(tall, 0.2), name);
    } finally {
      await Promise.all([used.release(), fresh.release()]);
    }
  }
});

test('passes in flight at once on one detector give what they give one after the other', async () => {
  const { wide, tall } = await wideAndTall();
  const yunet = await load('yunet-n');
  try {
    const inputSize = { width: 640, height: 640 };
    const alone = [await yunet.detect(wide, 0.5, undefined, { inputSize }), await yunet.detect(tall, 0.5, undefined, { inputSize })];
    const together = await Promise.all([yunet.detect(wide, 0.5, undefined, { inputSize }), yunet.detect(tall, 0.5, undefined, { inputSize }), yunet.detect(wide, 0.5, undefined, { inputSize })]);
    assert.ok(alone[0].length > 5 && alone[1].length > 5, 'faces found in both');
    assert.deepEqual(together, [alone[0], alone[1], alone[0]]);
  } finally {
    await yunet.release();
  }
});
