// What a segmented run is given and gives back, shared by the two ways its segments run: here one
// after another (segmented-video.ts) or as queued jobs any worker takes (segment-jobs.ts).
import type { Job, JobOptions, VideoOptions } from '../../job.js';
import type { JobQueue } from '../../queue/queue.js';
import type { ObjectStore } from '../../storage/storage.js';
import type { VideoRun } from '../process-video.js';
import type { VideoInfo } from '../probe.js';
import type { FrameTracker, TrackRecord } from '../tracker.js';
import type { SegmentPlan } from './plan.js';
import type { SegmentRecord } from './segment-job.js';

export interface SegmentedRun extends Omit<VideoRun, 'window' | 'tracker'> {
  ffprobe: string;
  segmentSeconds: number;
  /** Frames each piece reaches past its window on both sides: at least the tracker's look-ahead. */
  overlapFrames: number;
  /** A fresh tracker for each segment. */
  tracker: () => FrameTracker;
  /** An empty folder for the pieces and encoded segments; the caller removes it. */
  workDir: string;
  /** Present: the segments run as queued jobs any worker takes; absent: here, one after another. */
  jobs?: SegmentJobsLink;
}

/** The segments' outputs, in order, ready to be joined. */
export interface SegmentOutputs {
  files: string[];
  tracks: TrackRecord[];
  timings: Record<string, number>;
  models: Record<string, string>;
  /** Queued segments only: which job ran each, where. */
  records?: Array<SegmentRecord & { job_id: string }>;
}

export interface SegmentJobsLink {
  queue: Pick<JobQueue, 'enqueue' | 'get' | 'erase'>;
  store: ObjectStore;
  /** The video's job: its id names the children; its tenant carries over to them. */
  parent: Job;
  /** Called once the children are queued: from then on the parent holds no pool slot (pool/job-runner.ts), so its own worker can run them. */
  onWaiting: () => void;
  /** How often the children's records are read while waiting (progress, failures). */
  pollMs: number;
}

/** The window a segment writes and its place in the whole video. */
export type SegmentWindow = Pick<SegmentPlan, 'index' | 'fromTicks' | 'toTicks' | 'trackFromTicks' | 'firstFrame' | 'frames'>;

/** Segments are video only, in MP4: the joined output takes the original's audio, tags and offset. */
export function segmentSettings(info: VideoInfo, options: JobOptions & { video: VideoOptions }) {
  return {
    info: { ...info, videoOffsetSeconds: 0, audio: [] },
    options: { ...options, metadata: 'strip' as const, video: { ...options.video, audio: 'drop' as const, container: 'mp4' as const } },
  };
}
