// `pixveil models quantize`: makes the plate model's float and int8 files (scripts/quantize/) from the
// shipped one, beside it in MODEL_DIR (or --out), then checks them as start-up will.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ConfigError, type Config } from '../config/config.js';
import { knownManifests } from '../models/configured.js';
import { derivedVariants } from '../models/derived.js';
import { modelFileState, modelPath } from '../models/files.js';
import { ensureModels } from '../models/pull.js';
import { packageRoot } from '../paths.js';

export interface QuantizeFlags {
  /** Where the files go (default MODEL_DIR, where the service looks for them). */
  out?: string;
  /** The folder the calibration list's paths are relative to (default ../shared/fixtures beside the checkout). */
  photos?: string;
  /** A list of calibration photos, one path a line (default scripts/quantize/calibration.txt). */
  calibration?: string;
  /** The Python with scripts/quantize/requirements.txt installed (default python3). */
  python?: string;
}

export const quantizeScript = path.join(packageRoot, 'scripts', 'quantize', 'plate_models.py');
export const defaultCalibrationPhotos = path.join(packageRoot, '..', 'shared', 'fixtures');

function run(python: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    // The script's lines go to stderr: stdout is for the command's own result lines.
    const child = spawn(python, args, { stdio: ['ignore', 2, 2] });
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new ConfigError(`${python} not found: install Python 3 and "pip install -r ${path.join('scripts', 'quantize', 'requirements.txt')}", or pass --python <path>`) : err),
    );
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

export async function runQuantizeCommand(config: Config, flags: QuantizeFlags): Promise<void> {
  const manifests = knownManifests(config);
  const source = manifests.get('yolov9-t-plates');
  const variants = derivedVariants(manifests, 'yolov9-t-plates');
  if (!source || !variants.float || !variants.int8) throw new ConfigError('The yolov9-t-plates manifests (models/yolov9-t-plates{,-float,-int8}.json) are missing from this installation');
  // The source comes from MODEL_DIR, pulled first when missing; its sha256 is checked on the way.
  await ensureModels(config.modelDir, [source], { pull: config.modelPullOnStart, progress: process.stderr, mirror: config.modelMirror || undefined });
  const out = path.resolve(flags.out ?? config.modelDir);
  const args = [
    quantizeScript,
    '--source', modelPath(config.modelDir, source),
    '--source-sha256', source.sha256,
    '--out-dir', out,
    '--photos', path.resolve(flags.photos ?? defaultCalibrationPhotos),
    ...(flags.calibration ? ['--calibration', path.resolve(flags.calibration)] : []),
  ];
  const python = flags.python ?? 'python3';
  const code = await run(python, args);
  if (code !== 0) throw new ConfigError(`${path.relative(packageRoot, quantizeScript)} failed (exit ${code}); its message is above`);
  for (const m of [variants.float, variants.int8]) {
    const state = await modelFileState(out, m);
    if (state !== 'ok') throw new ConfigError(`${modelPath(out, m)} is ${state} after the script ran`);
    console.log(`${m.name.padEnd(22)} ok      ${modelPath(out, m)}`);
  }
  if (out !== path.resolve(config.modelDir)) console.log(`the service looks for them in MODEL_DIR=${config.modelDir}: move them there (with their .provenance.json) or set MODEL_DIR=${out} with the other models beside them`);
}
