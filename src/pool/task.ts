import type { ErrorCode } from '../errors.js';
import type { DetectionSettings } from '../config/detection.js';
import type { ProcessedImage } from '../pipeline/process-image.js';
import type { JobOptions } from '../job.js';

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
}
