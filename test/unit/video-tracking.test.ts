import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LookaheadTracker, type FrameBox, type TrackerOptions } from '../../src/video/tracking/index.js';
import { iou } from '../../src/video/tracking/rect.js';

type Truth = { x: number; y: number; width: number; height: number };

const face = (x: number, y: number, size = 40, score = 0.7): FrameBox => ({ kind: 'face', x, y, width: size, height: size, score });

/** Pushes every frame, then flushes; checks frames come out once each, in order, with at most lookahead held. */
function run(options: TrackerOptions, frames: Array<FrameBox[] | null>) {
  const tracker = new LookaheadTracker(options);
  const out = new Map<number, FrameBox[]>();
  const order: number[] = [];
  frames.forEach((dets, frame) => {
    for (const r of tracker.push(frame, dets)) {
      order.push(r.frame);
      out.set(r.frame, r.boxes);
    }
    assert.ok(tracker.heldFrames <= options.lookahead, `held ${tracker.heldFrames} frames after frame ${frame}`);
  });
  for (const r of tracker.flush()) {
    order.push(r.frame);
    out.set(r.frame, r.boxes);
  }
  assert.deepEqual(order, frames.map((_, i) => i));
  return { out, tracker };
}

const covers = (boxes: FrameBox[] | undefined, truth: Truth, minIou = 0.5) => (boxes ?? []).some((b) => iou(b, truth) >= minIou);

