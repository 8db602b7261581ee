// The worker side of a video job: the original goes to a temporary file (ffmpeg seeks in it:
// an MP4's index may sit at its end), is probed and checked again, runs through processVideo,
// and the output file comes back as the job's result. The directory is removed however it ends.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { errors } from '../errors.js';
import type { Job } from '../job.js';
import type { VideoJobRunner, VideoOutcome } from '../pool/job-runner.js';
import { isVideoExt } from '../video-format.js';
import { checkVideoLimits, type VideoLimits } from './limits.js';
import { processVideo, type FrameRunner } from './process-video.js';
import { probeVideo } from './probe.js';
import { createTracker, type FrameTracker } from './tracker.js';

export interface VideoJobsOptions extends VideoLimits {
  ffmpeg: string;
  ffprobe: string;
  /** VIDEO_TIMEOUT_SECONDS: one attempt is stopped after this. */
  timeoutSeconds: number;
  frames: FrameRunner;
  /** Where the temporary input and output files go (default: the OS's temp directory). */
  tempDir?: string;
  /** A tracker per job; tests may hand in another. */
  tracker?: (detectEvery: number) => FrameTracker;
}

export class VideoJobs implements VideoJobRunner {
  constructor(private readonly options: VideoJobsOptions) {}

  async run(job: Job, original: Buffer, hooks: Parameters<VideoJobRunner['run']>[2]): Promise<VideoOutcome> {
    const video = job.options.video;
    if (!video || !isVideoExt(job.input.format)) throw errors.internal(`job ${job.id} is not a video job`);
    const timeout = AbortSignal.timeout(this.options.timeoutSeconds * 1000);
    const signal = AbortSignal.any([hooks.signal, timeout]);
    // The reason a timeout aborts with is a TimeoutError; processVideo answers with this instead.
    const stopped = new AbortController();
    signal.addEventListener('abort', () => stopped.abort(timeout.aborted ? errors.videoTimeout(this.options.timeoutSeconds) : hooks.signal.reason), { once: true });
    const dir = await fs.mkdtemp(path.join(this.options.tempDir ?? os.tmpdir(), 'pixveil-video-'));
    try {
      const input = path.join(dir, `input.${job.input.format}`);
      const output = path.join(dir, `output.${video.container}`);
      await fs.writeFile(input, original);
      const probeStart = performance.now();
      const info = await probeVideo(this.options.ffprobe, input, stopped.signal);
      checkVideoLimits(info, this.options);
      const probeMs = performance.now() - probeStart;
      hooks.onProgress(0, info.frames);
      const tracker = (this.options.tracker ?? createTracker)(video.detectEvery);
      const done = await processVideo({
        ffmpeg: this.options.ffmpeg,
        input,
        output,
        info,
        options: { ...job.options, video },
        frames: this.options.frames,
        tracker,
        signal: stopped.signal,
        onProgress: (framesDone) => hooks.onProgress(framesDone, Math.max(info.frames, framesDone)),
      });
      hooks.onProgress(done.frames, done.frames);
      const bytes = await fs.readFile(output);
      const tracks: Record<string, number> = {};
      for (const t of done.tracks) tracks[t.kind] = (tracks[t.kind] ?? 0) + 1;
      return {
        ok: true,
        video: bytes,
        format: video.container,
        width: info.width,
        height: info.height,
        timings: { probe: Math.round(probeMs * 100) / 100, ...done.timings },
        models: done.models,
        summary: { frames: done.frames, fps: Math.round(info.fps * 1000) / 1000, durationSeconds: Math.round((done.frames / info.fps) * 1000) / 1000, audioStreams: video.audio === 'keep' ? info.audio.length : 0, tracks, detectEvery: video.detectEvery },
        tracks: done.tracks,
      };
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
}
