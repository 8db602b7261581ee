import type { Config } from '../config/config.js';
import { DEFAULT_THRESHOLDS, type JobOptions } from '../job.js';
import { loadManifests, type ModelManifest } from './manifest.js';

export type DetectorSlot = 'faces' | 'plates' | 'objects';

/** Every known manifest: the packaged ones plus MODEL_MANIFEST_DIR's. */
export function knownManifests(config: Pick<Config, 'modelManifestDir'>): Map<string, ModelManifest> {
  return loadManifests(config.modelManifestDir || undefined);
}

/** The manifests FACE_MODEL, PLATE_MODEL and OBJECT_MODEL name (undefined where empty); throws on an unknown name or the wrong task. */
export function configuredModels(
  config: Pick<Config, 'faceModel' | 'plateModel' | 'objectModel'>,
  manifests: Map<string, ModelManifest>,
): Record<DetectorSlot, ModelManifest | undefined> {
  const pick = (name: string, task: ModelManifest['task']) => {
    if (!name) return undefined;
    const manifest = manifests.get(name);
    if (!manifest) throw new Error(`Unknown model "${name}": known models are ${[...manifests.keys()].join(', ')}`);
    if (manifest.task !== task) throw new Error(`Model "${name}" detects ${manifest.task}, not ${task}`);
    return manifest;
  };
  return { faces: pick(config.faceModel, 'faces'), plates: pick(config.plateModel, 'plates'), objects: pick(config.objectModel, 'objects') };
}

export function presentModels(models: Record<DetectorSlot, ModelManifest | undefined>): ModelManifest[] {
  return Object.values(models).filter((m): m is ModelManifest => Boolean(m));
}

/** The thresholds a job gets when it asks for none: each configured model's own (manifest `threshold`), else the task's default. */
export function defaultThresholds(models: Record<DetectorSlot, ModelManifest | undefined>): JobOptions['thresholds'] {
  return {
    face: models.faces?.threshold ?? DEFAULT_THRESHOLDS.face,
    plate: models.plates?.threshold ?? DEFAULT_THRESHOLDS.plate,
    object: models.objects?.threshold ?? DEFAULT_THRESHOLDS.object,
  };
}
