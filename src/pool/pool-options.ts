import type { Config } from '../config/config.js';
import { DEFAULT_DETECTION_SETTINGS, type DetectionSettings } from '../pipeline/detect.js';
import type { ImagePoolOptions } from './image-pool.js';
import type { WorkerSetup } from './task.js';

/** Every pool built from settings (serve, worker, process, bench) gets the same options. */
export function poolOptionsFromConfig(config: Config): ImagePoolOptions {
  return {
    threads: config.workers,
    concurrencyPerThread: config.workerConcurrency,
    modelDir: config.modelDir,
    extraManifestDir: process.env.MODEL_MANIFEST_DIR || undefined,
    faceModel: config.faceModel,
    objectModel: config.objectModel,
    plateModel: config.plateModel,
    intraOpThreads: config.ortIntraOpThreads,
    executionProviders: ['cpu'],
    maxPixels: config.maxPixels,
    maxDimension: config.maxDimension,
    tiling: config.tiling,
    platesOnVehicles: config.platesOnVehicles,
    facesOnPersons: config.facesOnPersons,
    maxPersons: config.maxPersons,
    faceTileScale: config.faceTileScale,
    plateTileScale: config.plateTileScale,
    faceBlurMargin: config.faceBlurMargin,
    plateBlurMargin: config.plateBlurMargin,
  };
}

/** The detection settings a pool thread uses: the setup's values over the pipeline's defaults. */
export function detectionSettingsFrom(setup: Partial<WorkerSetup>): DetectionSettings {
  const d = DEFAULT_DETECTION_SETTINGS;
  return {
    ...d,
    tiling: setup.tiling ?? d.tiling,
    platesOnVehicles: setup.platesOnVehicles ?? d.platesOnVehicles,
    facesOnPersons: setup.facesOnPersons ?? d.facesOnPersons,
    maxPersons: setup.maxPersons ?? d.maxPersons,
    tileScale: { faces: setup.faceTileScale ?? d.tileScale.faces, plates: setup.plateTileScale ?? d.tileScale.plates },
    blurMargin: { face: setup.faceBlurMargin ?? d.blurMargin.face, plate: setup.plateBlurMargin ?? d.blurMargin.plate },
  };
}
