// One eval configuration from command-line flags (listed at the top of run.ts): the models, the
// detection settings and the job options, shared by run.ts (quality) and cost.ts (time per 1080p image).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs as parseFlags } from 'node:util';
import { loadDetectors, releaseDetectors } from '../src/models/load-detectors.js';
import { loadManifests } from '../src/models/manifest.js';
import { DEFAULT_DETECTION_SETTINGS, ULTRAFACE_TILED_DETECTION_SETTINGS, type DetectionSettings } from '../src/config/detection.js';
import { defaults, ultrafaceTiledProfile } from '../src/config/defaults.js';
import { DEFAULT_THRESHOLDS } from '../src/job.js';
import { detectionKinds, kindOf } from '../src/kinds.js';
import { modelNames } from '../src/models/configured.js';
import type { Detectors } from '../src/pipeline/detect.js';
import type { JobOptions } from '../src/job.js';
import { repoRoot } from './ground-truth.js';
import { hostCpuFeatures } from '../src/models/cpu-features.js';
import { modelFileState } from '../src/models/files.js';
import type { ModelManifest } from '../src/models/manifest.js';
import { choosePlateModel, PLATE_PRECISIONS, type PlatePrecisionSetting } from '../src/models/plate-precision.js';
import { derivedModelDir, ensureDerivedPlateModels } from '../harness/derived-models.js';

export type EvalArgs = Record<string, string | undefined>;

// `--name=value` flags through node:util's parser. Not strict: run.ts and cost.ts read different
// flags through this one function, and a list of them here would go stale as flags are added.
export const parseArgs = (argv: string[]): EvalArgs =>
  Object.fromEntries(Object.entries(parseFlags({ args: argv, strict: false, allowPositionals: true }).values).map(([k, v]) => [k, v === undefined ? undefined : String(v)]));

export interface EvalConfig {
  /** Each kind's model by slot (faces, plates, objects, …); empty where off. */
  names: Record<string, string>;
  detectors: Detectors;
  settings: DetectionSettings;
  options: JobOptions;
  release(): Promise<void>;
}

/**
 * --plate-precision=auto|int8|float|original (PLATE_MODEL_PRECISION, default auto): the plate file the
 * service would run on this CPU. An explicit int8 or float makes the files first if they are missing
 * (harness/derived-models.ts); auto, like the service, runs the original when they are not there.
 */
async function platesFor(args: EvalArgs, plateModel: string, manifests: Map<string, ModelManifest>, modelDirs: string[]): Promise<string> {
  const setting = (args['plate-precision'] ?? 'auto') as PlatePrecisionSetting;
  if (!PLATE_PRECISIONS.includes(setting)) throw new Error(`--plate-precision must be one of ${PLATE_PRECISIONS.join(', ')}`);
  if (setting === 'int8' || setting === 'float') await ensureDerivedPlateModels();
  const dirOf = (m: ModelManifest) => modelDirs.find((d) => fs.existsSync(path.join(d, m.file))) ?? modelDirs[0];
  const choice = await choosePlateModel({
    setting,
    plateModel,
    manifests,
    cpu: hostCpuFeatures(),
    fileState: (m) => modelFileState(dirOf(m), m),
    fileLocation: (m) => path.join(dirOf(m), m.file),
  });
  if (choice) console.error(`plate model ${choice.model} (${choice.precision}): ${choice.reason}`);
  return choice?.model ?? plateModel;
}

