// Videos longer than VIDEO_SEGMENT_SECONDS run as segments joined without re-encoding: the joined
// output must hold every frame once at its own time, keep the audio, and blur a track that crosses
// a boundary on both sides. The pool is a test double that "detects" the clip's white square by
// its pixels and paints blurred boxes green, so what the tracker did is visible in the output.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { errors, isPixveilError } from '../../src/errors.js';
import type { VideoOptions } from '../../src/job.js';
import type { FrameRunner } from '../../src/video/process-video.js';
import { anonymizeVideoFile } from '../../src/video/video-jobs.js';
import { faceVideoOptions, makeClip, rotate90 } from '../../harness/clips.js';
import { facesDir } from '../../harness/fixtures.js';
import { boxWhere, decodedFrames, frameTimes, green, makeSquareClip, squareFrames, streamTypes, videoOffset, white, type Seen } from '../../harness/square-clip.js';

async function anonymize(input: string, output: string, segmentSeconds: number, tempDir: string, video: Partial<VideoOptions> = {}, score = 0.95, signal = new AbortController().signal, onProgress = (_done: number) => {}) {
  const seen: Seen = { detections: 0, detectedFrames: new Set() };
  const done = await anonymizeVideoFile({
    ffmpeg: 'ffmpeg',
    ffprobe: 'ffprobe',
    input,
    output,
    options: faceVideoOptions(video),
    frames: squareFrames(seen, score),
    limits: { maxSeconds: 600, maxPixels: 1e8 },
    timeoutSeconds: 60,
    signal,
    onProgress,
    segmentSeconds,
    tempDir,
  });
  return { ...done, detections: seen.detections, detectedFrames: seen.detectedFrames };
}

