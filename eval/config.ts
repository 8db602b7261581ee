// One eval configuration from command-line flags (listed at the top of run.ts): the models, the
// detection settings and the job options, shared by run.ts (quality) and cost.ts (time per 1080p image).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs as parseFlags } from 'node:util';
import { Detector } from '../src/models/detector.js';
import { loadManifests } from '../src/models/manifest.js';
import { DEFAULT_DETECTION_SETTINGS, type DetectionSettings } from '../src/config/detection.js';
import type { Detectors } from '../src/pipeline/detect.js';
import type { JobOptions } from '../src/job.js';
import { atImageScale } from './face-pass.js';
import { repoRoot } from './ground-truth.js';

export type EvalArgs = Record<string, string | undefined>;

// `--name=value` flags through node:util's parser. Not strict: run.ts and cost.ts read different
// flags through this one function, and a list of them here would go stale as flags are added.
export const parseArgs = (argv: string[]): EvalArgs =>
  Object.fromEntries(Object.entries(parseFlags({ args: argv, strict: false, allowPositionals: true }).values).map(([k, v]) => [k, v === undefined ? undefined : String(v)]));

export interface EvalConfig {
  names: { faces: string; plates: string; objects: string };
  detectors: Detectors;
  settings: DetectionSettings;
  options: JobOptions;
  faceLongSide?: number;
  release(): Promise<void>;
}

export async function loadEvalConfig(args: EvalArgs): Promise<EvalConfig> {
  const num = (key: string, fallback: number) => (args[key] !== undefined ? Number(args[key]) : fallback);
  const manifests = loadManifests();
  const modelDirs = [process.env.MODEL_DIR ?? path.resolve(repoRoot, '../shared/models'), process.env.EXTRA_MODEL_DIR].filter(Boolean) as string[];
  const load = async (name: string | undefined) => {
    if (!name || name === 'none') return undefined;
    const m = manifests.get(name) ?? (() => { throw new Error(`unknown model ${name}`); })();
    const file = modelDirs.map((d) => path.join(d, m.file)).find((f) => fs.existsSync(f));
    if (!file) throw new Error(`model file ${m.file} not found in ${modelDirs.join(', ')}`);
    return Detector.load(m, file, { intraOpThreads: 1, executionProviders: ['cpu'] });
  };
  const names = { faces: args.faces ?? 'ultraface-rfb-320', plates: args.plates ?? 'hyperlpr-y5fu-320', objects: args.objects ?? 'yolox-nano' };
  const detectors: Detectors = { faces: await load(names.faces), plates: await load(names.plates), objects: await load(names.objects) };
  const loaded = [detectors.faces, detectors.plates, detectors.objects];
  const faceLongSide = args['face-long-side'] !== undefined ? Number(args['face-long-side']) : undefined;
  if (faceLongSide !== undefined && detectors.faces) detectors.faces = atImageScale(detectors.faces, faceLongSide);
  const settings: DetectionSettings = {
    ...DEFAULT_DETECTION_SETTINGS,
    tiling: (args.tiling ?? DEFAULT_DETECTION_SETTINGS.tiling) as DetectionSettings['tiling'],
    // One whole-image pass at the chosen long side stands in for face tiles.
    tileScale: { faces: faceLongSide !== undefined ? Infinity : num('face-tile-scale', DEFAULT_DETECTION_SETTINGS.tileScale.faces), plates: num('plate-tile-scale', DEFAULT_DETECTION_SETTINGS.tileScale.plates) },
    tileOverlap: num('tile-overlap', DEFAULT_DETECTION_SETTINGS.tileOverlap),
    platesOnVehicles: (args.vehicles ?? (DEFAULT_DETECTION_SETTINGS.platesOnVehicles ? 'on' : 'off')) === 'on',
    maxVehicles: num('max-vehicles', DEFAULT_DETECTION_SETTINGS.maxVehicles),
    facesOnPersons: (args.persons ?? (DEFAULT_DETECTION_SETTINGS.facesOnPersons ? 'on' : 'off')) === 'on',
    maxPersons: num('max-persons', DEFAULT_DETECTION_SETTINGS.maxPersons),
    personScore: num('person-score', DEFAULT_DETECTION_SETTINGS.personScore),
    blurMargin: { face: num('face-margin', DEFAULT_DETECTION_SETTINGS.blurMargin.face), plate: num('plate-margin', DEFAULT_DETECTION_SETTINGS.blurMargin.plate) },
  };
  const options: JobOptions = {
    // Solid fill changes every covered pixel, so "unchanged" means "not covered by any blur region".
    blur: 'solid',
    shape: 'box',
    detect: { faces: !!detectors.faces, plates: !!detectors.plates, objects: !!detectors.objects },
    // The service's defaults (DEFAULT_THRESHOLDS in src/job.ts).
    thresholds: { face: num('face-threshold', 0.6), plate: num('plate-threshold', 0.15), object: num('object-threshold', 0.35) },
    blurClasses: [],
    format: 'png',
    quality: 90,
  };
  const release = async () => {
    for (const d of loaded) await d?.release();
  };
  return { names, detectors, settings, options, faceLongSide, release };
}
