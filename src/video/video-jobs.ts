// The worker side of a video job: the original goes to a temporary file (ffmpeg seeks in it:
// an MP4's index may sit at its end), is probed and checked again, runs through processVideo,
// and the output file comes back as the job's result: the runner stores it from disk and then
// removes the directory (removeFiles); on any failure here it is removed at once.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { errors } from '../errors.js';
import type { Job, JobOptions, VideoOptions, VideoSummary } from '../job.js';
import type { VideoJobHooks, VideoJobRunner, VideoOutcome } from '../pool/job-runner.js';
import type { ObjectStore } from '../storage/storage.js';
import { isVideoExt } from '../video-format.js';
import { checkVideoLimits, type VideoLimits } from './limits.js';
import { processVideo, type FrameRunner, type VideoRun } from './process-video.js';
import { probeVideo, type VideoInfo } from './probe.js';
import { runSegment, processSegmented, type SegmentedProcessed } from './segments/segmented-video.js';
import type { SegmentJobsLink } from './segments/segment-run.js';
import type { SegmentRecord } from './segments/segment-job.js';
import { createTracker, trackerOptionsFor, type FrameTracker, type TrackRecord } from './tracker.js';

export interface VideoJobsOptions extends VideoLimits {
  ffmpeg: string;
  ffprobe: string;
  /** VIDEO_TIMEOUT_SECONDS: one attempt is stopped after this. */
  timeoutSeconds: number;
  frames: FrameRunner;
  /** Where the temporary input and output files go (default: the OS's temp directory). */
  tempDir?: string;
  /** A tracker per job; tests may hand in another. */
  tracker?: (detectEvery: number, frameWidth: number, frameHeight: number) => FrameTracker;
  /** VIDEO_SEGMENT_SECONDS: longer videos run as segments (src/video/segments/); 0: never. */
  segmentSeconds?: number;
  /**
   * Where segments are queued as jobs of their own (any worker on any node runs them) and their
   * pieces stored; absent: a segmented video's segments run one after another on its worker.
   */
  segmentJobs?: { queue: SegmentJobsLink['queue']; store: ObjectStore; pollMs?: number };
}

export interface VideoFileRun {
  ffmpeg: string;
  ffprobe: string;
  input: string;
  output: string;
  options: JobOptions & { video: VideoOptions };
  frames: FrameRunner;
  limits: VideoLimits;
  timeoutSeconds: number;
  signal: AbortSignal;
  onProgress: (framesDone: number, framesTotal: number) => void;
  tracker?: (detectEvery: number, frameWidth: number, frameHeight: number) => FrameTracker;
  /** VIDEO_SEGMENT_SECONDS (0 or absent: the video runs whole). */
  segmentSeconds?: number;
  /** Where a segmented run keeps its pieces (default: the OS's temp directory). */
  tempDir?: string;
  /** Present: a segmented video's segments are queued as jobs (src/video/segments/segment-jobs.ts). */
  segmentJobs?: SegmentJobsLink;
}

export interface VideoFileDone {
  info: VideoInfo;
  frames: number;
  tracks: TrackRecord[];
  timings: Record<string, number>;
  models: Record<string, string>;
  summary: VideoSummary;
  /** Segments run as jobs: which job ran each, on which node. */
  segments?: SegmentedProcessed['segments'];
}

/**
 * One video file on disk anonymized into another: probe, limits, processVideo; stopped (ffmpeg
 * killed) when `signal` aborts or `timeoutSeconds` pass (VIDEO_TIMEOUT). The service's video jobs
 * and `pixveil process` both run this.
 */