describe('VIDEO_SEGMENT_SECONDS: a long video runs as segments', () => {
  const cases = [
    { name: 'mp4', video: { container: 'mp4' as const } },
    { name: 'mkv', video: { container: 'mkv' as const } },
    // A keyframe every 3 frames: some pieces start on an odd frame, yet detection runs on the whole run's even ones.
    { name: 'detect_every=2', video: { container: 'mp4' as const, detectEvery: 2 }, keyframeEvery: 3 },
    { name: 'variable rate', video: { container: 'mp4' as const }, variableRate: true },
    // MPEG-TS: times in 1/90000 starting at 1.4 s, the video after the audio's start.
    { name: 'MPEG-TS', video: { container: 'mp4' as const }, mpegts: true },
  ];
  for (const c of cases) {
    test(`${c.name}: 1 s segments of a 4 s clip give the unsegmented output's frames, times, blur and audio`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-segments-test-'));
      const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-segments-temp-'));
      const ext = c.video.container;
      try {
        let clip = makeSquareClip(dir, c.keyframeEvery ?? 5, undefined, c.variableRate);
        if (c.mpegts) {
          execFileSync('ffmpeg', ['-hide_banner', '-v', 'error', '-i', clip, '-c', 'copy', '-f', 'mpegts', path.join(dir, 'square.ts')]);
          clip = path.join(dir, 'square.ts');
        }
        const whole = await anonymize(clip, path.join(dir, `whole.${ext}`), 0, tempDir, c.video);
        const parts = await anonymize(clip, path.join(dir, `parts.${ext}`), 1, tempDir, c.video);
        assert.equal(whole.frames, 40);
        assert.equal(parts.frames, 40);
        assert.ok('join' in parts.timings, 'the clip ran as segments');
        assert.ok(parts.detections > whole.detections, `the overlap was tracked twice (${parts.detections} detection passes)`);
        assert.deepEqual([...parts.detectedFrames].sort((x, y) => x - y), [...whole.detectedFrames].sort((x, y) => x - y), 'detection ran on the same frames');
        const times = frameTimes(path.join(dir, `whole.${ext}`));
        if (c.variableRate) assert.notEqual(Number(times[2]) - Number(times[1]), Number(times[3]) - Number(times[2]), 'the clip has irregular frame times');
        assert.deepEqual(frameTimes(path.join(dir, `parts.${ext}`)), times);
        assert.deepEqual(streamTypes(path.join(dir, `parts.${ext}`)), ['video', 'audio']);
        assert.equal(videoOffset(path.join(dir, `parts.${ext}`)), videoOffset(path.join(dir, `whole.${ext}`)));
        assert.equal(parts.summary.durationSeconds, whole.summary.durationSeconds);
        // Each frame is the one at its place, blurred as in the whole run: the square (white or painted green) sits where the unsegmented output has it.
        const a = decodedFrames(path.join(dir, `whole.${ext}`));
        const b = decodedFrames(path.join(dir, `parts.${ext}`));
        assert.equal(b.length, a.length);
        const any = (r: number, g: number, bl: number) => white(r, g, bl) || green(r, g, bl);
        for (let i = 0; i < a.length; i++) {
          if (i < 8 || i > 12) assert.ok(boxWhere(a[i], any), `frame ${i} shows the square`);
          assert.deepEqual(boxWhere(b[i], any)?.x, boxWhere(a[i], any)?.x, `frame ${i}`);
          assert.deepEqual(boxWhere(b[i], green), boxWhere(a[i], green), `frame ${i}: blurred as in the whole run`);
        }
        assert.deepEqual(fs.readdirSync(tempDir), [], 'no piece or segment is left behind');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(tempDir, { recursive: true, force: true });
      }
    });
  }

  test('a track found after a boundary is carried back across it as in the whole run (the overlap)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-segments-test-'));
    try {
      // The square appears at frame 11, after the 1 s boundary; a detection scored 0.5 needs a second
      // hit (frame 12) before its track is carried back over the frames held before it. Every frame is a
      // keyframe, so a piece starts where the overlap says, not at an earlier keyframe that would hide a missing overlap.
      const clip = makeSquareClip(dir, 1, 'gte(t,1.05)');
      const whole = await anonymize(clip, path.join(dir, 'whole.mp4'), 0, dir, {}, 0.5);
      const parts = await anonymize(clip, path.join(dir, 'parts.mp4'), 1, dir, {}, 0.5);
      assert.ok('join' in parts.timings, 'the clip ran as segments');
      const a = decodedFrames(path.join(dir, 'whole.mp4'));
      const b = decodedFrames(path.join(dir, 'parts.mp4'));
      assert.equal(b.length, 40);
      assert.ok(boxWhere(a[8], green), 'the whole run blurs frame 8, before the square appears (carried back)');
      for (let i = 0; i < 40; i++) {
        assert.equal(boxWhere(b[i], white), undefined, `frame ${i}: no unblurred square`);
        assert.deepEqual(boxWhere(b[i], green), boxWhere(a[i], green), `frame ${i}: blurred as in the whole run`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a track crossing a boundary through missed detections is blurred on both sides of it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-segments-test-'));
    try {
      const clip = makeSquareClip(dir, 1);
      const done = await anonymize(clip, path.join(dir, 'parts.mp4'), 1, dir);
      assert.ok('join' in done.timings, 'the clip ran as segments');
      const frames = decodedFrames(path.join(dir, 'parts.mp4'));
      assert.equal(frames.length, 40);
      // Frames 8 to 12 have no square to detect; the boundary is at frame 10.
      for (let i = 0; i < 40; i++) {
        assert.equal(boxWhere(frames[i], white), undefined, `frame ${i}: no unblurred square`);
        assert.ok(boxWhere(frames[i], green), `frame ${i}: the track's box is blurred`);
      }
      const tracked = new Set(done.tracks.flatMap((t) => t.boxes.map((b) => b.frame)));
      for (let i = 0; i < 40; i++) assert.ok(tracked.has(i), `frame ${i} is in a track`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('stopped in its second segment (erased, timeout): the reason, and no piece or segment is left', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-segments-test-'));
    const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-segments-temp-'));
    try {
      const clip = makeSquareClip(dir);
      const abort = new AbortController();
      const progress: number[] = [];
      const onProgress = (done: number) => {
        progress.push(done);
        if (done >= 15) abort.abort(errors.videoTimeout(60));
      };
      await assert.rejects(anonymize(clip, path.join(dir, 'parts.mp4'), 1, tempDir, {}, 0.95, abort.signal, onProgress), (err: unknown) => isPixveilError(err) && err.code === 'VIDEO_TIMEOUT');
      assert.ok(progress.includes(10) && progress.includes(15), `progress counts the whole video's frames: ${progress.join(',')}`);
      assert.deepEqual(fs.readdirSync(tempDir), []);
      assert.ok(!fs.existsSync(path.join(dir, 'parts.mp4')), 'no joined output');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(tempDir, { recursive: true, force: true });
    }
  });

  test('a phone clip (rotated 90°): its pieces keep the rotation, the joined output is upright with the same frame times', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-segments-test-'));
    try {
      const clip = makeClip({ photo: path.join(facesDir, 'uf_3.jpg'), width: 320, height: 240, crop: { width: 960, height: 720 }, panPerFrame: 2, fps: 10, frames: 35, audio: true, format: 'mp4', ext: 'mp4', extra: ['-g', '5'] }, dir);
      rotate90(clip);
      const passThrough: FrameRunner = { capacity: 2, runFrame: async (pixels) => ({ ok: true, pixels, detections: [], timings: {}, models: {} }) };
      const run = (segmentSeconds: number, output: string) => anonymizeVideoFile({ ffmpeg: 'ffmpeg', ffprobe: 'ffprobe', input: clip, output, options: faceVideoOptions(), frames: passThrough, limits: { maxSeconds: 600, maxPixels: 1e8 }, timeoutSeconds: 60, signal: new AbortController().signal, onProgress: () => {}, segmentSeconds, tempDir: dir });
      await run(0, path.join(dir, 'whole.mp4'));
      const parts = await run(1, path.join(dir, 'parts.mp4'));
      assert.ok('join' in parts.timings, 'the clip ran as segments');
      assert.equal(parts.frames, 35);
      const size = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', path.join(dir, 'parts.mp4')], { encoding: 'utf8' }).trim();
      assert.equal(size, '240,320');
      assert.deepEqual(frameTimes(path.join(dir, 'parts.mp4')), frameTimes(path.join(dir, 'whole.mp4')));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a piece cut from a keyframe far before its overlap: the frames before the overlap are decoded only, never detected', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-segments-test-'));
    try {
      // 8 s, one keyframe: every piece starts at the first frame, however late its window.
      const clip = makeSquareClip(dir, 1000, undefined, false, 8);
      const whole = await anonymize(clip, path.join(dir, 'whole.mp4'), 0, dir);
      const parts = await anonymize(clip, path.join(dir, 'parts.mp4'), 1, dir);
      assert.equal(whole.detections, 80);
      assert.equal(parts.frames, 80);
      // Each of the 7 boundaries adds the overlap (16 frames at detect_every 1) and a frame of margin on both sides;
      // detecting every frame back to the keyframe would make 472.
      assert.ok(parts.detections <= 80 + 7 * 2 * 17, `${parts.detections} detection passes`);
      assert.deepEqual(frameTimes(path.join(dir, 'parts.mp4')), frameTimes(path.join(dir, 'whole.mp4')));
      const a = decodedFrames(path.join(dir, 'whole.mp4'));
      const b = decodedFrames(path.join(dir, 'parts.mp4'));
      for (let i = 0; i < 80; i++) assert.deepEqual(boxWhere(b[i], green), boxWhere(a[i], green), `frame ${i}: blurred as in the whole run`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a video not longer than one segment runs whole', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-segments-test-'));
    try {
      const clip = makeSquareClip(dir);
      const done = await anonymize(clip, path.join(dir, 'out.mp4'), 10, dir);
      assert.equal(done.frames, 40);
      assert.ok(!('join' in done.timings));
      assert.equal(done.detections, 40);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