describe('LookaheadTracker', () => {
  test('a face seen in frames 10–40 and missed in 25 is blurred in all of them, and carried back and past them', () => {
    const truth = (f: number): Truth => ({ x: 100 + 2 * f, y: 200, width: 40, height: 40 });
    const frames = Array.from({ length: 60 }, (_, f) => (f >= 10 && f <= 40 && f !== 25 ? [face(truth(f).x, 200)] : []));
    const { out, tracker } = run({ lookahead: 8, maxMisses: 8, iouThreshold: 0.3, detectEvery: 1, frameWidth: 1280, frameHeight: 720 }, frames);
    for (let f = 10; f <= 40; f++) assert.ok(covers(out.get(f), truth(f), 0.8), `frame ${f}: ${JSON.stringify(out.get(f))}`);
    assert.equal(out.get(25)![0].source, 'interpolated');
    assert.equal(out.get(30)![0].source, 'detected');
    // Confirmed by its second detection (frame 11), it is carried back over the 8 frames held then, and maxMisses 8 frames past its last.
    for (let f = 3; f < 10; f++) assert.ok(covers(out.get(f), truth(f)), `frame ${f} before the first detection`);
    for (let f = 41; f <= 48; f++) assert.ok(covers(out.get(f), truth(f)), `frame ${f} after the last detection`);
    for (const f of [0, 1, 2, 49, 50, 59]) assert.deepEqual(out.get(f), [], `frame ${f}`);
    // Predicted boxes are grown, detected ones are not.
    assert.ok(out.get(48)![0].width > 40 && out.get(30)![0].width === 40);
    const tracks = tracker.tracks();
    assert.equal(tracks.length, 1);
    assert.deepEqual([tracks[0].kind, tracks[0].first_frame, tracks[0].last_frame, tracks[0].boxes.length], ['face', 3, 48, 46]);
  });

  test('a face entering the frame is carried back only while its predicted box is in the frame', () => {
    // Moves 10 px a frame from the left edge; first detected in frame 12 at x = 20.
    const truth = (f: number): Truth => ({ x: 20 + 10 * (f - 12), y: 300, width: 40, height: 40 });
    const frames = Array.from({ length: 30 }, (_, f) => (f >= 12 ? [face(truth(f).x, 300)] : []));
    const { out } = run({ lookahead: 8, maxMisses: 4, iouThreshold: 0.3, detectEvery: 1, frameWidth: 640, frameHeight: 480 }, frames);
    // Frames 5–11 were held when its second detection confirmed it; in 8–10 it was partly out of the frame.
    for (const f of [8, 9, 10]) assert.ok(out.get(f)!.length === 1 && out.get(f)![0].x === 0 && covers(out.get(f), { ...truth(f), x: 0, width: truth(f).x + 40 }, 0.6), `frame ${f} holds the visible part`);
    assert.ok(covers(out.get(11), truth(11), 0.8));
    for (let f = 0; f <= 5; f++) assert.deepEqual(out.get(f), [], `frame ${f}: the predicted box has left the frame`);
  });

  test('detect_every=3: frames between passes get boxes interpolated between the passes', () => {
    const truth = (f: number): Truth => ({ x: 50 + 6 * f, y: 100 + f, width: 30 + f / 3, height: 30 + f / 3 });
    const frames = Array.from({ length: 31 }, (_, f) => (f % 3 === 0 ? [{ kind: 'plate', ...truth(f), score: 0.5 }] : null));
    const { out } = run({ lookahead: 3, maxMisses: 2, iouThreshold: 0.3, detectEvery: 3 }, frames);
    for (let f = 0; f <= 30; f++) {
      const boxes = out.get(f)!;
      assert.equal(boxes.length, 1, `frame ${f}`);
      assert.equal(boxes[0].source, f % 3 === 0 ? 'detected' : 'interpolated');
      assert.ok(iou(boxes[0], truth(f)) >= 0.85, `frame ${f}: iou ${iou(boxes[0], truth(f))}`);
    }
  });

  test('detect_every=3: a small fast plate, seen once so far, still links to its next pass', () => {
    // 30 px a frame, 90 px between passes: its box no longer overlaps where it was.
    const truth = (f: number): Truth => ({ x: 10 + 30 * f, y: 400, width: 60, height: 20 });
    const frames = Array.from({ length: 30 }, (_, f) => (f % 3 === 0 ? [{ kind: 'plate', ...truth(f), score: 0.4 }] : null));
    const { out, tracker } = run({ lookahead: 3, maxMisses: 2, iouThreshold: 0.3, detectEvery: 3 }, frames);
    assert.equal(tracker.tracks().length, 1);
    for (let f = 0; f < 28; f++) assert.ok(covers(out.get(f), truth(f), 0.8), `frame ${f}`);
  });

  test('detect_every=3: a crowd under a fast pan keeps its identities (the nearest detection in the next pass is the neighbour)', () => {
    // A 6 × 4 grid of faces 50 px apart, all moving 12 px a frame up-left: 36 px between passes.
    const grid = Array.from({ length: 24 }, (_, i) => ({ x: 300 + (i % 6) * 50 + (i % 3), y: 300 + Math.floor(i / 6) * 50, size: 36 + (i % 5) }));
    const truth = (g: (typeof grid)[number], f: number): Truth => ({ x: g.x - 12 * f, y: g.y - 5 * f, width: g.size, height: g.size });
    const frames = Array.from({ length: 21 }, (_, f) => (f % 3 === 0 ? grid.map((g) => ({ kind: 'face', ...truth(g, f), score: 0.8 })) : null));
    const { out, tracker } = run({ lookahead: 3, maxMisses: 3, iouThreshold: 0.3, detectEvery: 3 }, frames);
    assert.equal(tracker.tracks().length, 24);
    for (let f = 0; f <= 20; f++) for (const g of grid) assert.ok(covers(out.get(f), truth(g, f), 0.7), `frame ${f}, face at ${g.x},${g.y}`);
  });

  test('two crossing faces keep their identities', () => {
    const a = (f: number) => face(20 + 8 * f, 100);
    const b = (f: number) => face(340 - 8 * f, 115);
    const frames = Array.from({ length: 40 }, (_, f) => (f % 7 === 3 ? [b(f), a(f)] : [a(f), b(f)]));
    const { out, tracker } = run({ lookahead: 4, maxMisses: 4, iouThreshold: 0.3, detectEvery: 1 }, frames);
    const tracks = tracker.tracks();
    assert.equal(tracks.length, 2);
    for (const t of tracks) {
      const xs = t.boxes.map((b) => b.x);
      const rightward = xs[1] > xs[0];
      for (let i = 1; i < xs.length; i++) assert.ok(rightward ? xs[i] > xs[i - 1] : xs[i] < xs[i - 1], `track ${t.id} turned back at frame ${t.boxes[i].frame}`);
      assert.equal(t.boxes.length, 40);
    }
    for (let f = 0; f < 40; f++) assert.equal(new Set(out.get(f)!.map((x) => x.track)).size, 2);
  });

  test('a lone false positive is blurred in its own frame only (low score) or for at most maxMisses frames after it (high score)', () => {
    const frames: Array<FrameBox[] | null> = Array.from({ length: 60 }, () => []);
    frames[5] = [face(300, 300, 30, 0.35)];
    frames[30] = [face(600, 100, 30, 0.95)];
    const { out, tracker } = run({ lookahead: 6, maxMisses: 4, iouThreshold: 0.3, detectEvery: 1 }, frames);
    const at = (f: number) => out.get(f)!.length;
    assert.equal(at(5), 1, 'a detection is always blurred in its own frame');
    for (let f = 0; f < 30; f++) if (f !== 5) assert.equal(at(f) > 0 && f < 24, false, `frame ${f}`);
    for (let f = 24; f <= 34; f++) assert.equal(at(f), 1, `frame ${f}`);
    for (let f = 35; f < 60; f++) assert.equal(at(f), 0, `frame ${f}: past maxMisses`);
    assert.deepEqual(tracker.tracks().map((t) => [t.first_frame, t.last_frame]), [[5, 5], [24, 34]]);
  });

  test('flush releases every held frame, and nothing can be pushed after it', () => {
    const tracker = new LookaheadTracker({ lookahead: 10, maxMisses: 3, iouThreshold: 0.3, detectEvery: 2 });
    const released: number[] = [];
    for (let f = 0; f < 7; f++) released.push(...tracker.push(f, f % 2 === 0 ? [face(10 * f, 10)] : null).map((r) => r.frame));
    assert.deepEqual(released, []);
    const rest = tracker.flush();
    assert.deepEqual(rest.map((r) => r.frame), [0, 1, 2, 3, 4, 5, 6]);
    assert.ok(rest.every((r) => r.boxes.length === 1));
    assert.equal(tracker.heldFrames, 0);
    assert.throws(() => tracker.push(7, []), /after flush/);
  });

  test('memory stays bounded: lookahead frames held, ended tracks let go', () => {
    const options = { lookahead: 5, maxMisses: 3, iouThreshold: 0.3, detectEvery: 1 };
    const tracker = new LookaheadTracker(options);
    let released = 0;
    for (let f = 0; f < 2000; f++) {
      // A steady face, and a new short-lived one every frame somewhere else.
      const dets = [face(500, 500), face((f * 97) % 1200, (f * 53) % 600, 20, 0.95)];
      const out = tracker.push(f, dets);
      released += out.length;
      assert.ok(tracker.heldFrames <= options.lookahead);
      if (f >= options.lookahead) assert.deepEqual(out.map((r) => r.frame), [f - options.lookahead]);
      assert.ok(tracker.activeTracks <= 2 + options.maxMisses + options.lookahead + 1, `${tracker.activeTracks} tracks kept at frame ${f}`);
    }
    assert.equal(released + tracker.flush().length, 2000);
  });

  test('bad options and frames out of order are refused with a clear message', () => {
    const ok = { lookahead: 4, maxMisses: 4, iouThreshold: 0.3, detectEvery: 1 };
    assert.throws(() => new LookaheadTracker({ ...ok, lookahead: -1 }), /Expected an integer >= 0 for lookahead but received -1 of type number/);
    assert.throws(() => new LookaheadTracker({ ...ok, detectEvery: 0 }), /Expected an integer >= 1 for detectEvery/);
    assert.throws(() => new LookaheadTracker({ ...ok, iouThreshold: 2 }), /Expected a number between 0 and 1 for iouThreshold/);
    assert.throws(() => new LookaheadTracker({ ...ok, frameWidth: 640 }), /frameWidth and frameHeight together/);
    const tracker = new LookaheadTracker(ok);
    tracker.push(0, []);
    assert.throws(() => tracker.push(2, []), /Expected frame 1 for frame but received 2/);
    assert.throws(() => tracker.push(1, [face(0, 0, 0)]), /Expected finite x, y, score and a positive width and height for detection box/);
    assert.throws(() => tracker.push(1, [{ ...face(0, 0), x: NaN }]), /for detection box/);
  });

  test('kinds and object classes never link', () => {
    const frames = Array.from({ length: 10 }, (_, f) => [
      { kind: 'face', x: 100, y: 100, width: 40, height: 40, score: 0.8 },
      { kind: 'plate', x: 100 + (f % 2), y: 100, width: 40, height: 40, score: 0.8 },
      { kind: 'object', label: f < 5 ? 'car' : 'truck', x: 100, y: 100, width: 40, height: 40, score: 0.8 },
    ]);
    const { tracker } = run({ lookahead: 2, maxMisses: 2, iouThreshold: 0.3, detectEvery: 1 }, frames);
    assert.deepEqual(
      tracker.tracks().map((t) => `${t.kind}:${t.label ?? ''}`).sort(),
      ['face:', 'object:car', 'object:truck', 'plate:'],
    );
  });
});
