import type { DetectionSettings } from '../config/detection.js';
import type { FrameDetection } from '../pipeline/frame.js';
import type { ProcessedImage } from '../pipeline/process-image.js';
import type { JobOptions } from '../job.js';

/** Settings every pool thread needs to build its detectors; fixed for the pool's lifetime. */
export interface ThreadSetup {
  modelDir: string;
  extraManifestDir?: string;
  faceModel: string;
  objectModel: string;
  plateModel: string;
  intraOpThreads: number;
  executionProviders: string[];
  maxPixels: number;
  /** Largest width or height accepted (MAX_DIMENSION). */
  maxDimension: number;
  /** Tiles, crops and blur margins, as config filled them (see src/config/detection.ts). */
  detection: DetectionSettings;
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
  code: string;
  message: string;
  retryable: boolean;
}

/** Answer to a warm-up task: which thread, and how many model sessions it has created so far. */
export interface ThreadReport {
  ok: true;
  threadId: number;
  sessions: number;
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
  kind: 'face' | 'plate' | 'object';
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
