import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newVideoTally, scoreFrame } from '../../eval/video/score.js';

const face = (object: number, box: [number, number, number, number]) => ({ object, class: 'face' as const, box });

test('video eval: a label is found by IoU >= 0.3 with a box of its class, and unblurred when under half of it is covered', () => {
  const t = newVideoTally();
  const labels = [face(0, [0, 0, 10, 10]), face(1, [100, 100, 10, 10]), face(2, [200, 200, 10, 10])];
  const boxes = [
    { class: 'face' as const, box: { x: 1, y: 1, width: 10, height: 10 } },
    { class: 'plate' as const, box: { x: 100, y: 100, width: 10, height: 10 } },
  ];
  // Label 0 fully covered, label 1 covered 6 of 10 columns (not unblurred), label 2 4 of 10 (unblurred).
  const regions = [
    { x: 0, y: 0, width: 10, height: 10 },
    { x: 100, y: 100, width: 6, height: 10 },
    { x: 200, y: 200, width: 4, height: 10 },
  ];
  const out = scoreFrame(labels, boxes, regions, [t]);
  assert.deepEqual(out.map((o) => [o.found, o.unblurred]), [[true, false], [false, false], [false, true]]);
  assert.deepEqual(t, { labelFrames: 3, found: 1, unblurred: 1, frames: 1, framesWithUnblurred: 1, pixels: 300, uncoveredPixels: 100 });
  scoreFrame([], boxes, regions, [t]);
  assert.equal(t.frames, 1, 'a frame without labels is not counted');
});
