// The one way detectors are loaded from model names: pool threads, bench and eval all come here,
// so a kind added to the registry (src/kinds.ts) is loaded everywhere alike.
import { detectionKinds } from '../kinds.js';
import { Detector, type SessionSettings } from './detector.js';
import type { ModelManifest } from './manifest.js';

/** The loaded detector of each kind, by slot (faces, plates, objects, …); absent where the kind is off. */
export type Detectors = Partial<Record<string, Detector>>;

/**
 * Loads the model each kind names (by slot; empty: off) with one session each. `fileOf` says where
 * a manifest's file is (MODEL_DIR, or eval's search path); an unknown name throws. `open` replaces the
 * session of this thread by another (BATCH_IMAGES: the inference thread's, src/pool/batch-inference.ts).
 */
export async function loadDetectors(
  models: Readonly<Record<string, string>>,
  manifests: ReadonlyMap<string, ModelManifest>,
  fileOf: (manifest: ModelManifest) => string,
  session: SessionSettings,
  open: (manifest: ModelManifest, file: string) => Promise<Detector> = (manifest, file) => Detector.load(manifest, file, session),
): Promise<Detectors> {
  const detectors: Detectors = {};
  for (const kind of detectionKinds()) {
    const name = models[kind.slot];
    if (!name) continue;
    const manifest = manifests.get(name);
    if (!manifest) throw new Error(`Unknown model ${name}`);
    detectors[kind.slot] = await open(manifest, fileOf(manifest));
  }
  return detectors;
}

/** Ends every session of these detectors. */
export async function releaseDetectors(detectors: Detectors): Promise<void> {
  for (const detector of Object.values(detectors)) await detector?.release();
}
