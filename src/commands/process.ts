import fs from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, type Config } from '../config/config.js';
import { defaultJobOptions } from '../job.js';
import { configuredModels, defaultThresholds, knownManifests, presentModels } from '../models/configured.js';
import { ensureModels } from '../models/pull.js';
import { poolOptionsFromConfig } from '../pool/pool-options.js';
import { ImagePool } from '../pool/image-pool.js';

const IMAGE_FILE = /\.(jpe?g|png|webp)$/i;

/** `pixveil process <dir>`: the same pool and pipeline as the service, without HTTP or a queue. */
export async function processDirectory(config: Config, dir: string, outDir: string) {
  const models = configuredModels(config, knownManifests(config));
  const needed = presentModels(models);
  await ensureModels(config.modelDir, needed, { pull: config.modelPullOnStart, progress: process.stderr, mirror: config.modelMirror || undefined });
  const pool = new ImagePool(poolOptionsFromConfig(config));
  const options = defaultJobOptions(config, defaultThresholds(models));
  await fs.mkdir(outDir, { recursive: true });
  const files = (await fs.readdir(dir)).filter((f) => IMAGE_FILE.test(f)).sort();
  const started = Date.now();
  let failed = 0;
  try {
    await Promise.all(
      files.map(async (file) => {
        const outcome = await pool.run(await fs.readFile(path.join(dir, file)), options);
        const stem = path.parse(file).name;
        if (!outcome.ok) {
          failed++;
          console.error(`${file}: ${outcome.code}: ${outcome.message}`);
          return;
        }
        await fs.writeFile(path.join(outDir, `${stem}.${outcome.format}`), Buffer.from(outcome.image));
        const { image: _bytes, ...record } = outcome;
        await fs.writeFile(path.join(outDir, `${stem}.json`), JSON.stringify({ file, ...record }, null, 2));
      }),
    );
  } finally {
    await pool.close();
  }
  const seconds = (Date.now() - started) / 1000;
  return { input: dir, output: outDir, images: files.length, failed, seconds, images_per_second: Math.round((files.length / seconds) * 100) / 100 };
}

/** `pixveil process <dir> [out]`: prints the summary; exit code 1 when any image failed. */
export async function runProcessCommand(config: Config, args: string[]): Promise<void> {
  const [dir, out] = args;
  if (!dir) throw new ConfigError('Usage: pixveil process <dir> [out]');
  await fs.access(dir);
  const summary = await processDirectory(config, dir, out ?? path.join(dir, 'anonymized'));
  console.log(JSON.stringify(summary, null, 2));
  if (summary.failed > 0) process.exitCode = 1;
}
