// `npm run bench`: how fast pixveil is on this machine, and how close to what its stages allow.
// Runs each profile (default: the current defaults, then PROFILE=light, the cheap models one pass each)
// one after the other in this one run, then prints one line per profile side by side. Per profile it
// also prints each detector's model alone beside its stage (bench/model-only.ts) and where the CPU
// went, per kind of thread, in the pool and in the HTTP server (bench/thread-cpu.ts).
// `--profiles=default,ultraface-tiled` picks profiles; `--quick` runs fewer images. Prints tables and
// writes bench/results/latest.json. Models come from MODEL_DIR (default ../shared/models with the plate
// model's derived files, bench/model-dir.ts), the plate file chosen as the service chooses it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultJobOptions, type JobOptions } from '../src/job.js';
import { pixelOps } from '../src/addon/index.js';
import { tuneAllocator } from '../src/addon/allocator.js';
import { loadConfig, type Config } from '../src/config/config.js';
import { configuredModels, defaultThresholds, modelNames } from '../src/models/configured.js';
import { loadDetectors, releaseDetectors } from '../src/models/load-detectors.js';
import { modelPath } from '../src/models/files.js';
import { loadManifests } from '../src/models/manifest.js';
import { resolvePlateModel, type PlateModelChoice } from '../src/models/plate-precision.js';
import { packageRoot } from '../src/paths.js';
import { processImage, type Detectors } from '../src/pipeline/process-image.js';
import { poolOptionsFromConfig } from '../src/pool/pool-options.js';
import { ImagePool } from '../src/pool/image-pool.js';
import { buildCorpus, type CorpusSet } from './corpus.js';
import { httpLoad } from './http-load.js';
import { runThroughPool } from './pool-load.js';
import { benchModelDir, type BenchModelDir } from './model-dir.js';
import { modelOnlyTimes } from './model-only.js';
import { batchedPoolRows } from './batched-pool.js';
import { benchStages, round } from './stages.js';
import { loadAverage, startCpuSplit, type CpuSplit } from './thread-cpu.js';
import { printVideoBench, videoBench } from './video.js';

const QUICK = process.argv.includes('--quick');
type Profile = Config['profile'];
const PROFILES = (process.argv.find((a) => a.startsWith('--profiles='))?.slice('--profiles='.length) ?? 'default,light').split(',') as Profile[];
const cores = os.availableParallelism();
let config: Config;
let manifests: ReturnType<typeof loadManifests>;
let options: JobOptions;
let plateChoice: PlateModelChoice | undefined;

/** The profile's settings as `pixveil serve` would resolve them here, the plate file included. */
async function useProfile(profile: Profile, models: BenchModelDir) {
  const loaded = loadConfig({ ...process.env, PROFILE: profile, MODEL_DIR: models.dir });
  manifests = loadManifests(loaded.modelManifestDir || undefined);
  ({ config, choice: plateChoice } = await resolvePlateModel(loaded, manifests));
  options = defaultJobOptions(config, defaultThresholds(configuredModels(config, manifests)));
}

const mainThreadDetectors = (intraOpThreads: number): Promise<Detectors> =>
  loadDetectors(modelNames(config), manifests, (m) => modelPath(config.modelDir, m), { intraOpThreads, executionProviders: [...config.executionProviders] });

/** The naive baseline: one image at a time on the main thread, sharp and onnxruntime with their own threading, no pool. */
async function naive(corpus: CorpusSet, count: number) {
  const detectors = await mainThreadDetectors(cores);
  const start = performance.now();
  for (let i = 0; i < count; i++) await processImage(corpus.images[i % corpus.images.length], options, detectors, { maxPixels: config.maxPixels }, config.detection);
  const seconds = (performance.now() - start) / 1000;
  return { images: count, images_per_second: round(count / seconds) };
}

/** The worker pool without HTTP or queue: threads × concurrency tasks in flight, and where this process's CPU went meanwhile. */
async function pooled(pool: ImagePool, corpus: CorpusSet, count: number): Promise<{ set: string; images: number; images_per_second: number; cpu: CpuSplit }> {
  const split = startCpuSplit(process.pid);
  const start = performance.now();
  await runThroughPool(pool, corpus.images, count, options);
  const seconds = (performance.now() - start) / 1000;
  return { set: corpus.name, images: count, images_per_second: round(count / seconds), cpu: split.finish(count) };
}

