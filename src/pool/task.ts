import type { ProcessedImage } from '../pipeline/process-image.js';
import type { JobOptions } from '../job.js';

/** Settings every pool thread needs to build its detectors; fixed for the pool's lifetime. */
export interface WorkerSetup {
  modelDir: string;
  extraManifestDir?: string;
  faceModel: string;
  objectModel: string;
  plateModel: string;
  intraOpThreads: number;
  executionProviders: string[];
  maxPixels: number;
  /** Largest width or height accepted (MAX_DIMENSION); decode's default when absent. */
  maxDimension?: number;
  /** Detection quality features (see src/pipeline/detect.ts); absent fields keep DEFAULT_DETECTION_SETTINGS. */
  tiling?: 'auto' | 'fallback' | 'off';
  platesOnVehicles?: boolean;
  /** Face pass on the head of each detected person (FACES_ON_PERSONS), at most maxPersons (MAX_PERSONS) per image. */
  facesOnPersons?: boolean;
  maxPersons?: number;
  faceTileScale?: number;
  plateTileScale?: number;
  faceBlurMargin?: number;
  plateBlurMargin?: number;
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

/** Errors are returned, not thrown, so their code and permanence survive the thread boundary. */
export interface ImageTaskFailure {
  ok: false;
  code: string;
  message: string;
  status: number;
  permanent: boolean;
}

/** Answer to a warm-up task: which thread, and how many model sessions it has created so far. */
export interface ThreadReport {
  ok: true;
  threadId: number;
  sessions: number;
}
