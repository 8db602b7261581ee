import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { concatList } from '../../src/video/segments/join.js';
import { planSegments } from '../../src/video/segments/plan.js';
import type { VideoInfo } from '../../src/video/probe.js';

const info = (num: number, den: number, fps: number, videoOffsetSeconds = 0): VideoInfo => ({
  container: 'mov,mp4,m4a,3gp,3g2,mj2', videoIndex: 0, codec: 'h264', width: 64, height: 48, rotation: 0, fps,
  timeBase: { num, den }, frames: 0, durationSeconds: 0, videoOffsetSeconds, audio: [], streamCount: 1, tags: {},
});

describe('planSegments', () => {
  test('every frame in exactly one segment, windows on the nominal boundaries from the first frame', () => {
    // 25 fps in 1/12800 starting at 1.0 s: 100 frames, 4 s.
    const pts = Array.from({ length: 100 }, (_, i) => 12800 + i * 512);
    const plans = planSegments(pts, info(1, 12800, 25), 1, 0.64);
    assert.deepEqual(plans.map((p) => [p.firstFrame, p.frames]), [[0, 25], [25, 25], [50, 25], [75, 25]]);
    assert.deepEqual(plans.map((p) => [p.fromTicks, p.toTicks]), [[12800, 25600], [25600, 38400], [38400, 51200], [51200, null]]);
    assert.deepEqual(plans.map((p) => p.firstPts), [12800, 25600, 38400, 51200]);
    // The piece reaches the overlap and a frame further on both sides; the last runs to the end.
    assert.equal(plans[0].cutFromSeconds, 0);
    assert.ok(Math.abs(plans[1].cutFromSeconds - (1 - 0.64 - 0.04)) < 1e-9);
    assert.ok(Math.abs(plans[1].cutFromSeconds + plans[1].cutSeconds! - (1.96 + 0.64 + 0.04)) < 1e-9);
    assert.equal(plans[3].cutSeconds, null);
  });

  test('a gap longer than a segment (variable rate) leaves no empty segment; the window spans it', () => {
    const pts = [0, 100, 200, 2500, 2600, 4100];
    const plans = planSegments(pts, info(1, 1000, 10), 1, 0.5);
    assert.deepEqual(plans.map((p) => [p.firstFrame, p.frames, p.fromTicks, p.toTicks]), [[0, 3, 0, 2000], [3, 2, 2000, 4000], [5, 1, 4000, null]]);
  });

  test('a boundary that is not a whole tick goes to the frame at or after it (NTSC 1001/30000)', () => {
    const pts = Array.from({ length: 90 }, (_, i) => i);
    const plans = planSegments(pts, info(1001, 30000, 30000 / 1001), 1, 0);
    // 1 s is 29.97 ticks: frame 30 (1.001 s) starts the second segment, rounded boundary 30.
    assert.deepEqual(plans.map((p) => p.frames).reduce((a, b) => a + b), 90);
    assert.equal(plans[1].firstFrame, 30);
    for (const p of plans) assert.ok(pts[p.firstFrame] >= p.fromTicks && (p.toTicks === null || pts[p.firstFrame + p.frames - 1] < p.toTicks));
  });

  test('the video offset moves the cut points (ffmpeg -ss counts from the file start)', () => {
    const pts = Array.from({ length: 50 }, (_, i) => i * 100);
    const plans = planSegments(pts, info(1, 1000, 10, 0.5), 2, 0.2);
    assert.ok(Math.abs(plans[1].cutFromSeconds - (2 + 0.5 - 0.3)) < 1e-9);
  });
});

describe('concatList', () => {
  test('each segment lasts until the next one starts, in microseconds that add up to the ticks', () => {
    const pts = Array.from({ length: 60 }, (_, i) => 1000 + i * 3003);
    const plans = planSegments(pts, info(1, 90000, 29.97), 0.5, 0);
    const list = concatList(plans.map((p) => `seg ${p.index}'s.mp4`), plans, info(1, 90000, 29.97));
    const durations = [...list.matchAll(/^duration (\S+)$/gm)].map((m) => Number(m[1]));
    assert.equal(durations.length, plans.length - 1);
    let at = 0;
    durations.forEach((d, i) => {
      at += d;
      // Back in ticks, each segment starts exactly at its first frame's pts.
      assert.equal(Math.round((at * 90000)), plans[i + 1].firstPts - plans[0].firstPts);
    });
    assert.match(list, /^file 'seg 0'\\''s\.mp4'$/m);
  });
});
