// The words every layer shares about a job: its options, input, detections, result and id.
import crypto from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import type { ImageExt } from './image-format.js';
import { detectionKinds, modelSettingKey } from './kinds.js';
import type { VideoExt, VideoInfo } from './video-format.js';
import { METADATA_POLICY_NAMES, type BlurShapeSchema, type JOB_KINDS, type VideoOptionsSchema, type BlurStyleSchema, type BoxSchema, type DetectionSchema, type JobOptionsSchema, type MetadataPolicySchema } from './schema/job.js';

export type JobStatus = 'queued' | 'processing' | 'completed' | 'failed';
export type BlurStyle = Static<typeof BlurStyleSchema>;
export type BlurShape = Static<typeof BlurShapeSchema>;
export type DetectionKind = Detection['kind'];
/** What of the original's metadata the output keeps: nothing, or EXIF without location, thumbnail and maker notes. */
export type MetadataPolicy = Static<typeof MetadataPolicySchema>;
export const METADATA_POLICIES: readonly MetadataPolicy[] = METADATA_POLICY_NAMES;

/** Per-request processing options, already validated (see ingest/options.ts); the schema is schema/job.ts. Absent metadata (jobs queued before the option existed): strip. */
export type JobOptions = Static<typeof JobOptionsSchema>;
export type VideoOptions = Static<typeof VideoOptionsSchema>;
/** image (POST /v1/images, the WebSocket) or video (POST /v1/videos). */
export type JobKind = (typeof JOB_KINDS)[number];

/** A video job while it runs: frames written to the output of all the input has. */
export interface JobProgress {
  framesDone: number;
  framesTotal: number;
}

export interface JobInput {
  key: string;
  filename: string;
  bytes: number;
  format: ImageExt | VideoExt;
}

export type Box = Static<typeof BoxSchema>;

/** Boxes in original-image pixels, after EXIF rotation; blurBox is the region actually blurred; landmarks from YuNet faces. */
export type Detection = Static<typeof DetectionSchema>;

export interface JobResult {
  processedKey: string;
  metadataKey: string;
  format: ImageExt | VideoExt;
  width: number;
  height: number;
  /** Videos: empty; their tracks (a box per frame) are in the metadata record. */
  detections: Detection[];
  /** Videos only: what was written and how many tracks were blurred. */
  video?: VideoSummary;
  /** Milliseconds per stage (decode, detect_faces, detect_objects, blur, encode, store, ...). */
  timings: Record<string, number>;
  /** Enqueue to completion. */
  totalMs: number;
  models: Record<string, string>;
}

export interface VideoSummary {
  frames: number;
  fps: number;
  durationSeconds: number;
  audioStreams: number;
  tracks: Record<string, number>;
  detectEvery: number;
}

export interface JobError {
  code: string;
  message: string;
}

/** Where the finished job is POSTed (callback_url or the tenant's default), resolved at upload. */
export interface JobCallback {
  url: string;
}

export type WebhookEvent = 'job.completed' | 'job.failed';

/** The one webhook delivery of a finished job: `pending` until a 2xx, `failed` after WEBHOOK_MAX_ATTEMPTS. */
export interface WebhookState {
  deliveryId: string;
  event: WebhookEvent;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastError?: string;
}

/** A segment job's place in its video (src/video/segments/segment-job.ts queues them). */
export interface SegmentOfVideo {
  /** The video's job, which joins the segments. */
  parentId: string;
  index: number;
  /** Its window and its place in the whole video (the plan less the cut, which the parent did). */
  fromTicks: number;
  toTicks: number | null;
  trackFromTicks: number;
  firstFrame: number;
  frames: number;
  /** The whole video's probe as a segment runs with it (no audio, no offset): time base, rate, size, rotation. */
  info: VideoInfo;
  /** Where the whole video's frame list is stored (storageKeys.segmentFrames), read by every segment. */
  framesKey: string;
}

export interface Job {
  id: string;
  /** Absent: image (every job queued before videos existed). */
  kind?: JobKind;
  status: JobStatus;
  tenant?: string;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  finishedAt?: number;
  attempts: number;
  options: JobOptions;
  input: JobInput;
  result?: JobResult;
  error?: JobError;
  callback?: JobCallback;
  webhook?: WebhookState;
  /** The tenant-scoped hash of the Idempotency-Key that created the job; erasure frees it. */
  idempotencyKey?: string;
  /** Video jobs while processing (queue.reportProgress). */
  progress?: JobProgress;
  /** A segment job: one piece of a long video, enqueued by the worker running the video (its parent). */
  segment?: SegmentOfVideo;
}

/** 128 random bits, URL-safe: job ids are not guessable. */
export function newJobId(): string {
  return crypto.randomBytes(16).toString('base64url');
}

// The one job-id rule: what newJobId makes (22 characters) with room for longer ids, and
// nothing that could step out of a storage key or a Redis key.
const JOB_ID = /^[A-Za-z0-9_-]{16,64}$/;

export function isJobId(id: string): boolean {
  return JOB_ID.test(id);
}

/** Default score thresholds, per kind (src/kinds.ts): chosen for recall, since a missed face is a privacy leak (see `npm run eval`). */
export const DEFAULT_THRESHOLDS: Readonly<JobOptions['thresholds']> = Object.freeze(Object.fromEntries(detectionKinds().map((k) => [k.name, k.threshold.default])));

/** Options a request gets for what it does not say; `quality` only where the output is re-encoded (pipeline/encode.ts). */
export const JOB_OPTION_DEFAULTS = Object.freeze({ blur: 'gaussian', shape: 'box', format: 'same', quality: 90 } as const);

/** What a request with no options gets: every configured detector (a kind whose model setting, faceModel…, is set), gaussian box blur, same format. */
export function defaultJobOptions(models: { keepMetadata?: MetadataPolicy }, thresholds: JobOptions['thresholds'] = DEFAULT_THRESHOLDS): JobOptions {
  const { quality: _reencodeQuality, ...defaults } = JOB_OPTION_DEFAULTS;
  const setting = models as Readonly<Record<string, unknown>>;
  return {
    ...defaults,
    metadata: models.keepMetadata ?? 'strip',
    detect: Object.fromEntries(detectionKinds().map((k) => [k.slot, Boolean(setting[modelSettingKey(k)])])),
    thresholds: { ...thresholds },
    blurClasses: [],
  };
}

export function isFinished(job: Job): boolean {
  return job.status === 'completed' || job.status === 'failed';
}