export async function loadEvalConfig(args: EvalArgs): Promise<EvalConfig> {
  const num = (key: string, fallback: number) => (args[key] !== undefined ? Number(args[key]) : fallback);
  const manifests = loadManifests();
  const modelDirs = [process.env.MODEL_DIR ?? path.resolve(repoRoot, '../shared/models'), process.env.EXTRA_MODEL_DIR, derivedModelDir].filter(Boolean) as string[];
  const fileOf = (m: ModelManifest) => {
    const file = modelDirs.map((d) => path.join(d, m.file)).find((f) => fs.existsSync(f));
    if (!file) throw new Error(`model file ${m.file} not found in ${modelDirs.join(', ')}`);
    return file;
  };
  // --profile=ultraface-tiled (or its old name legacy, as PROFILE takes it) starts from that profile; flags override either.
  const tiled = args.profile === 'ultraface-tiled' || args.profile === 'legacy';
  const base = tiled ? { ...defaults, ...ultrafaceTiledProfile } : defaults;
  const d: DetectionSettings = tiled ? ULTRAFACE_TILED_DETECTION_SETTINGS : DEFAULT_DETECTION_SETTINGS;
  // --faces=, --plates=, --objects= (any kind's slot) pick its model; none turns the kind off.
  const names = modelNames(base);
  for (const kind of detectionKinds()) names[kind.slot] = args[kind.slot] ?? names[kind.slot];
  names.plates = await platesFor(args, names.plates, manifests, modelDirs);
  for (const [slot, name] of Object.entries(names)) if (name === 'none') names[slot] = '';
  const detectors: Detectors = await loadDetectors(names, manifests, fileOf, { intraOpThreads: 1, executionProviders: ['cpu'] });
  const settings: DetectionSettings = {
    ...d,
    tiling: (args.tiling ?? d.tiling) as DetectionSettings['tiling'],
    // --face-tile-scale=, --plate-tile-scale=, …: each tiling kind's (src/kinds.ts).
    tileScale: Object.fromEntries(Object.entries(d.tileScale).map(([slot, scale]) => [slot, num(`${kindOf(slot)!.name}-tile-scale`, scale)])) as DetectionSettings['tileScale'],
    faceInputLongSide: num('face-long-side', d.faceInputLongSide),
    faceCropInput: num('face-crop-input', d.faceCropInput),
    tileOverlap: num('tile-overlap', d.tileOverlap),
    platesOnVehicles: (args.vehicles ?? (d.platesOnVehicles ? 'on' : 'off')) === 'on',
    maxVehicles: num('max-vehicles', d.maxVehicles),
    vehicleScore: num('vehicle-score', d.vehicleScore),
    plateCropBelowPx: args['plate-crop-below'] === 'off' ? Infinity : num('plate-crop-below', d.plateCropBelowPx),
    facesOnPersons: (args.persons ?? (d.facesOnPersons ? 'on' : 'off')) === 'on',
    maxPersons: num('max-persons', d.maxPersons),
    personScore: num('person-score', d.personScore),
    // --face-margin=, --plate-margin=, …: each kind blurred beyond its box.
    blurMargin: Object.fromEntries(Object.entries(d.blurMargin).map(([name, margin]) => [name, num(`${name}-margin`, margin)])) as DetectionSettings['blurMargin'],
    // --plausibility=off keeps every box (the rules before issue 21); the rest set one rule each.
    plausibility:
      args.plausibility === 'off'
        ? { face: { largeShare: 1, largeMinScore: 0 }, plate: { largeShare: 1, largeMinScore: 0, minAspect: 0, maxAspect: 100 } }
        : {
            face: { largeShare: num('face-large-share', d.plausibility.face.largeShare), largeMinScore: num('face-large-min-score', d.plausibility.face.largeMinScore) },
            plate: {
              largeShare: num('plate-large-share', d.plausibility.plate.largeShare),
              largeMinScore: num('plate-large-min-score', d.plausibility.plate.largeMinScore),
              minAspect: num('plate-min-aspect', d.plausibility.plate.minAspect),
              maxAspect: num('plate-max-aspect', d.plausibility.plate.maxAspect),
            },
          },
  };
  const options: JobOptions = {
    // Solid fill changes every covered pixel, so "unchanged" means "not covered by any blur region".
    blur: 'solid',
    shape: 'box',
    detect: Object.fromEntries(detectionKinds().map((k) => [k.slot, !!detectors[k.slot]])),
    // The service's defaults: each model's manifest threshold, else the kind's (src/kinds.ts); --face-threshold= etc. override.
    thresholds: Object.fromEntries(detectionKinds().map((k) => [k.name, num(`${k.name}-threshold`, detectors[k.slot]?.manifest.threshold ?? DEFAULT_THRESHOLDS[k.name])])),
    blurClasses: [],
    format: 'png',
    quality: 90,
  };
  const release = () => releaseDetectors(detectors);
  return { names, detectors, settings, options, release };
}
