import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { isPixveilError } from '../../src/errors.js';
import type { Job, JobOptions } from '../../src/job.js';
import { ImagePool } from '../../src/pool/image-pool.js';
import type { FrameTaskResult } from '../../src/pool/task.js';
import { sweepDeadWorkersTemp, VideoJobs } from '../../src/video/video-jobs.js';
import { spawnSync } from 'node:child_process';
import type { FrameRunner } from '../../src/video/process-video.js';
import { faceVideoOptions, makeClip } from '../../harness/clips.js';
import { facesDir } from '../../harness/fixtures.js';
import { testPoolOptions } from '../../harness/pool.js';

const options: JobOptions = faceVideoOptions();

/** ffmpeg (or ffprobe) processes whose parent is this test process. */
function ffmpegChildren(): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [, comm, rest] = /^\d+ \((.*)\) (.*)$/.exec(stat)!;
      const [state, ppid] = rest.split(' ');
      if (Number(ppid) === process.pid && /ffmpeg|ffprobe/.test(comm)) found.push(`${pid} ${comm} ${state}`);
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Frames come back unchanged after `delayMs`, with no detections: a pool that is slow on purpose. */
function slowFrames(delayMs: number): FrameRunner {
  return {
    capacity: 2,
    runFrame: async (pixels) => {
      await new Promise((r) => setTimeout(r, delayMs));
      return { ok: true, pixels, detections: [], timings: {}, models: {} } satisfies FrameTaskResult;
    },
  };
}

function videoJob(bytes: number): Job {
  return { id: 'AAAAAAAAAAAAAAAAAAAAAA', kind: 'video', status: 'processing', createdAt: 0, updatedAt: 0, attempts: 1, options, input: { key: 'original/x.mp4', filename: 'x.mp4', bytes, format: 'mp4' } };
}

const clipSpec = { photo: path.join(facesDir, 'uf_3.jpg'), width: 320, height: 240, crop: { width: 960, height: 720 }, panPerFrame: 2, fps: 10, frames: 40, audio: true, format: 'mp4', ext: 'mp4' };