export async function anonymizeVideoFile(run: VideoFileRun): Promise<VideoFileDone> {
  const stopped = withTimeout(run.signal, run.timeoutSeconds);
  try {
    const probeStart = performance.now();
    const info = await probeVideo(run.ffprobe, run.input, stopped.signal);
    checkVideoLimits(info, run.limits);
    const probeMs = performance.now() - probeStart;
    run.onProgress(0, info.frames);
    const video = run.options.video;
    const common = {
      ffmpeg: run.ffmpeg,
      input: run.input,
      output: run.output,
      info,
      options: run.options,
      frames: run.frames,
      signal: stopped.signal,
      onProgress: (framesDone: number) => run.onProgress(framesDone, Math.max(info.frames, framesDone)),
    };
    const newTracker = () => (run.tracker ?? createTracker)(video.detectEvery, info.width, info.height);
    const segmented = run.segmentSeconds && info.durationSeconds > run.segmentSeconds ? await runSegmented(run, common, newTracker) : undefined;
    const done = segmented ?? (await processVideo({ ...common, tracker: newTracker() }));
    run.onProgress(done.frames, done.frames);
    const summary: VideoSummary = {
      frames: done.frames,
      // From the frames' own times (as written): the average rate over them, and the span they cover.
      fps: Math.round((done.durationSeconds > 0 ? done.frames / done.durationSeconds : info.fps) * 1000) / 1000,
      durationSeconds: Math.round(done.durationSeconds * 1000) / 1000,
      audioStreams: video.audio === 'keep' ? info.audio.length : 0,
      tracks: tracksByKind(done.tracks),
      detectEvery: video.detectEvery,
    };
    const segments = (done as SegmentedProcessed).segments;
    return { info, frames: done.frames, tracks: done.tracks, timings: { probe: Math.round(probeMs * 100) / 100, ...done.timings }, models: done.models, summary, ...(segments ? { segments } : {}) };
  } finally {
    stopped.dispose();
  }
}

/** The summary's track count per kind. */
function tracksByKind(tracks: readonly TrackRecord[]): Record<string, number> {
  const byKind: Record<string, number> = {};
  for (const t of tracks) byKind[t.kind] = (byKind[t.kind] ?? 0) + 1;
  return byKind;
}

/**
 * `signal`, also aborted after `timeoutSeconds` with VIDEO_TIMEOUT (a bare timeout's reason is a
 * TimeoutError; processVideo answers with the reason). dispose() once the run ended.
 */
function withTimeout(outer: AbortSignal, timeoutSeconds: number): { signal: AbortSignal; dispose: () => void } {
  const timeout = AbortSignal.timeout(timeoutSeconds * 1000);
  const stopped = new AbortController();
  const stop = () => stopped.abort(timeout.aborted ? errors.videoTimeout(timeoutSeconds) : outer.reason);
  const signal = AbortSignal.any([outer, timeout]);
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  return { signal: stopped.signal, dispose: () => signal.removeEventListener('abort', stop) };
}

