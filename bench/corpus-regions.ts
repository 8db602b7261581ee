// The bench corpus with what the pipeline really blurs on each photo: the regions the default
// detectors find (the same ones processImage blurs), for the blur and JPEG output benches.
import sharp from 'sharp';
import type { BlurRegion } from '../src/addon/index.js';
import { loadConfig } from '../src/config/config.js';
import { defaultJobOptions } from '../src/job.js';
import { configuredModels, defaultThresholds, modelNames } from '../src/models/configured.js';
import { loadDetectors } from '../src/models/load-detectors.js';
import { modelPath } from '../src/models/files.js';
import { loadManifests } from '../src/models/manifest.js';
import { processImage } from '../src/pipeline/process-image.js';
import { modelDir } from '../harness/fixtures.js';
import { buildCorpus } from './corpus.js';

export interface PhotoWithRegions {
  name: string;
  jpeg: Buffer;
  regions: BlurRegion[];
}

/** Every corpus photo (1920×1080 JPEG q85 from ../shared/fixtures and darknet) with its blurred regions at the defaults. */
export async function corpusWithRegions(): Promise<PhotoWithRegions[]> {
  sharp.concurrency(1);
  const config = loadConfig({ ...process.env, MODEL_DIR: process.env.MODEL_DIR ?? modelDir });
  const manifests = loadManifests(config.modelManifestDir || undefined);
  const options = defaultJobOptions(config, defaultThresholds(configuredModels(config, manifests)));
  const detectors = await loadDetectors(modelNames(config), manifests, (m) => modelPath(config.modelDir, m), { intraOpThreads: 1, executionProviders: ['cpu'] });
  const corpus = await buildCorpus(1920, 1080, '1080p');
  const out: PhotoWithRegions[] = [];
  for (const [i, jpeg] of corpus.images.entries()) {
    const result = await processImage(jpeg, options, detectors, { maxPixels: config.maxPixels }, config.detection);
    out.push({ name: corpus.names?.[i] ?? `#${i}`, jpeg, regions: result.detections.filter((d) => d.blurBox).map((d) => d.blurBox!) });
  }
  return out;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
