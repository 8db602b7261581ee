// A segment's piece of the input: its video stream copied (no decoding) from the keyframe at or
// before the plan's cut point, with the original's times kept (-copyts) so the segment's run
// picks its frames by pts. MP4 keeps the time base and the rotation the decoder applies.
import { errors } from '../../errors.js';
import { firstLine, runToEnd } from '../ffmpeg.js';
import type { VideoInfo } from '../probe.js';
import type { SegmentPlan } from './plan.js';

export function cutArgs(input: string, piece: string, info: VideoInfo, plan: SegmentPlan): string[] {
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-ss', plan.cutFromSeconds.toFixed(6)];
  // -t before -i: seconds read from the seek point on, whatever the file's start time.
  if (plan.cutSeconds !== null) args.push('-t', plan.cutSeconds.toFixed(6));
  args.push('-copyts', '-i', input, '-map', `0:${info.videoIndex}`, '-c', 'copy', '-map_metadata', '-1', '-f', 'mp4', '-y', piece);
  return args;
}

export async function cutPiece(ffmpeg: string, input: string, piece: string, info: VideoInfo, plan: SegmentPlan, signal: AbortSignal): Promise<void> {
  const out = await runToEnd(ffmpeg, cutArgs(input, piece, info, plan), signal);
  if (signal.aborted) return;
  if (out.code !== 0) throw errors.undecodableVideo(`segment ${plan.index} could not be cut: ${firstLine(out.stderr)}`);
}