function printSplit(title: string, split: CpuSplit) {
  console.log(`\n${title}: ${split.process_cpu_ms_per_image} ms of CPU per image over ${split.images} images (asleep: share of the wall time a thread neither ran nor waited for a CPU)`);
  console.table(split.groups);
}

async function runProfile(profile: Profile, sets: CorpusSet[], models: BenchModelDir) {
  await useProfile(profile, models);
  const loadAtStart = loadAverage();
  const hd = sets[0];
  console.log(`\n=== profile ${profile} ===\npixveil bench: ${cores} cores, ${os.cpus()[0]?.model}, pixel ops ${pixelOps.implementation}, pool ${config.poolThreads} threads × ${config.tasksPerThread} tasks, models ${Object.values(modelNames(config)).filter(Boolean).join(' + ')}`);
  if (plateChoice) console.log(`plate model file: ${plateChoice.model} (${plateChoice.reason}); model folder: ${models.derived}`);

  const single = await mainThreadDetectors(1);
  const stages = await benchStages(hd, single, options, config.maxPixels, config.detection);
  const modelOnly = await modelOnlyTimes(stages.decoded, single, config.detection, options.thresholds, config.modelDir, QUICK ? 3 : 8);
  await releaseDetectors(single);
  console.log('\nSingle-thread stage times, one 1080p photo (tinybench):');
  console.table(stages.rows);
  console.log('Mean pipeline stage times over the 1080p corpus (ms):', stages.pipelineStages);
  console.log('\nEach model alone beside its full-frame stage, at the input size the pipeline uses (CPU ms, medians, alternated):');
  console.table(modelOnly);
  const limit = round((cores * 1000) / stages.singleThreadMsPerImage);
  console.log(`Single-thread pipeline: ${stages.singleThreadMsPerImage} ms/image → limit ${cores} cores × 1 / that = ${limit} images/s`);
  printSplit('Single thread, 1080p: CPU per kind of thread (the same work the pool does, one image at a time)', stages.singleThreadCpu);

  const naiveResult = await naive(hd, QUICK ? 10 : 30);
  console.log(`Naive baseline (main thread, one at a time): ${naiveResult.images_per_second} images/s`);

  const pool = new ImagePool(poolOptionsFromConfig(config));
  await pool.warmUp();
  const poolResults = [];
  for (const set of sets) poolResults.push(await pooled(pool, set, QUICK ? 24 : set.name === '4K' ? 40 : 120));
  await pool.close();
  console.log('\nPool in process (no HTTP, no queue):');
  console.table(poolResults.map(({ cpu: _cpu, ...row }) => row));
  printSplit('Pool, 1080p: CPU per kind of thread of this process', poolResults[0].cpu);
  const batched = await batchedPoolRows(config, hd, QUICK ? 24 : 120, poolResults[0].images_per_second, pooled);
  console.log('\nPool, 1080p, BATCH_IMAGES mode (one inference thread owns the sessions; images_per_run: images joined per session run):');
  console.table(batched.map(({ cpu: _cpu, images_per_run: perRun, ...row }) => ({ ...row, images_per_run: JSON.stringify(perRun) })));
  for (const row of batched) printSplit(`Pool, 1080p, BATCH_IMAGES=${row.batch_images}, ${row.intra_op_threads} onnxruntime thread(s) in the inference thread: CPU per kind of thread`, row.cpu);

  const http = await httpLoad(hd.images, QUICK ? 30 : 120, 16, { PROFILE: profile, MODEL_DIR: config.modelDir, MODEL_PULL_ON_START: 'false' });
  console.log('\nEnd to end through HTTP (1080p, until every result is stored):');
  const { latency_ms: latency, server_cpu: serverCpu, job_timing_means_ms: jobTimings, ...counts } = http;
  console.table([{ ...counts, p50_ms: latency.p50, p95_ms: latency.p95, p99_ms: latency.p99 }]);
  printSplit(`HTTP, the server process: CPU per kind of thread (the load generator, this process, used ${http.client_cpu_ms_per_image} ms per image more)`, serverCpu);
  console.log('Mean job timings the server recorded (ms):', jobTimings);

  const ratios = {
    end_to_end_over_limit: round(http.images_per_second / limit),
    end_to_end_over_naive: round(http.images_per_second / naiveResult.images_per_second),
    pool_over_limit: round(poolResults[0].images_per_second / limit),
    // CPU per image in the pool and the server against one thread doing the same work: what running
    // in parallel adds, which a loaded machine's wall times hide (above 1: overhead of the pool's own).
    pool_cpu_over_single: round(poolResults[0].cpu.process_cpu_ms_per_image / stages.singleThreadCpu.process_cpu_ms_per_image),
    server_cpu_over_single: round(http.server_cpu.process_cpu_ms_per_image / stages.singleThreadCpu.process_cpu_ms_per_image),
  };
  console.log('\nRatios:', ratios);
  return {
    profile,
    load_average: { start: loadAtStart, end: loadAverage() },
    settings: { pixel_ops: pixelOps.implementation, detection: config.detection, pool_threads: config.poolThreads, tasks_per_thread: config.tasksPerThread, models: modelNames(config), plate_precision: plateChoice?.precision, plate_reason: plateChoice?.reason },
    stages: stages.rows,
    pipeline_stage_means_ms: stages.pipelineStages,
    single_thread_ms_per_image: stages.singleThreadMsPerImage,
    single_thread_cpu: stages.singleThreadCpu,
    model_only_ms: Object.fromEntries(modelOnly.map((r) => [r.detector, r.model_only_ms])),
    model_vs_stage: modelOnly,
    limit_images_per_second: limit,
    naive: naiveResult,
    pool: poolResults,
    pool_batched: batched,
    end_to_end_http: http,
    ratios,
  };
}

