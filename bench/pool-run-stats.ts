// One pool run in this process, measured: the pool made from the environment's settings (as
// `pixveil serve` would make it), warmed, then `images` images of the corpus through it. What the
// process spent per image (CPU, minor page faults, the pool threads' full collections) and its memory.
// Used by the benches that start fresh processes per run (settings-ab.ts, pool-side-by-side.ts).
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tuneAllocator } from '../src/addon/allocator.js';
import { loadConfig } from '../src/config/config.js';
import { defaultJobOptions } from '../src/job.js';
import { configuredModels, defaultThresholds } from '../src/models/configured.js';
import { loadManifests } from '../src/models/manifest.js';
import { resolvePlateModel } from '../src/models/plate-precision.js';
import { ImagePool } from '../src/pool/image-pool.js';
import { poolOptionsFromConfig } from '../src/pool/pool-options.js';
import { buildCorpus } from './corpus.js';
import { benchModelDir } from './model-dir.js';
import { runThroughPool } from './pool-load.js';
import { startCpuSplit } from './thread-cpu.js';
import { round } from './stages.js';

export const CORPUS_SIZES: Record<string, [number, number]> = { '1080p': [1920, 1080], '4K': [3840, 2160] };

export interface PoolRunStats {
  allocator: boolean;
  thread_heap: boolean;
  pool_threads: number;
  images_per_second: number;
  cpu_ms_per_image: number;
  minor_faults_per_image: number;
  full_gcs_per_image: number;
  rss_mb: number;
  peak_rss_mb: number;
}

/** Minor faults of this process so far (/proc/self/stat field 10). */
function minorFaults(): number {
  return Number(fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[7]);
}

function statusMb(field: string): number {
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

/** `onWarm` runs once the pool is warm, before the measured run (a side-by-side parent lines its children up there). */
export async function poolRunStats(images: number, set: string, onWarm: () => Promise<void> = async () => {}): Promise<PoolRunStats> {
  const size = CORPUS_SIZES[set];
  if (!size) throw new Error(`set must be one of ${Object.keys(CORPUS_SIZES).join(', ')}`);
  const models = await benchModelDir();
  const loaded = loadConfig({ ...process.env, MODEL_DIR: models.dir });
  const tuning = tuneAllocator(loaded.allocatorTuning);
  const manifests = loadManifests(loaded.modelManifestDir || undefined);
  const { config } = await resolvePlateModel(loaded, manifests);
  const options = defaultJobOptions(config, defaultThresholds(configuredModels(config, manifests)));
  const corpus = await buildCorpus(size[0], size[1], set);
  const pool = new ImagePool(poolOptionsFromConfig(config));
  await pool.warmUp();
  const run = (count: number) => runThroughPool(pool, corpus.images, count, options);
  await run(pool.capacity * 2);
  // Each thread's count once (warm-up tasks can land twice on one thread).
  const collections = async () => {
    const byThread = new Map((await pool.warmUp()).map((r) => [r.threadId, r.majorCollections]));
    return [...byThread.values()].reduce((sum, n) => sum + n, 0);
  };
  const collectionsBefore = await collections();
  await onWarm();
  const faults = minorFaults();
  const split = startCpuSplit(process.pid);
  const start = performance.now();
  await run(images);
  const seconds = (performance.now() - start) / 1000;
  const cpu = split.finish(images);
  const stats: PoolRunStats = {
    allocator: tuning.applied,
    thread_heap: pool.heap.applied,
    pool_threads: pool.threads,
    images_per_second: round(images / seconds),
    cpu_ms_per_image: cpu.process_cpu_ms_per_image,
    minor_faults_per_image: Math.round((minorFaults() - faults) / images),
    full_gcs_per_image: round((await collections() - collectionsBefore) / images),
    rss_mb: statusMb('VmRSS'),
    peak_rss_mb: statusMb('VmHWM'),
  };
  await pool.close();
  return stats;
}
