import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/config.js';
import { defaultJobOptions } from '../job.js';
import { loadManifests } from '../models/manifest.js';
import { ensureModels } from '../models/pull.js';
import { poolOptionsFromConfig } from '../pool/pool-options.js';
import { ImagePool } from '../pool/image-pool.js';

const IMAGE_FILE = /\.(jpe?g|png|webp)$/i;

/** `pixveil process <dir>`: the same pool and pipeline as the service, without HTTP or a queue. */
export async function processDirectory(config: Config, dir: string, outDir: string) {
  const manifests = loadManifests(process.env.MODEL_MANIFEST_DIR);
  const needed = [config.faceModel, config.objectModel, config.plateModel].filter(Boolean).map((n) => manifests.get(n)!);
  await ensureModels(config.modelDir, needed, { pull: config.modelPullOnStart, progress: process.stderr, mirror: process.env.MODEL_MIRROR || undefined });
  const pool = new ImagePool(poolOptionsFromConfig(config));
  const options = defaultJobOptions(config);
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
