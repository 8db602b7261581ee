// The configured detectors of a settings object for one test suite: loaded once before its tests
// and released after them, one onnxruntime thread each, from the shared model folder.
import { after, before } from 'node:test';
import type { Config } from '../src/config/config.js';
import { modelNames } from '../src/models/configured.js';
import { loadDetectors, releaseDetectors } from '../src/models/load-detectors.js';
import { loadManifests } from '../src/models/manifest.js';
import { modelPath } from '../src/models/files.js';
import type { Detectors } from '../src/pipeline/detect.js';
import { modelDir } from './fixtures.js';

/** Call inside a describe (or at a file's top level); the object is filled before the first test runs. */
export function detectorsForSuite(config: Config): Detectors {
  const detectors: Detectors = {};
  before(async () => {
    Object.assign(detectors, await loadDetectors(modelNames(config), loadManifests(), (m) => modelPath(modelDir, m), { intraOpThreads: 1, executionProviders: ['cpu'] }));
  });
  after(() => releaseDetectors(detectors));
  return detectors;
}
