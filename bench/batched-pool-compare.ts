// The pool with and without BATCH_IMAGES on the 1080p corpus, configurations alternated over rounds
// (a fresh pool each, warm-up not timed), median images/s: a steadier comparison than the one row
// `npm run bench` adds, for a shared machine. `node dist/bench/batched-pool-compare.js [--rounds=3] [--images=30]`
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/config.js';
import { configuredModels, defaultThresholds } from '../src/models/configured.js';
import { loadManifests } from '../src/models/manifest.js';
import { defaultJobOptions } from '../src/job.js';
import { ImagePool, type ImagePoolOptions } from '../src/pool/image-pool.js';
import { poolOptionsFromConfig } from '../src/pool/pool-options.js';
import { modelDir } from '../harness/fixtures.js';
import { BENCH_BATCH_IMAGES } from './batched-pool.js';
import { buildCorpus } from './corpus.js';
import { round } from './stages.js';
import { loadAverage } from './thread-cpu.js';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const ROUNDS = arg('rounds', 3);
const IMAGES = arg('images', 30);

async function main() {
  const config = loadConfig({ ...process.env, MODEL_DIR: process.env.MODEL_DIR ?? modelDir });
  const options = defaultJobOptions(config, defaultThresholds(configuredModels(config, loadManifests(config.modelManifestDir || undefined))));
  const corpus = await buildCorpus(1920, 1080, '1080p');
  const base = poolOptionsFromConfig({ ...config, batchImages: 1 });
  const tasks = Math.max(base.concurrencyPerThread, Math.ceil(BENCH_BATCH_IMAGES / base.threads));
  const batch = { images: BENCH_BATCH_IMAGES, waitMs: config.batchWaitMs };
  const configs: Array<{ name: string; options: ImagePoolOptions }> = [
    { name: 'unbatched', options: base },
    { name: `BATCH_IMAGES=${batch.images}, intra-op ${config.ortIntraOpThreads}`, options: { ...base, concurrencyPerThread: tasks, batch } },
    { name: `BATCH_IMAGES=${batch.images}, intra-op ${config.poolThreads}`, options: { ...base, concurrencyPerThread: tasks, batch, intraOpThreads: config.poolThreads } },
  ];
  const rates = new Map<string, number[]>(configs.map((c) => [c.name, []]));
  const perRun = new Map<string, string>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of configs) {
      const pool = new ImagePool(c.options);
      try {
        await pool.warmUp();
        let next = 0;
        const start = performance.now();
        await Promise.all(
          Array.from({ length: pool.capacity * 2 }, async () => {
            while (next < IMAGES) {
              const outcome = await pool.run(Buffer.from(corpus.images[next++ % corpus.images.length]), options);
              if (!outcome.ok) throw new Error(`${outcome.code}: ${outcome.message}`);
            }
          }),
        );
        rates.get(c.name)!.push(IMAGES / ((performance.now() - start) / 1000));
        const stats = await pool.inferenceStats();
        if (stats) perRun.set(c.name, Object.entries(stats).map(([m, s]) => `${m} ${round(s.requests / s.runs)}`).join(', '));
      } finally {
        await pool.close();
      }
    }
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const baseline = median(rates.get('unbatched')!);
  console.log(`pool ${base.threads} threads × ${base.concurrencyPerThread} tasks (batched: × ${tasks}), ${IMAGES} 1080p images per run, ${ROUNDS} rounds alternated, ${os.cpus()[0]?.model}, load average ${loadAverage()}:`);
  console.table(configs.map((c) => ({ pool: c.name, median_images_per_second: round(median(rates.get(c.name)!)), all: rates.get(c.name)!.map(round).join(' / '), over_unbatched: round(median(rates.get(c.name)!) / baseline), images_per_run: perRun.get(c.name) ?? '' })));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
