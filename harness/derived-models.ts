// The plate model's float and int8 files (scripts/quantize/) for tests and `npm run eval`: made on
// first use into .cache/derived-models (DERIVED_MODEL_DIR overrides) from the shipped file in
// MODEL_DIR, calibrated on the fixtures, with the pinned Python packages in .cache/quantize-venv
// (QUANTIZE_PYTHON: a Python that already has them). Never written into ../shared.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { runQuantizeCommand } from '../src/commands/quantize.js';
import { knownManifests } from '../src/models/configured.js';
import { derivedVariants } from '../src/models/derived.js';
import { modelFileState } from '../src/models/files.js';
import { packageRoot } from '../src/paths.js';
import { fixtureDir, modelDir } from './photos.js';

export const derivedModelDir = process.env.DERIVED_MODEL_DIR ?? path.join(packageRoot, '.cache', 'derived-models');
const venv = path.join(packageRoot, '.cache', 'quantize-venv');
const requirements = path.join(packageRoot, 'scripts', 'quantize', 'requirements.txt');

function hasPackages(python: string): boolean {
  try {
    execFileSync(python, ['-c', 'import onnxruntime, onnx, PIL, numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A Python with scripts/quantize/requirements.txt: QUANTIZE_PYTHON, else a venv made here once. */
export function quantizePython(): string {
  if (process.env.QUANTIZE_PYTHON) return process.env.QUANTIZE_PYTHON;
  const python = path.join(venv, 'bin', 'python');
  if (fs.existsSync(python) && hasPackages(python)) return python;
  try {
    execFileSync('python3', ['-m', 'venv', venv], { stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync(python, ['-m', 'pip', 'install', '-q', '-r', requirements], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const detail = (err as Error & { stderr?: Buffer }).stderr?.toString().trim().split('\n').pop() ?? (err as Error).message;
    throw new Error(`cannot set up the quantization Python in ${venv} (${detail}): needs python3 with venv ("apt-get install python3-venv") and pip's index, or QUANTIZE_PYTHON=<python with ${requirements}>`);
  }
  return python;
}

async function plateFilesReady(dir: string): Promise<boolean> {
  const variants = derivedVariants(knownManifests({ modelManifestDir: '' }), 'yolov9-t-plates');
  for (const m of [variants.float, variants.int8]) if (!m || (await modelFileState(dir, m)) !== 'ok') return false;
  return true;
}

/** The folder holding yolov9-t-plates-{float,int8}.onnx and their provenance records, made if missing or stale. */
export async function ensureDerivedPlateModels(): Promise<string> {
  if (await plateFilesReady(derivedModelDir)) return derivedModelDir;
  const config = loadConfig({ MODEL_DIR: modelDir, MODEL_PULL_ON_START: 'false' });
  // The command's lines go to stdout; a test's stdout is its TAP stream, so they go to stderr here.
  const log = console.log;
  console.log = (...args: unknown[]) => console.error(...args);
  try {
    await runQuantizeCommand(config, { out: derivedModelDir, photos: fixtureDir, python: quantizePython() });
  } finally {
    console.log = log;
  }
  return derivedModelDir;
}
