import type { Config } from '../config/config.js';
import { DEFAULT_THRESHOLDS, type JobOptions } from '../job.js';
import { detectionKinds, modelSettingKey } from '../kinds.js';
import { loadManifests, type ModelManifest } from './manifest.js';

/** A detection kind's slot (faces, plates, objects, …; src/kinds.ts). */
export type DetectorSlot = string;

/** Every known manifest: the packaged ones plus MODEL_MANIFEST_DIR's. */
export function knownManifests(config: Pick<Config, 'modelManifestDir'>): Map<string, ModelManifest> {
  return loadManifests(config.modelManifestDir || undefined);
}

/** Each kind's model setting (FACE_MODEL, …) by slot; empty where the kind is off. */
export function modelNames(config: object): Record<DetectorSlot, string> {
  const settings = config as Readonly<Record<string, unknown>>;
  return Object.fromEntries(detectionKinds().map((k) => [k.slot, String(settings[modelSettingKey(k)] ?? '')]));
}

/** The manifests FACE_MODEL, PLATE_MODEL, OBJECT_MODEL, … name (undefined where empty); throws on an unknown name or the wrong task. */
export function configuredModels(config: Pick<Config, 'faceModel' | 'plateModel' | 'objectModel'>, manifests: Map<string, ModelManifest>): Record<DetectorSlot, ModelManifest | undefined> {
  const names = modelNames(config);
  const pick = (slot: string) => {
    const name = names[slot];
    if (!name) return undefined;
    const manifest = manifests.get(name);
    if (!manifest) throw new Error(`Unknown model "${name}": known models are ${[...manifests.keys()].join(', ')}`);
    if (manifest.task !== slot) throw new Error(`Model "${name}" detects ${manifest.task}, not ${slot}`);
    return manifest;
  };
  return Object.fromEntries(detectionKinds().map((k) => [k.slot, pick(k.slot)]));
}

export function presentModels(models: Record<DetectorSlot, ModelManifest | undefined>): ModelManifest[] {
  return Object.values(models).filter((m): m is ModelManifest => Boolean(m));
}

/** The thresholds a job gets when it asks for none: each configured model's own (manifest `threshold`), else the kind's default. */
export function defaultThresholds(models: Record<DetectorSlot, ModelManifest | undefined>): JobOptions['thresholds'] {
  return Object.fromEntries(detectionKinds().map((k) => [k.name, models[k.slot]?.threshold ?? DEFAULT_THRESHOLDS[k.name]]));
}

/** Which detectors a node has, by slot: what `detect=` may ask for. */
export function availableDetectors(models: Record<DetectorSlot, ModelManifest | undefined>): JobOptions['detect'] {
  return Object.fromEntries(detectionKinds().map((k) => [k.slot, Boolean(models[k.slot])]));
}
