import { checkPixelOps } from '../addon/index.js';
import type { Config } from '../config/config.js';
import { modelNames } from '../models/configured.js';
import { checkExecutionProviders } from '../models/execution-providers.js';
import { batchSettingsFromConfig } from './batch-inference.js';
import type { ImagePoolOptions } from './image-pool.js';

/**
 * Every pool built from settings (serve, worker, process, bench) gets the same options. The
 * providers and pixel ops asked for are checked here too, so no pool starts on a GPU that is not
 * there (one-line ConfigError, exit 2) rather than quietly on the CPU.
 */
export function poolOptionsFromConfig(config: Config): ImagePoolOptions {
  checkExecutionProviders(config.executionProviders);
  checkPixelOps();
  return {
    threads: config.poolThreads,
    concurrencyPerThread: config.tasksPerThread,
    threadHeapMb: config.poolThreadHeapMb,
    modelDir: config.modelDir,
    extraManifestDir: config.modelManifestDir || undefined,
    models: modelNames(config),
    intraOpThreads: config.ortIntraOpThreads,
    executionProviders: [...config.executionProviders],
    maxPixels: config.maxPixels,
    maxDimension: config.maxDimension,
    detection: config.detection,
    batch: batchSettingsFromConfig(config),
  };
}
