// The test clip of the segment tests: a white square moving over black, which a test double of
// the pool "detects" by its pixels and blurs by painting its boxes green, so what the tracker did
// is visible in the output; and readers of an output's frames, times and streams.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { FrameTaskResult } from '../src/pool/task.js';
import type { FrameRunner } from '../src/video/process-video.js';

export const WIDTH = 160;
export const HEIGHT = 120;

/**
 * 4 s at 10 fps, a keyframe every `keyframeEvery` frames, with a tone: a white square moving 2 px a frame, missing
 * (as a detector misses a face) from 0.75 s to 1.25 s, i.e. frames 8 to 12, across the 1 s boundary.
 */
export function makeSquareClip(dir: string, keyframeEvery = 5, shown = 'not(between(t,0.75,1.25))', variableRate = false, seconds = 4): string {
  // Variable rate: frames 0.1 s apart plus 0 to 60 ms, as a phone's irregular times.
  const times = variableRate ? ",settb=1/1000,setpts='(N*0.1+0.03*mod(N\\,3))/TB'" : '';
  const out = path.join(dir, 'square.mp4');
  execFileSync('ffmpeg', [
    '-hide_banner', '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `color=black:s=${WIDTH}x${HEIGHT}:r=10`,
    '-f', 'lavfi', '-i', 'color=white:s=40x40:r=10',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    // overlay, not drawbox: this ffmpeg evaluates drawbox's position once, overlay's per frame.
    '-filter_complex', `[0:v][1:v]overlay=x='20+t*20':y=40:enable='${shown}':shortest=1${times}[v]`,
    '-map', '[v]', '-map', '2:a', '-t', String(seconds), '-fps_mode', 'passthrough', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(keyframeEvery), '-pix_fmt', 'yuv420p', '-c:a', 'aac',
    '-f', 'mp4', out,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

/** The bounding box of pixels matching `hit`, or undefined when none does. */
export function boxWhere(rgb: Uint8Array, hit: (r: number, g: number, b: number) => boolean): { x: number; y: number; width: number; height: number } | undefined {
  let x0 = WIDTH, y0 = HEIGHT, x1 = -1, y1 = -1;
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = (y * WIDTH + x) * 3;
      if (!hit(rgb[i], rgb[i + 1], rgb[i + 2])) continue;
      x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
    }
  }
  return x1 < 0 ? undefined : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

export const white = (r: number, g: number, b: number) => r > 200 && g > 200 && b > 200;
export const green = (r: number, g: number, b: number) => g > 180 && r < 90 && b < 90;

/** Detection passes, and the frames they ran on where the square shows which (x = 20 + 2 × frame). */
export interface Seen {
  detections: number;
  detectedFrames: Set<number>;
}

/** Detects the white square (with `score`); blurs by painting each box green. Counts the frames it saw. */
export function squareFrames(seen: Seen, score: number): FrameRunner {
  return {
    capacity: 2,
    runFrame: async (pixels, width, height, _options, blur) => {
      const rgb = new Uint8Array(pixels);
      if (blur) {
        for (const b of blur) {
          for (let y = Math.max(0, Math.floor(b.y)); y < Math.min(height, Math.ceil(b.y + b.height)); y++) {
            for (let x = Math.max(0, Math.floor(b.x)); x < Math.min(width, Math.ceil(b.x + b.width)); x++) rgb.set([0, 255, 0], (y * width + x) * 3);
          }
        }
        return { ok: true, pixels, detections: [], timings: {}, models: {} } satisfies FrameTaskResult;
      }
      seen.detections++;
      const box = boxWhere(rgb, white);
      if (box && box.x > 20) seen.detectedFrames.add((box.x - 20) / 2);
      const detections = box ? [{ kind: 'face' as const, label: 'face', score, ...box }] : [];
      return { ok: true, pixels, detections, timings: {}, models: {} } as unknown as FrameTaskResult;
    },
  };
}

/** Every video frame's pts (as ffprobe prints its time), in presentation order. */
export function frameTimes(file: string): string[] {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim().replace(/,$/, '')).filter(Boolean);
}

export function decodedFrames(file: string): Uint8Array[] {
  const raw = execFileSync('ffmpeg', ['-hide_banner', '-v', 'error', '-i', file, '-map', '0:v:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 256 * 1024 * 1024 });
  const size = WIDTH * HEIGHT * 3;
  return Array.from({ length: raw.length / size }, (_, i) => new Uint8Array(raw.buffer, raw.byteOffset + i * size, size));
}

/** Seconds from the file's start to its video's (the audio keeps its place against the video). */
export function videoOffset(file: string): string {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=start_time:format=start_time', '-of', 'json', file], { encoding: 'utf8' });
  const probed = JSON.parse(out) as { streams: Array<{ start_time: string }>; format: { start_time: string } };
  return (Number(probed.streams[0].start_time) - Number(probed.format.start_time)).toFixed(3);
}

export function streamTypes(file: string): string[] {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim()).filter(Boolean);
}
