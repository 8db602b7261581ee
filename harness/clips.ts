// Video clips made at test time by ffmpeg from the fixture photos (never committed): a photo
// panned across a few seconds, with a sine tone as audio, in the container a test asks for.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_THRESHOLDS, type JobOptions, type VideoOptions } from '../src/job.js';

export interface ClipSpec {
  photo: string;
  /** Output size of the clip; the photo is cropped to `crop` then scaled to it. */
  width: number;
  height: number;
  crop: { width: number; height: number };
  /** Pixels (in photo coordinates) the crop window moves right per frame. */
  panPerFrame: number;
  fps: number;
  frames: number;
  audio: boolean;
  /** ffmpeg muxer and extension: mp4, matroska/mkv, mpegts/ts, ipod/m4a... */
  format: string;
  ext: string;
  /** Extra output arguments (metadata, rotation). */
  extra?: string[];
  /** A subtitle track of GPS positions, as dash-cams write them (MP4: mov_text). */
  gpsSubtitles?: boolean;
}

export function ffmpegAvailable(): boolean {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function makeClip(spec: ClipSpec, dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-clip-'))): string {
  const out = path.join(dir, `clip-${spec.width}x${spec.height}-${spec.frames}.${spec.ext}`);
  const seconds = spec.frames / spec.fps;
  const video = `crop=${spec.crop.width}:${spec.crop.height}:'n*${spec.panPerFrame}':0,scale=${spec.width}:${spec.height},setsar=1`;
  const args = ['-hide_banner', '-v', 'error', '-y', '-loop', '1', '-framerate', String(spec.fps), '-i', spec.photo];
  if (spec.audio) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`);
  if (spec.gpsSubtitles) {
    const srt = path.join(dir, 'gps.srt');
    fs.writeFileSync(srt, '1\n00:00:00,000 --> 00:00:01,000\nN52.5200 E13.4050 42km/h\n\n');
    args.push('-i', srt, '-map', '0:v', ...(spec.audio ? ['-map', '1:a'] : []), '-map', `${spec.audio ? 2 : 1}:s`, '-c:s', 'mov_text');
  }
  args.push('-vf', video, '-frames:v', String(spec.frames), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p');
  if (spec.audio) args.push('-c:a', 'aac', '-b:a', '96k');
  args.push(...(spec.extra ?? []), '-f', spec.format, out);
  execFileSync('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

/** An audio-only file (AAC in MP4: `ftyp M4A`), for the NO_VIDEO_STREAM answer. */
export function makeAudioOnly(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-clip-'))): string {
  const out = path.join(dir, 'tone.m4a');
  execFileSync('ffmpeg', ['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'aac', '-f', 'mp4', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

export interface ProbedStreams {
  streams: Array<{ codec_type: string; codec_name: string; width?: number; height?: number; nb_read_frames?: string; avg_frame_rate?: string; tags?: Record<string, string> }>;
  format: { duration: string; format_name: string; tags?: Record<string, string> };
}

/** ffprobe of a file on disk (or bytes, written to a temporary file), frames counted by decoding. */
export function probe(fileOrBytes: string | Buffer): ProbedStreams {
  const file = typeof fileOrBytes === 'string' ? fileOrBytes : writeTemp(fileOrBytes, 'probe.bin');
  const json = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-show_format', '-of', 'json', file], { encoding: 'utf8' });
  return JSON.parse(json) as ProbedStreams;
}

/** Frame `index` of a video as PNG bytes. */
export function frameAt(fileOrBytes: string | Buffer, index: number): Buffer {
  const file = typeof fileOrBytes === 'string' ? fileOrBytes : writeTemp(fileOrBytes, 'frame.bin');
  return execFileSync('ffmpeg', ['-hide_banner', '-v', 'error', '-i', file, '-vf', `select=eq(n\\,${index})`, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 });
}

function writeTemp(bytes: Buffer, name: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-probe-')), name);
  fs.writeFileSync(file, bytes);
  return file;
}

/**
 * Marks an MP4/MOV's first track (the video) as displayed rotated by 90°, as a phone does: its
 * tkhd matrix is rewritten in place (this ffmpeg cannot set a rotation while encoding).
 */
export function rotate90(file: string): void {
  const bytes = fs.readFileSync(file);
  const at = bytes.indexOf(Buffer.from('tkhd'));
  if (at < 0 || bytes[at + 4] !== 0) throw new Error(`${file}: no version-0 tkhd box`);
  // After type(4) version+flags(4) created(4) modified(4) track(4) reserved(4) duration(4) reserved(8) layer, group, volume, reserved (8).
  const matrix = at + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 8 + 8;
  const values = [0, 0x00010000, 0, 0xffff0000, 0, 0, 0, 0, 0x40000000];
  values.forEach((v, i) => bytes.writeUInt32BE(v, matrix + i * 4));
  fs.writeFileSync(file, bytes);
}

/** A video job's options for the tests: faces only, gaussian box blur, every frame detected, audio kept. */
export function faceVideoOptions(video: Partial<VideoOptions> = {}): JobOptions & { video: VideoOptions } {
  return {
    blur: 'gaussian',
    shape: 'box',
    detect: { faces: true, plates: false, objects: false },
    thresholds: { ...DEFAULT_THRESHOLDS },
    blurClasses: [],
    format: 'same',
    video: { detectEvery: 1, audio: 'keep', container: 'mp4', ...video },
  };
}
