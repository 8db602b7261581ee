// The segments' encoded outputs joined into one video without re-encoding: each starts with an
// IDR frame and was encoded with the same settings, so ffmpeg's concat demuxer copies them one
// after the other; the original's audio and tags are added as for an unsegmented video.
import fs from 'node:fs/promises';
import { errors } from '../../errors.js';
import { joinArgs, type EncodeChoice } from '../ffmpeg-args.js';
import { firstLine, runToEnd } from '../ffmpeg.js';
import type { VideoInfo } from '../probe.js';
import type { SegmentPlan } from './plan.js';

/**
 * The ffconcat list. Each encoded segment starts at time 0; `duration` places the next one at its
 * first frame's time from the video's first frame. Durations are differences of times rounded to
 * the microsecond (the demuxer's unit), so their sums never drift from the frames' ticks.
 */
export function concatList(files: readonly string[], plans: readonly SegmentPlan[], info: VideoInfo): string {
  const { num, den } = info.timeBase;
  const microseconds = (ticks: number) => Math.round(((ticks - plans[0].firstPts) * num * 1e6) / den);
  const quote = (file: string) => `'${file.replace(/'/g, "'\\''")}'`;
  const lines = ['ffconcat version 1.0'];
  files.forEach((file, i) => {
    lines.push(`file ${quote(file)}`);
    const next = plans[i + 1];
    if (next) lines.push(`duration ${((microseconds(next.firstPts) - microseconds(plans[i].firstPts)) / 1e6).toFixed(6)}`);
  });
  return `${lines.join('\n')}\n`;
}

export async function joinSegments(ffmpeg: string, files: readonly string[], plans: readonly SegmentPlan[], listFile: string, input: string, output: string, info: VideoInfo, choice: EncodeChoice, signal: AbortSignal): Promise<void> {
  await fs.writeFile(listFile, concatList(files, plans, info));
  const out = await runToEnd(ffmpeg, joinArgs(listFile, input, output, info, choice), signal);
  if (signal.aborted) return;
  if (out.code !== 0) throw errors.internal(`ffmpeg could not join the video's segments: ${firstLine(out.stderr)}`);
}
