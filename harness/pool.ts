// What the pool tests share: a pool on the CPU provider with one intra-op thread, the service's pixel
// limits and detection defaults, the models and threads each test names; and the job options that
// run every detector with persons blurred too.
import { DEFAULT_DETECTION_SETTINGS } from '../src/config/detection.js';
import { DEFAULT_THRESHOLDS, type JobOptions } from '../src/job.js';
import type { ImagePoolOptions } from '../src/pool/image-pool.js';
import { modelDir } from './fixtures.js';

export function testPoolOptions(chosen: Pick<ImagePoolOptions, 'models' | 'threads' | 'concurrencyPerThread'> & Partial<ImagePoolOptions>): ImagePoolOptions {
  return {
    modelDir,
    intraOpThreads: 1,
    executionProviders: ['cpu'],
    maxPixels: 50_000_000,
    maxDimension: 20_000,
    detection: DEFAULT_DETECTION_SETTINGS,
    ...chosen,
  };
}

export const everyDetectorOptions: JobOptions = {
  blur: 'gaussian',
  shape: 'box',
  detect: { faces: true, plates: true, objects: true },
  thresholds: { ...DEFAULT_THRESHOLDS },
  blurClasses: ['person'],
  format: 'same',
  quality: 85,
};
