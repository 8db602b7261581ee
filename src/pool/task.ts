import type { ErrorCode } from '../errors.js';
import type { DetectionSettings } from '../config/detection.js';
import type { FrameDetection } from '../pipeline/frame.js';
import type { ProcessedImage } from '../pipeline/process-image.js';
import type { DetectionKind, JobOptions } from '../job.js';

/** Settings every pool thread needs to build its detectors; fixed for the pool's lifetime. */
export interface ThreadSetup {
  modelDir: string;
  extraManifestDir?: string;
  /** Each detection kind's model by slot (faces: yunet-n, …; empty: off), as configuredModels reads the settings. */
  models: Record<string, string>;
  intraOpThreads: number;
  executionProviders: string[];
  maxPixels: number;
  /** Largest width or height accepted (MAX_DIMENSION). */
  maxDimension: number;
  /** Tiles, crops and blur margins, as config filled them (see src/config/detection.ts). */
  detection: DetectionSettings;
  /** BATCH_IMAGES mode (images > 1): one inference thread owns the sessions and joins several images' inputs per run. Absent: off. */
  batch?: BatchSettings;
}

export interface BatchSettings {
  /** Requests (images) joined into one run at most (BATCH_IMAGES); 1 turns the mode off. */
  images: number;
  /** How long the first request of a group waits for more (BATCH_WAIT_MS). */
  waitMs: number;
}

/** Main thread → pool thread. `image` is transferred (the sender's copy is detached). */
export interface ImageTask {
  image: ArrayBuffer;
  options: JobOptions;
}

/** Pool thread → main thread. `image` is transferred back. */
export interface ImageTaskResult extends Omit<ProcessedImage, 'image'> {
  ok: true;
  image: ArrayBuffer;
}

/** Errors are returned, not thrown, so their code and retryability survive the thread boundary. */
export interface ImageTaskFailure {
  ok: false;
  code: ErrorCode;
  message: string;
  retryable: boolean;
}

/** Answer to a warm-up task: which thread, and how many model sessions it has created so far. */
export interface ThreadReport {
  ok: true;
  threadId: number;
  sessions: number;
  /** Full garbage collections of the thread's heap since it started. */
  majorCollections: number;
}

/**
 * Main thread → pool thread: one raw RGB video frame (`pixels`, transferred) to detect on or to
 * blur. `boxes` present: blur them (the tracker's final boxes); absent: detect. The pixels come
 * back transferred either way, so a frame is never copied between threads.
 */
export interface FrameTask {
  frame: { pixels: ArrayBuffer; width: number; height: number };
  options: JobOptions;
  boxes?: FrameBoxInput[];
}

/** A box to blur in a frame (src/pipeline/frame.ts FrameDetection, score not needed). */
export interface FrameBoxInput {
  kind: DetectionKind;
  label: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Pool thread → main thread: the frame's pixels back (blurred when boxes were sent), the detections found otherwise. */
export interface FrameTaskResult {
  ok: true;
  pixels: ArrayBuffer;
  detections: FrameDetection[];
  /** Milliseconds per stage of this task (detect_faces, detect_plates, ..., blur). */
  timings: Record<string, number>;
  models: Record<string, string>;
}