/** processSegmented in a folder of its own, removed however it ends; undefined when the video makes one segment. */
async function runSegmented(run: VideoFileRun, common: Omit<VideoRun, 'tracker'>, newTracker: () => FrameTracker): Promise<SegmentedProcessed | undefined> {
  const workDir = await fs.mkdtemp(path.join(run.tempDir ?? os.tmpdir(), `${TEMP_PREFIX}${process.pid}-segments-`));
  try {
    // The tracker's look-ahead and its misses: a track seen before a boundary is carried across it as in a whole run.
    const tracking = trackerOptionsFor(run.options.video.detectEvery, common.info.width, common.info.height);
    return await processSegmented({ ...common, ffprobe: run.ffprobe, segmentSeconds: run.segmentSeconds!, overlapFrames: tracking.lookahead + tracking.maxMisses, tracker: newTracker, workDir, jobs: run.segmentJobs });
  } finally {
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

/** Temporary folders are named with the worker's pid, so a later worker can tell a dead one's leftovers. */
const TEMP_PREFIX = 'pixveil-video-';
/** What ingest names an upload's folder (src/ingest/upload-file.ts), with its process's pid the same way. */
const UPLOAD_PREFIX = 'pixveil-upload-';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary folders of workers that died mid-video (kill -9, OOM): their input and
 * partial output would otherwise stay on disk. Their ffmpeg processes end by themselves: the
 * decoder on its closed stdout, the encoder at the end of its stdin. Uploads a dead API node was
 * receiving are removed the same way.
 */
export async function sweepDeadWorkersTemp(dir: string): Promise<number> {
  let removed = 0;
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    const pid = Number(new RegExp(`^(?:${TEMP_PREFIX}|${UPLOAD_PREFIX})(\\d+)-`).exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    await fs.rm(path.join(dir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

export class VideoJobs implements VideoJobRunner {
  constructor(private readonly options: VideoJobsOptions) {
    void sweepDeadWorkersTemp(options.tempDir ?? os.tmpdir());
  }

  async run(job: Job, fetchOriginal: (file: string) => Promise<void>, hooks: VideoJobHooks): Promise<VideoOutcome> {
    const video = job.options.video;
    if (!video || !isVideoExt(job.input.format)) throw errors.internal(`job ${job.id} is not a video job`);
    const dir = await fs.mkdtemp(path.join(this.options.tempDir ?? os.tmpdir(), `${TEMP_PREFIX}${process.pid}-`));
    const removeFiles = () => fs.rm(dir, { recursive: true, force: true });
    let handedOver = false;
    try {
      const input = path.join(dir, `input.${job.input.format}`);
      const output = path.join(dir, `output.${video.container}`);
      const fetchStart = performance.now();
      await fetchOriginal(input);
      const fetchMs = Math.round((performance.now() - fetchStart) * 100) / 100;
      const outcome = job.segment ? await this.runSegmentJob(job, input, output, hooks) : await this.runVideo(job, input, output, dir, hooks);
      // The input is no longer needed: only the output stays on disk until the runner stored it.
      await fs.rm(input, { force: true });
      handedOver = true;
      return { ...outcome, file: output, removeFiles, timings: { fetch_original: fetchMs, ...outcome.timings } };
    } finally {
      if (!handedOver) await removeFiles();
    }
  }

  /** A whole video: run whole, or cut into segments (queued as jobs of their own where segmentJobs is set). */
  private async runVideo(job: Job, input: string, output: string, dir: string, hooks: VideoJobHooks): Promise<Omit<VideoOutcome, 'file' | 'removeFiles'>> {
    const video = job.options.video!;
    const link = this.options.segmentJobs;
    const done = await anonymizeVideoFile({
      ffmpeg: this.options.ffmpeg,
      ffprobe: this.options.ffprobe,
      input,
      output,
      options: { ...job.options, video },
      frames: this.options.frames,
      limits: this.options,
      timeoutSeconds: this.options.timeoutSeconds,
      signal: hooks.signal,
      onProgress: hooks.onProgress,
      tracker: this.options.tracker,
      segmentSeconds: this.options.segmentSeconds,
      tempDir: dir,
      segmentJobs: link && { queue: link.queue, store: link.store, parent: job, onWaiting: () => hooks.onWaiting?.(), pollMs: link.pollMs ?? 250 },
    });
    return {
      ok: true,
      format: video.container,
      width: done.info.width,
      height: done.info.height,
      timings: done.timings,
      models: done.models,
      summary: done.summary,
      tracks: done.tracks,
      ...(done.segments ? { record: { segments: done.segments } } : {}),
    };
  }

  /**
   * A segment job (src/video/segments/segment-jobs.ts): its piece, already fetched to `input`, run
   * with the whole video's probe and frame list over its window; its tracks (in the whole video's
   * frame numbers) and which node ran it go into its metadata record for the parent.
   */
  private async runSegmentJob(job: Job, input: string, output: string, hooks: VideoJobHooks): Promise<Omit<VideoOutcome, 'file' | 'removeFiles'>> {
    const segment = job.segment!;
    const video = job.options.video!;
    const store = this.options.segmentJobs?.store;
    if (!store) throw errors.internal(`job ${job.id} is a segment job, which this worker is not set up to run`);
    const stopped = withTimeout(hooks.signal, this.options.timeoutSeconds);
    try {
      const pts = JSON.parse((await store.get(segment.framesKey)).toString('utf8')) as number[];
      const { info } = segment;
      hooks.onProgress(0, segment.frames);
      const done = await runSegment({
        ffmpeg: this.options.ffmpeg,
        input,
        output,
        info,
        options: { ...job.options, video },
        frames: this.options.frames,
        tracker: (this.options.tracker ?? createTracker)(video.detectEvery, info.width, info.height),
        signal: stopped.signal,
        onProgress: (n) => hooks.onProgress(n, segment.frames),
      }, segment, pts);
      hooks.onProgress(done.frames, segment.frames);
      const record: SegmentRecord = { parent_id: segment.parentId, index: segment.index, first_frame: segment.firstFrame, frames: segment.frames, node: `${os.hostname()}-${process.pid}` };
      return {
        ok: true,
        format: 'mp4',
        width: info.width,
        height: info.height,
        timings: done.timings,
        models: done.models,
        summary: { frames: done.frames, fps: info.fps, durationSeconds: Math.round(done.durationSeconds * 1000) / 1000, audioStreams: 0, tracks: tracksByKind(done.tracks), detectEvery: video.detectEvery },
        tracks: done.tracks,
        record: { segment: record },
      };
    } finally {
      stopped.dispose();
    }
  }
}
