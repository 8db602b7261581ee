import type { JobOptions } from '../queue/job.js';
import type { Config } from './config.js';

/** Default score thresholds: chosen for recall, since a missed face is a privacy leak (see `npm run eval`). */
export const DEFAULT_THRESHOLDS = Object.freeze({ face: 0.6, plate: 0.15, object: 0.35 });

/** What a request with no options gets: every configured detector, gaussian box blur, same format. */
export function defaultJobOptions(config: Pick<Config, 'faceModel' | 'plateModel' | 'objectModel'>): JobOptions {
  return {
    blur: 'gaussian',
    shape: 'box',
    detect: { faces: Boolean(config.faceModel), plates: Boolean(config.plateModel), objects: Boolean(config.objectModel) },
    thresholds: { ...DEFAULT_THRESHOLDS },
    blurClasses: [],
    format: 'same',
    quality: 90,
  };
}