async function main() {
  const hd = await buildCorpus(1920, 1080, '1080p');
  const sets = [hd, await buildCorpus(3840, 2160, '4K'), await buildCorpus(640, 480, '480p')];
  // As \`pixveil serve\` does at start (the HTTP server the bench starts does it for itself).
  const allocator = tuneAllocator(loadConfig(process.env).allocatorTuning);
  console.log(`allocator: ${allocator.detail}`);
  const models = await benchModelDir();
  const profiles = [];
  for (const profile of PROFILES) profiles.push(await runProfile(profile, sets, models));
  console.log(`\nSide by side (1080p; limit = cores ÷ single-thread ms per image; load average now ${loadAverage()}):`);
  console.table(
    profiles.map((p) => ({
      profile: p.profile,
      models: Object.values(p.settings.models).join(' + '),
      single_thread_ms: p.single_thread_ms_per_image,
      limit: p.limit_images_per_second,
      pool: p.pool[0].images_per_second,
      pool_batched: p.pool_batched.map((b) => b.images_per_second).join(' / '),
      http_e2e: p.end_to_end_http.images_per_second,
      p50_p95_p99: `${p.end_to_end_http.latency_ms.p50} / ${p.end_to_end_http.latency_ms.p95} / ${p.end_to_end_http.latency_ms.p99}`,
      naive: p.naive.images_per_second,
      pool_over_limit: p.ratios.pool_over_limit,
      e2e_over_limit: p.ratios.end_to_end_over_limit,
      e2e_over_naive: p.ratios.end_to_end_over_naive,
      pool_cpu_over_single: p.ratios.pool_cpu_over_single,
      faces_stage_over_model: p.model_vs_stage.find((r) => r.detector === 'faces')?.stage_over_model,
    })),
  );
  // Video: the default profile's models, through HTTP (bench/video.ts).
  const video = await videoBench({ quick: QUICK, env: { MODEL_DIR: config.modelDir } });
  printVideoBench(video);
  const report = { date: new Date().toISOString(), machine: { cores, cpu: os.cpus()[0]?.model, node: process.version }, ...profiles[0], profiles, video };
  const out = path.join(packageRoot, 'bench', 'results', 'latest.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
}

/**
 * The single-thread reference runs on this process's main thread, whose heap exists before any
 * setting is read: rerun with the heap a pool thread gets (POOL_THREAD_HEAP_MB), so the limit is not
 * lowered by full collections the pool no longer runs. Returns whether this process is the rerun's parent.
 */
function rerunWithPoolThreadHeap(): boolean {
  const heapMb = loadConfig(process.env).poolThreadHeapMb;
  if (heapMb <= 0 || process.execArgv.some((a) => a.startsWith('--initial-old-space-size'))) return false;
  const child = spawnSync(process.execPath, [`--initial-old-space-size=${heapMb}`, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exitCode = child.status ?? 1;
  return true;
}

if (!rerunWithPoolThreadHeap()) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