describe('a video job stops cleanly', () => {
  test('past VIDEO_TIMEOUT_SECONDS: VIDEO_TIMEOUT, and no ffmpeg is left running or unreaped', async () => {
    const clip = fs.readFileSync(makeClip(clipSpec));
    const jobs = new VideoJobs({ ffmpeg: 'ffmpeg', ffprobe: 'ffprobe', timeoutSeconds: 1, maxSeconds: 600, maxPixels: 1e8, frames: slowFrames(100) });
    const started = Date.now();
    await assert.rejects(jobs.run(videoJob(clip.length), async (file) => fs.writeFileSync(file, clip), { onProgress: () => {}, signal: new AbortController().signal }), (err: unknown) => isPixveilError(err) && err.code === 'VIDEO_TIMEOUT');
    assert.ok(Date.now() - started < 5000, 'stopped soon after the timeout');
    assert.deepEqual(ffmpegChildren(), []);
  });

  test('aborted (erased, shutdown): it stops, no ffmpeg is left and the temporary files are gone', async () => {
    const clip = fs.readFileSync(makeClip(clipSpec));
    const tempDir = fs.mkdtempSync(path.join('/tmp', 'pixveil-video-test-'));
    const jobs = new VideoJobs({ ffmpeg: 'ffmpeg', ffprobe: 'ffprobe', timeoutSeconds: 60, maxSeconds: 600, maxPixels: 1e8, frames: slowFrames(50), tempDir });
    const abort = new AbortController();
    const progress: number[] = [];
    const run = jobs.run(videoJob(clip.length), async (file) => fs.writeFileSync(file, clip), {
      onProgress: (done) => {
        progress.push(done);
        if (done >= 5) abort.abort(new Error('erased'));
      },
      signal: abort.signal,
    });
    await assert.rejects(run);
    assert.ok(progress.includes(5), `progress seen: ${progress.join(',')}`);
    assert.deepEqual(ffmpegChildren(), []);
    assert.deepEqual(fs.readdirSync(tempDir), []);
  });

  test('an encoder that dies mid-video fails the attempt with its message (retryable), no hang, nothing left running', async () => {
    const clip = fs.readFileSync(makeClip(clipSpec));
    const dir = fs.mkdtempSync(path.join('/tmp', 'pixveil-fake-ffmpeg-'));
    const fake = path.join(dir, 'ffmpeg');
    // Decoding runs the real ffmpeg; the encoder (reading frames on pipe:0) gives up after 100 kB.
    fs.writeFileSync(fake, '#!/bin/sh\ncase "$*" in *pipe:0*) head -c 100000 >/dev/null; echo "encoder exploded" >&2; exit 1;; esac\nexec ffmpeg "$@"\n', { mode: 0o755 });
    const jobs = new VideoJobs({ ffmpeg: fake, ffprobe: 'ffprobe', timeoutSeconds: 60, maxSeconds: 600, maxPixels: 1e8, frames: slowFrames(0) });
    await assert.rejects(jobs.run(videoJob(clip.length), async (file) => fs.writeFileSync(file, clip), { onProgress: () => {}, signal: new AbortController().signal }), (err: unknown) => isPixveilError(err) && err.retryable && /encoder exploded/.test(err.message));
    assert.deepEqual(ffmpegChildren(), []);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('with no detections: every frame written, the audio stream kept, no tracks; the output stays on disk until removeFiles', async () => {
    const clip = fs.readFileSync(makeClip({ ...clipSpec, frames: 12 }));
    const tempDir = fs.mkdtempSync(path.join('/tmp', 'pixveil-video-test-'));
    const jobs = new VideoJobs({ ffmpeg: 'ffmpeg', ffprobe: 'ffprobe', timeoutSeconds: 60, maxSeconds: 600, maxPixels: 1e8, frames: slowFrames(0), tempDir });
    const out = await jobs.run(videoJob(clip.length), async (file) => fs.writeFileSync(file, clip), { onProgress: () => {}, signal: new AbortController().signal });
    assert.equal(out.summary.frames, 12);
    assert.equal(out.summary.audioStreams, 1);
    assert.deepEqual(out.tracks, []);
    assert.ok(fs.statSync(out.file).size > 1000);
    assert.equal(path.dirname(path.dirname(out.file)), tempDir);
    // Only the output is left: the input went as soon as ffmpeg was done with it.
    assert.deepEqual(fs.readdirSync(path.dirname(out.file)), [path.basename(out.file)]);
    await out.removeFiles();
    assert.deepEqual(fs.readdirSync(tempDir), []);
    fs.rmSync(tempDir, { recursive: true, force: true });
  });
});

test('a worker killed mid-video (or a node mid-upload) leaves its temporary folder; the next node removes it, never a live one\'s', async () => {
  const tmp = fs.mkdtempSync(path.join('/tmp', 'pixveil-sweep-test-'));
  const dead = spawnSync('true').pid!;
  fs.mkdirSync(path.join(tmp, `pixveil-video-${dead}-abc`));
  fs.writeFileSync(path.join(tmp, `pixveil-video-${dead}-abc`, 'input.mp4'), 'x');
  fs.mkdirSync(path.join(tmp, `pixveil-video-${process.pid}-def`));
  // An API node killed while it received an upload, and one still receiving.
  fs.mkdirSync(path.join(tmp, `pixveil-upload-${dead}-ghi`));
  fs.writeFileSync(path.join(tmp, `pixveil-upload-${dead}-ghi`, 'body'), 'x');
  fs.mkdirSync(path.join(tmp, `pixveil-upload-${process.pid}-jkl`));
  fs.mkdirSync(path.join(tmp, 'something-else'));
  assert.equal(await sweepDeadWorkersTemp(tmp), 2);
  assert.deepEqual(fs.readdirSync(tmp).sort(), [`pixveil-upload-${process.pid}-jkl`, `pixveil-video-${process.pid}-def`, 'something-else']);
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('frame tasks in the real pool', () => {
  let pool: ImagePool;
  before(async () => {
    pool = new ImagePool(testPoolOptions({ threads: 1, concurrencyPerThread: 1, models: { faces: 'yunet-n', objects: '', plates: '' } }));
    await pool.warmUp();
  });
  after(async () => pool.close());

  test('a frame is transferred to the thread and back (never copied), faces found, then blurred in place', async () => {
    const { data, info } = await sharp(path.join(facesDir, 'uf_3.jpg')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const pixels = new ArrayBuffer(data.length);
    new Uint8Array(pixels).set(data);
    const detected = await pool.runFrame(pixels, info.width, info.height, options);
    assert.equal(pixels.byteLength, 0, 'the sender\'s buffer was detached');
    assert.ok(detected.ok);
    const faces = (detected as FrameTaskResult).detections.filter((d) => d.kind === 'face');
    assert.ok(faces.length >= 5, `${faces.length} faces`);
    const back = (detected as FrameTaskResult).pixels;
    assert.equal(back.byteLength, data.length);
    assert.ok(Buffer.from(back).equals(data), 'detection leaves the pixels as they were');
    const blurred = await pool.runFrame(back, info.width, info.height, options, faces.map((f) => ({ kind: f.kind, label: f.label, x: f.x, y: f.y, width: f.width, height: f.height })));
    assert.ok(blurred.ok);
    const out = Buffer.from((blurred as FrameTaskResult).pixels);
    const f = faces[0];
    const at = (Math.round(f.y + f.height / 2) * info.width + Math.round(f.x + f.width / 2)) * 3;
    let changed = 0;
    for (let i = 0; i < out.length; i += 3) if (out[i] !== data[i]) changed++;
    assert.ok(changed > 0 && changed < out.length / 6, `${changed} pixels changed: the faces, not the whole frame`);
    assert.ok(out.subarray(at - 300, at + 300).compare(data.subarray(at - 300, at + 300)) !== 0, 'the middle of a face changed');
    const wrong = await pool.runFrame(new ArrayBuffer(10), info.width, info.height, options);
    assert.equal(wrong.ok, false);
  });
});
