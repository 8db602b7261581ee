// Every frame's presentation time, read from the container's packets without decoding (one
// ffprobe pass, a few dozen bytes a frame): what a segmented video is planned from.
import { errors } from '../../errors.js';
import { firstLine, runToEnd } from '../ffmpeg.js';
import { abortReason } from '../process-video.js';
import type { VideoInfo } from '../probe.js';

/**
 * The video stream's packet pts in ticks of its time base, sorted (presentation order), or
 * undefined when a packet has none (such a frame cannot be placed in a segment: the video then
 * runs whole).
 */
export async function listFramePts(ffprobe: string, file: string, info: VideoInfo, signal?: AbortSignal): Promise<number[] | undefined> {
  const out = await runToEnd(ffprobe, ['-v', 'error', '-select_streams', String(info.videoIndex), '-show_entries', 'packet=pts', '-of', 'csv=p=0', file], signal);
  if (signal?.aborted) throw abortReason(signal);
  if (out.code !== 0) throw errors.undecodableVideo(firstLine(out.stderr));
  const pts: number[] = [];
  for (const line of out.stdout.split('\n')) {
    const text = line.trim().replace(/,$/, '');
    if (!text) continue;
    const value = Number(text);
    if (!Number.isSafeInteger(value)) return undefined;
    pts.push(value);
  }
  return pts.sort((a, b) => a - b);
}
