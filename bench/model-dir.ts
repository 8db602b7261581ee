// The models `npm run bench` runs: what the service would run on this machine. The service takes the
// plate model's int8 (VNNI) or float file when it sits in MODEL_DIR (PLATE_MODEL_PRECISION=auto);
// the shared folder never holds them, so by default the bench gathers the shipped files and the
// derived ones (made on first use, harness/derived-models.ts) into one folder of links. A MODEL_DIR
// set by the user is taken as it is: the bench then runs what a service on that folder would.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDerivedPlateModels } from '../harness/derived-models.js';
import { modelDir as sharedModelDir } from '../harness/fixtures.js';

export interface BenchModelDir {
  dir: string;
  /** Why the derived plate files are there or not, for the report. */
  derived: string;
}

export async function benchModelDir(): Promise<BenchModelDir> {
  if (process.env.MODEL_DIR) return { dir: process.env.MODEL_DIR, derived: `MODEL_DIR=${process.env.MODEL_DIR} as given` };
  let derivedDir: string;
  try {
    derivedDir = await ensureDerivedPlateModels();
  } catch (err) {
    return { dir: sharedModelDir, derived: `no derived plate files (${(err as Error).message}); the service would run the original` };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-bench-models-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  for (const from of [sharedModelDir, derivedDir]) {
    for (const name of fs.readdirSync(from)) {
      const target = path.join(dir, name);
      if (!fs.existsSync(target)) fs.symlinkSync(path.join(from, name), target);
    }
  }
  return { dir, derived: `shared models with the derived plate files of ${derivedDir}` };
}
