// A clip through a real video codec: its frames are encoded by ffmpeg (libx264, yuv420p, the
// service's default output) and decoded back, so the detectors see block artefacts, chroma
// subsampling and the soft frames between keyframes. Used only with --video-codec=h264.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

const ffmpegBin = process.env.FFMPEG_PATH ?? 'ffmpeg';

function ffmpeg(args: string[], input?: Buffer[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegBin, ['-hide_banner', '-loglevel', 'error', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (e) => reject(new Error(`${ffmpegBin} could not start (${e.message}); install ffmpeg or run without --video-codec`)));
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${ffmpegBin} exited ${code}: ${err.trim()}`))));
    child.stdin.on('error', () => {}); // ffmpeg failing early closes its stdin; the exit code says why.
    (async () => {
      for (const chunk of input ?? []) if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once('drain', r));
      child.stdin.end();
    })();
  });
}

/** JPEG frames → H.264 MP4 (CRF 23, 30 fps) → decoded frames, re-encoded as JPEG at quality 95 for the image pipeline. */
export async function h264RoundTrip(frames: Buffer[], width: number, height: number): Promise<Buffer[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-eval-video-'));
  try {
    const file = path.join(dir, 'clip.mp4');
    const raw = await Promise.all(frames.map((f) => sharp(f).removeAlpha().raw().toBuffer()));
    const size = `${width}x${height}`;
    await ffmpeg(['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', size, '-r', '30', '-i', 'pipe:0', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-threads', '1', file], raw);
    const decoded = await ffmpeg(['-threads', '1', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    const frameBytes = width * height * 3;
    if (decoded.length !== frameBytes * frames.length) throw new Error(`h264 round trip gave ${decoded.length / frameBytes} frames for ${frames.length}`);
    const out: Buffer[] = [];
    for (let i = 0; i < frames.length; i++) out.push(await sharp(decoded.subarray(i * frameBytes, (i + 1) * frameBytes), { raw: { width, height, channels: 3 } }).jpeg({ quality: 95 }).toBuffer());
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
