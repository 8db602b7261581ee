// The words every layer shares about a job: its options, input, detections, result and id.
import crypto from 'node:crypto';
import type { ImageExt, OutputFormat } from './image-format.js';

export type JobStatus = 'queued' | 'processing' | 'completed' | 'failed';
export type BlurStyle = 'gaussian' | 'pixelate' | 'solid';
export type BlurShape = 'box' | 'ellipse';
export type DetectionKind = 'face' | 'plate' | 'object';
/** What of the original's metadata the output keeps: nothing, or EXIF without location, thumbnail and maker notes. */
export type MetadataPolicy = 'strip' | 'safe';
export const METADATA_POLICIES: readonly MetadataPolicy[] = ['strip', 'safe'];

/** Per-request processing options, already validated (see ingest/options.ts). */
export interface JobOptions {
  blur: BlurStyle;
  shape: BlurShape;
  detect: { faces: boolean; plates: boolean; objects: boolean };
  thresholds: { face: number; plate: number; object: number };
  /** Object classes (COCO names) that are blurred as well as reported, e.g. `person`. */
  blurClasses: string[];
  format: OutputFormat;
  /** JPEG/WebP quality of the anonymized image. */
  quality: number;
  /** Absent (jobs queued before the option existed): strip. */
  metadata?: MetadataPolicy;
}

export interface JobInput {
  key: string;
  filename: string;
  bytes: number;
  format: ImageExt;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Detection {
  kind: DetectionKind;
  label: string;
  score: number;
  /** In original-image pixels, after EXIF rotation. */
  box: Box;
  blurred: boolean;
  /** The region actually blurred (the box enlarged), when blurred. */
  blurBox?: Box;
  /** Faces from models that give them (YuNet): eyes, nose tip, mouth corners as [x, y] in original-image pixels. */
  landmarks?: Array<[number, number]>;
}

export interface JobResult {
  processedKey: string;
  metadataKey: string;
  format: ImageExt;
  width: number;
  height: number;
  detections: Detection[];
  /** Milliseconds per stage (decode, detect_faces, detect_objects, blur, encode, store, ...). */
  timings: Record<string, number>;
  /** Enqueue to completion. */
  totalMs: number;
  models: Record<string, string>;
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

export interface Job {
  id: string;
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

/** Default score thresholds: chosen for recall, since a missed face is a privacy leak (see `npm run eval`). */
export const DEFAULT_THRESHOLDS: Readonly<JobOptions['thresholds']> = Object.freeze({ face: 0.6, plate: 0.15, object: 0.35 });

/** Options a request gets for what it does not say. */
export const JOB_OPTION_DEFAULTS = Object.freeze({ blur: 'gaussian', shape: 'box', format: 'same', quality: 90 } as const);

/** What a request with no options gets: every configured detector, gaussian box blur, same format. */
export function defaultJobOptions(models: { faceModel: string; plateModel: string; objectModel: string; keepMetadata?: MetadataPolicy }, thresholds: JobOptions['thresholds'] = DEFAULT_THRESHOLDS): JobOptions {
  return {
    ...JOB_OPTION_DEFAULTS,
    metadata: models.keepMetadata ?? 'strip',
    detect: { faces: Boolean(models.faceModel), plates: Boolean(models.plateModel), objects: Boolean(models.objectModel) },
    thresholds: { ...thresholds },
    blurClasses: [],
  };
}

export function isFinished(job: Job): boolean {
  return job.status === 'completed' || job.status === 'failed';
}
