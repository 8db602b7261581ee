// The API side of a video upload: before the job is queued, ffprobe reads the bytes (from a
// temporary file, since an MP4's index may sit at its end) so a file that is not a usable video,
// or is over a limit, is refused with its code at once instead of failing later in a worker.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { VideoExt } from '../video-format.js';
import { checkVideoLimits, type VideoLimits } from './limits.js';
import { probeVideo, type VideoInfo } from './probe.js';

/** Probing a file this large takes a few hundred ms; past this the upload is refused as unreadable rather than hold a request. */
const PROBE_TIMEOUT_MS = 30_000;

export async function checkVideoUpload(bytes: Buffer, ext: VideoExt, ffprobe: string, limits: VideoLimits, tempDir = os.tmpdir()): Promise<VideoInfo> {
  const dir = await fs.mkdtemp(path.join(tempDir, 'pixveil-upload-'));
  try {
    const file = path.join(dir, `upload.${ext}`);
    await fs.writeFile(file, bytes);
    const info = await probeVideo(ffprobe, file, AbortSignal.timeout(PROBE_TIMEOUT_MS));
    checkVideoLimits(info, limits);
    return info;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
