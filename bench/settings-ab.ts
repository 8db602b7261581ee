// One setting at two or more values, alternated: the pool in a fresh process per run (process-wide
// settings such as ALLOCATOR_TUNING's glibc thresholds and POOL_THREAD_HEAP_MB's V8 flag cannot be
// unset), the same corpus and settings as `npm run bench`. Prints CPU, minor page faults, the pool
// threads' full garbage collections and memory per image for each run.
//   node -r ./bin/preload-threadpool.cjs dist/bench/settings-ab.js [--setting=ALLOCATOR_TUNING] [--values=false,true]
//     [--rounds=3] [--images=60] [--set=1080p|4K]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
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

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const SIZES: Record<string, [number, number]> = { '1080p': [1920, 1080], '4K': [3840, 2160] };

/** Minor faults of this process so far (/proc/self/stat field 10). */
function minorFaults(): number {
  return Number(fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[7]);
}

function statusMb(field: string): number {
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

async function child(images: number, set: string) {
  const models = await benchModelDir();
  const loaded = loadConfig({ ...process.env, MODEL_DIR: models.dir });
  const tuning = tuneAllocator(loaded.allocatorTuning);
  const manifests = loadManifests(loaded.modelManifestDir || undefined);
  const { config } = await resolvePlateModel(loaded, manifests);
  const options = defaultJobOptions(config, defaultThresholds(configuredModels(config, manifests)));
  const [w, h] = SIZES[set];
  const corpus = await buildCorpus(w, h, set);
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
  const faults = minorFaults();
  const split = startCpuSplit(process.pid);
  const start = performance.now();
  await run(images);
  const seconds = (performance.now() - start) / 1000;
  const cpu = split.finish(images);
  const row = {
    [setting]: process.env[setting],
    allocator: tuning.applied,
    thread_heap: pool.heap.applied,
    images_per_second: round(images / seconds),
    cpu_ms_per_image: cpu.process_cpu_ms_per_image,
    minor_faults_per_image: Math.round((minorFaults() - faults) / images),
    full_gcs_per_image: round((await collections() - collectionsBefore) / images),
    rss_mb: statusMb('VmRSS'),
    peak_rss_mb: statusMb('VmHWM'),
  };
  await pool.close();
  process.stdout.write(`${JSON.stringify(row)}\n`);
}

function parent(rounds: number, images: number, set: string) {
  console.log(`${setting} at ${values.join(', ')}, alternated, ${rounds} rounds of ${images} ${set} images through the pool (${os.availableParallelism()} cores, ${os.cpus()[0]?.model})`);
  const rows = [];
  for (let r = 0; r < rounds; r++) {
    for (const value of values) {
      const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', `--setting=${setting}`, `--images=${images}`, `--set=${set}`], {
        env: { ...process.env, [setting]: value },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      rows.push({ round: r + 1, ...JSON.parse(out.trim().split('\n').pop()!) });
    }
  }
  console.table(rows);
}

const setting = arg('setting', 'ALLOCATOR_TUNING');
const values = arg('values', 'false,true').split(',');
const images = Number(arg('images', '60'));
const set = arg('set', '1080p');
if (!SIZES[set]) throw new Error(`--set must be one of ${Object.keys(SIZES).join(', ')}`);
if (process.argv.includes('--child')) await child(images, set);
else parent(Number(arg('rounds', '3')), images, set);
