// A video longer than VIDEO_SEGMENT_SECONDS run as segments: planned from its packets' times,
// each segment's piece cut without decoding, run through processVideo with its window (a fresh
// tracker that also sees the overlap on both sides, so a track crossing a boundary is blurred on
// both), and the encoded segments joined without re-encoding, with the original's audio. The
// segments run here one after another, or as queued jobs of their own (segment-jobs.ts).
import fs from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { errors } from '../../errors.js';
import { addTimings } from '../../pipeline/stage-timer.js';
import { abortReason, processVideo, type VideoProcessed, type VideoRun } from '../process-video.js';
import type { TrackRecord } from '../tracker.js';
import { listFramePts } from './frame-list.js';
import { joinSegments } from './join.js';
import { cutPiece } from './piece.js';
import { planSegments, type SegmentPlan } from './plan.js';
import { runSegmentJobs } from './segment-jobs.js';
import { segmentSettings, type SegmentedRun, type SegmentOutputs, type SegmentWindow } from './segment-run.js';

export type SegmentedProcessed = VideoProcessed & { segments?: SegmentOutputs['records'] };

/**
 * One segment: its piece (`run.input`) through processVideo with its window. `run.info` and
 * `run.options` are segmentSettings'. Its tracks come back in the whole video's frame numbers.
 */
export async function runSegment(run: Omit<VideoRun, 'window'>, segment: SegmentWindow, videoPts: readonly number[]): Promise<VideoProcessed> {
  const done = await processVideo({ ...run, window: { fromTicks: segment.fromTicks, toTicks: segment.toTicks, trackFromTicks: segment.trackFromTicks, videoPts } });
  if (done.frames !== segment.frames) throw errors.internal(`segment ${segment.index} wrote ${done.frames} of its ${segment.frames} frames`);
  return { ...done, tracks: tracksInVideo(done, segment) };
}

/** The segmented run's result as processVideo's, or undefined when the video makes one segment (run it whole). */
export async function processSegmented(run: SegmentedRun): Promise<SegmentedProcessed | undefined> {
  const { info, options } = run;
  const started = performance.now();
  const pts = await listFramePts(run.ffprobe, run.input, info, run.signal);
  if (!pts || pts.length === 0) return undefined;
  const plans = planSegments(pts, info, run.segmentSeconds, run.overlapFrames / info.fps);
  if (plans.length < 2) return undefined;
  const timings: Record<string, number> = { plan: performance.now() - started };
  const outputs = run.jobs ? await runSegmentJobs(run, run.jobs, plans, pts) : await runHere(run, plans, pts);
  addTimings(timings, outputs.timings);
  const joinStart = performance.now();
  await joinSegments(run.ffmpeg, outputs.files, plans, path.join(run.workDir, 'segments.ffconcat'), run.input, run.output, info, { video: options.video, metadata: options.metadata ?? 'strip' }, run.signal);
  timings.join = performance.now() - joinStart;
  if (run.signal.aborted) throw abortReason(run.signal);
  for (const stage of Object.keys(timings)) timings[stage] = Math.round(timings[stage] * 100) / 100;
  const { num, den } = info.timeBase;
  // A track crossing a boundary is listed once per segment; ids count through the whole video.
  const tracks = outputs.tracks.map((t, i) => ({ ...t, id: i + 1 }));
  const frames = plans.reduce((n, p) => n + p.frames, 0);
  return { frames, durationSeconds: ((pts.at(-1)! - pts[0]) * num) / den + 1 / info.fps, tracks, firstWritten: 0, timings, models: outputs.models, ...(outputs.records ? { segments: outputs.records } : {}) };
}

/** Every segment on this worker, one after another (`pixveil process`, and workers without a queue link). */
async function runHere(run: SegmentedRun, plans: SegmentPlan[], pts: readonly number[]): Promise<SegmentOutputs> {
  const settings = segmentSettings(run.info, run.options);
  const timings: Record<string, number> = { cut: 0 };
  const models: Record<string, string> = {};
  const tracks: TrackRecord[] = [];
  const files: string[] = [];
  let framesDone = 0;
  for (const plan of plans) {
    const piece = path.join(run.workDir, `piece-${plan.index}.mp4`);
    const encoded = path.join(run.workDir, `segment-${plan.index}.mp4`);
    const cutStart = performance.now();
    await cutPiece(run.ffmpeg, run.input, piece, run.info, plan, run.signal);
    timings.cut += performance.now() - cutStart;
    const done = await runSegment({
      ...run,
      ...settings,
      input: piece,
      output: encoded,
      tracker: run.tracker(),
      onProgress: (n) => run.onProgress?.(framesDone + n),
    }, plan, pts);
    await fs.rm(piece, { force: true });
    tracks.push(...done.tracks);
    addTimings(timings, done.timings);
    Object.assign(models, done.models);
    files.push(encoded);
    framesDone += plan.frames;
  }
  return { files, tracks, timings, models };
}

/**
 * A segment's tracks in the whole video's frame numbers, cut to the frames it wrote (its tracker
 * also saw the overlap, which the neighbouring segment writes). A track crossing a boundary is
 * listed once per segment it appears in.
 */
function tracksInVideo(done: VideoProcessed, plan: SegmentWindow): TrackRecord[] {
  const out: TrackRecord[] = [];
  for (const track of done.tracks) {
    const boxes = track.boxes
      .map((b) => ({ ...b, frame: plan.firstFrame + b.frame - done.firstWritten }))
      .filter((b) => b.frame >= plan.firstFrame && b.frame < plan.firstFrame + plan.frames);
    if (boxes.length === 0) continue;
    out.push({ ...track, id: out.length + 1, first_frame: boxes[0].frame, last_frame: boxes.at(-1)!.frame, boxes });
  }
  return out;
}
