import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { VideoOptions } from '../../src/job.js';
import { faceVideoOptions } from '../../harness/clips.js';
import type { FrameTaskResult } from '../../src/pool/task.js';
import type { FrameRunner } from '../../src/video/process-video.js';
import { anonymizeVideoFile } from '../../src/video/video-jobs.js';

/** Frames come back as they went (no detections): the timestamps are what is under test here. */
const unchanged: FrameRunner = {
  capacity: 2,
  runFrame: async (pixels) => ({ ok: true, pixels, detections: [], timings: {}, models: {} }) satisfies FrameTaskResult,
};


/**
 * A test-pattern clip with a tone whose frame times follow `setpts` (seconds, from the frame
 * number N), written by ffmpeg with its own times kept (passthrough, in `timeBase`).
 */
function makeTimedClip(dir: string, name: string, setpts: string, frames: number, timeBase: string, format: string, extra: string[] = []): string {
  const out = path.join(dir, name);
  execFileSync('ffmpeg', [
    '-hide_banner', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=4',
    '-vf', `settb=${timeBase},setpts='round((${setpts})/TB)'`, '-frames:v', String(frames), '-fps_mode', 'passthrough', '-enc_time_base:v', timeBase,
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', ...extra, '-f', format, out,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

interface VideoTimes {
  /** Seconds of every frame, in presentation order, from the stream's start. */
  times: number[];
  /** The stream's start after the file's (what keeps the audio in sync). */
  offset: number;
  tick: number;
  avgFrameRate: string;
}

function videoTimes(file: string): VideoTimes {
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts:stream=time_base,start_time,avg_frame_rate:format=start_time', '-of', 'json', file], { encoding: 'utf8' }));
  const [num, den] = probe.streams[0].time_base.split('/').map(Number);
  const tick = num / den;
  const pts = (probe.packets as Array<{ pts: number }>).map((p) => p.pts).sort((a, b) => a - b);
  return { times: pts.map((p) => (p - pts[0]) * tick), offset: Number(probe.streams[0].start_time) - Number(probe.format.start_time), tick, avgFrameRate: probe.streams[0].avg_frame_rate };
}

async function anonymize(input: string, container: VideoOptions['container']): Promise<{ output: string; summary: { frames: number; fps: number; durationSeconds: number } }> {
  const output = `${input}.out.${container}`;
  const done = await anonymizeVideoFile({
    ffmpeg: 'ffmpeg', ffprobe: 'ffprobe', input, output, options: faceVideoOptions({ container }), frames: unchanged,
    limits: { maxSeconds: 600, maxPixels: 1e8 }, timeoutSeconds: 120, signal: new AbortController().signal, onProgress: () => {},
  });
  return { output, summary: done.summary };
}

/** Every output frame at its input frame's time, within one tick of the coarser time base. */
function assertSameTimes(input: VideoTimes, output: VideoTimes): void {
  assert.equal(output.times.length, input.times.length, 'frame count');
  const tolerance = Math.max(input.tick, output.tick) * 1.001;
  input.times.forEach((t, i) => assert.ok(Math.abs(output.times[i] - t) <= tolerance, `frame ${i}: ${output.times[i].toFixed(6)} s out, ${t.toFixed(6)} s in`));
  // An MP4 places a late video start with an edit list in its movie timescale: milliseconds.
  assert.ok(Math.abs(output.offset - input.offset) <= Math.max(tolerance, 0.001), `video offset ${output.offset} out, ${input.offset} in`);
}

describe('video output keeps every frame\'s time', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-vfr-'));

  test('variable rate (irregular gaps, B-frames, MP4 in ms): each frame at its own time, not the average rate', async () => {
    // Gaps of 40, 100 and 70 ms in turn: an average rate of one frame per 70 ms puts most frames elsewhere.
    const clip = makeTimedClip(dir, 'gaps.mp4', 'floor(N/3)*0.21+eq(mod(N,3),1)*0.04+eq(mod(N,3),2)*0.14', 30, '1/1000', 'mp4', ['-video_track_timescale', '1000']);
    const input = videoTimes(clip);
    assert.equal(input.times[2], 0.14, 'the clip is variable-rate as made');
    const { output, summary } = await anonymize(clip, 'mp4');
    assertSameTimes(input, videoTimes(output));
    assert.equal(summary.frames, 30);
    // The span of the frames' times plus the last frame at the average duration.
    const last = input.times[29];
    assert.ok(Math.abs(summary.durationSeconds - (last + last / 29)) < 0.01, `duration ${summary.durationSeconds}`);
    assert.ok(Math.abs(summary.fps - 30 / summary.durationSeconds) < 0.01, `fps ${summary.fps}`);
  });

  test('two rates in one clip (MPEG-TS at 1/90000, 30 then 10 fps) into Matroska', async () => {
    const clip = makeTimedClip(dir, 'two-rates.ts', 'if(lt(N,15),N/30,0.5+(N-15)/10)', 30, '1/90000', 'mpegts');
    const input = videoTimes(clip);
    assert.ok(Math.abs(input.times[16] - input.times[15] - 0.1) < 1e-4 && Math.abs(input.times[1] - 1 / 30) < 1e-4, 'two rates as made');
    const { output } = await anonymize(clip, 'mkv');
    assertSameTimes(input, videoTimes(output));
  });

  test('constant rate (29.97 in MPEG-TS → MP4): the same times to the 1/90000 tick, the same rate and frame count', async () => {
    const clip = makeTimedClip(dir, 'ntsc.ts', 'N*1001/30000', 45, '1/90000', 'mpegts');
    const input = videoTimes(clip);
    const { output, summary } = await anonymize(clip, 'mp4');
    const out = videoTimes(output);
    assert.equal(out.tick, 1 / 90000);
    assertSameTimes(input, out);
    assert.equal(out.avgFrameRate, '30000/1001');
    assert.equal(summary.fps, 29.97);
    assert.ok(Math.abs(summary.durationSeconds - (45 * 1001) / 30000) <= 0.001, `duration ${summary.durationSeconds}`);
  });
});
