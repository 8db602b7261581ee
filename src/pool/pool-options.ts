import type { Config } from '../config/config.js';
import type { ImagePoolOptions } from './image-pool.js';

/** Every pool built from settings (serve, worker, process, bench) gets the same options. */
export function poolOptionsFromConfig(config: Config): ImagePoolOptions {
  return {
    threads: config.poolThreads,
    concurrencyPerThread: config.tasksPerThread,
    modelDir: config.modelDir,
    extraManifestDir: config.modelManifestDir || undefined,
    faceModel: config.faceModel,
    objectModel: config.objectModel,
    plateModel: config.plateModel,
    intraOpThreads: config.ortIntraOpThreads,
    executionProviders: ['cpu'],
    maxPixels: config.maxPixels,
    maxDimension: config.maxDimension,
    detection: config.detection,
  };
}
