// Which file of the plate model runs: the shipped one, its float rebuild or its int8 quantization
// (scripts/quantize/), chosen once at start from PLATE_MODEL_PRECISION and the CPU.
import { ConfigError, type Config } from '../config/config.js';
import { hostCpuFeatures, type CpuFeatures } from './cpu-features.js';
import { derivedVariants, type DerivedPrecision } from './derived.js';
import { modelFileState, modelPath, type ModelFileState } from './files.js';
import type { ModelManifest } from './manifest.js';

export const PLATE_PRECISIONS = ['auto', 'int8', 'float', 'original'] as const;
export type PlatePrecisionSetting = (typeof PLATE_PRECISIONS)[number];

export interface PlateModelChoice {
  /** The manifest the pool loads (PLATE_MODEL itself, or one of its derived variants). */
  model: string;
  precision: 'original' | DerivedPrecision;
  setting: PlatePrecisionSetting;
  /** The CPU flags that decided (cpu-features.ts). */
  cpu: string;
  /** One line: why this file, for the start-up log and /v1/health. */
  reason: string;
  /** auto wanted a derived file that is not usable, so the original runs (said once in the log). */
  fallback: boolean;
}

export interface PlateChoiceInput {
  setting: PlatePrecisionSetting;
  /** PLATE_MODEL: the source model's manifest name. */
  plateModel: string;
  manifests: Map<string, ModelManifest>;
  cpu: CpuFeatures;
  /** State of a derived manifest's file (files.ts modelFileState); where it is, for messages. */
  fileState(manifest: ModelManifest): Promise<ModelFileState>;
  fileLocation(manifest: ModelManifest): string;
}

/**
 * On a CPU with VNNI the int8 file measured fastest (README "Plate model: float and int8 files": 23.3
 * against 26.0 ms float and 31.8 ms shipped, CPU ms, one thread, AVX-512 VNNI EPYC). Without VNNI
 * onnxruntime's int8 convolutions lose the instruction they win by, and the float rebuild, which beat
 * the shipped ConvInteger file even with VNNI, needs none: it is the choice there.
 */
export function preferredPrecision(cpu: CpuFeatures): DerivedPrecision {
  return cpu.vnni ? 'int8' : 'float';
}

/** Throws ConfigError (one line, exit 2 at start) when an explicit precision cannot be had. */
export async function choosePlateModel(input: PlateChoiceInput): Promise<PlateModelChoice | undefined> {
  const { setting, plateModel, manifests, cpu } = input;
  if (!plateModel) return undefined;
  const base = { setting, cpu: cpu.evidence };
  const original = (reason: string, fallback = false): PlateModelChoice => ({ ...base, model: plateModel, precision: 'original', reason, fallback });
  if (setting === 'original') return original('PLATE_MODEL_PRECISION=original');
  const variants = derivedVariants(manifests, plateModel);
  const wanted = setting === 'auto' ? preferredPrecision(cpu) : setting;
  const variant = variants[wanted];
  if (!variant) {
    if (setting === 'auto') return original(`no float or int8 file is made from ${plateModel}`);
    const having = [...manifests.values()].filter((m) => m.derived).map((m) => m.derived!.from);
    throw new ConfigError(`PLATE_MODEL_PRECISION=${setting} needs a ${setting} file made from PLATE_MODEL=${plateModel}, and there is none (made for: ${[...new Set(having)].join(', ') || 'no model'}); use PLATE_MODEL_PRECISION=auto or original`);
  }
  const state = await input.fileState(variant);
  if (state !== 'ok') {
    const problem = `${input.fileLocation(variant)} is ${state === 'missing' ? 'missing' : 'stale (its provenance record does not match it or its source)'}; make it with "pixveil models quantize"`;
    if (setting !== 'auto') throw new ConfigError(`PLATE_MODEL_PRECISION=${setting}: ${problem}`);
    return original(`auto would run ${wanted} on this CPU (${cpu.evidence}) but ${problem}; running the original ${plateModel}`, true);
  }
  const why = setting !== 'auto' ? `PLATE_MODEL_PRECISION=${setting}` : cpu.vnni ? `auto: this CPU has ${cpu.evidence}, where int8 runs fastest` : `auto: no VNNI on this CPU (${cpu.evidence}), so the float rebuild`;
  return { ...base, model: variant.name, precision: wanted, reason: why, fallback: false };
}

/** The choice for this node's settings and CPU, and the settings with PLATE_MODEL naming what runs. */
export async function resolvePlateModel(
  config: Config,
  manifests: Map<string, ModelManifest>,
  cpu: CpuFeatures = hostCpuFeatures(),
): Promise<{ config: Config; choice: PlateModelChoice | undefined }> {
  const choice = await choosePlateModel({
    setting: config.platePrecision,
    plateModel: config.plateModel,
    manifests,
    cpu,
    fileState: (m) => modelFileState(config.modelDir, m),
    fileLocation: (m) => modelPath(config.modelDir, m),
  });
  if (!choice || choice.model === config.plateModel) return { config, choice };
  return { config: Object.freeze({ ...config, plateModel: choice.model }), choice };
}

/** The one start-up log line's fields. */
export function choiceFields(choice: PlateModelChoice): Record<string, string | boolean> {
  return { model: choice.model, precision: choice.precision, setting: choice.setting, cpu: choice.cpu, reason: choice.reason };
}
