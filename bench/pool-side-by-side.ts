// Does running two pipelines at once cost CPU, and is it the pool's doing or the machine's? Alternated
// rounds of fresh processes, each through the same corpus:
//   alone         one process, one pool thread (POOL_THREADS=1): one pipeline on the machine;
//   side by side  two such processes started together, measured over the same window (each waits,
//                 warm, until both are ready): two pipelines that share nothing but the machine;
//   one pool      one process, two pool threads (POOL_THREADS=2): what the service runs.
// If the pool added CPU of its own, "one pool" would cost more per image than "side by side"; what
// "side by side" costs over "alone" is the price of two busy cores (caches, memory bandwidth, the
// host's scheduling of the virtual CPUs), which no change inside the process removes.
//   node -r ./bin/preload-threadpool.cjs dist/bench/pool-side-by-side.js [--rounds=2] [--images=40] [--set=1080p|4K]
import { spawn } from 'node:child_process';
import os from 'node:os';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CORPUS_SIZES, poolRunStats, type PoolRunStats } from './pool-run-stats.js';
import { round } from './stages.js';

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;

/** Child: warm up, say so, wait for the parent's go, run, print the stats as the last line. */
async function child(images: number, set: string): Promise<void> {
  const lines = readline.createInterface({ input: process.stdin });
  const go = new Promise<void>((resolve) => lines.once('line', () => resolve()));
  const stats = await poolRunStats(images, set, async () => {
    process.stdout.write('warm\n');
    await go;
  });
  lines.close();
  process.stdout.write(`${JSON.stringify(stats)}\n`);
}

interface Started {
  warm: Promise<void>;
  go(): void;
  done: Promise<PoolRunStats>;
}

function start(poolThreads: number, images: number, set: string): Started {
  const proc = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', `--images=${images}`, `--set=${set}`], {
    env: { ...process.env, POOL_THREADS: String(poolThreads) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const out = readline.createInterface({ input: proc.stdout! });
  let last = '';
  let warmed!: () => void;
  const warm = new Promise<void>((resolve) => (warmed = resolve));
  out.on('line', (line) => {
    if (line === 'warm') warmed();
    else last = line;
  });
  const done = new Promise<PoolRunStats>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(last) as PoolRunStats) : reject(new Error(`bench child exited with ${code}`))));
  });
  return { warm, go: () => proc.stdin!.end('go\n'), done };
}

/** Starts `count` processes, lets them run only once all are warm, and returns what each measured. */
async function together(count: number, poolThreads: number, images: number, set: string): Promise<PoolRunStats[]> {
  const procs = Array.from({ length: count }, () => start(poolThreads, images, set));
  await Promise.all(procs.map((p) => p.warm));
  for (const p of procs) p.go();
  return Promise.all(procs.map((p) => p.done));
}

async function parent(rounds: number, images: number, set: string): Promise<void> {
  console.log(`Pipelines side by side: ${rounds} alternated rounds of ${images} ${set} images per process (${os.availableParallelism()} cores, ${os.cpus()[0]?.model})`);
  const rows: Array<Record<string, unknown>> = [];
  const cpu: Record<string, number[]> = { alone: [], 'side by side': [], 'one pool': [] };
  const rate: Record<string, number[]> = { alone: [], 'side by side': [], 'one pool': [] };
  for (let r = 1; r <= rounds; r++) {
    for (const [name, count, threads] of [['alone', 1, 1], ['side by side', 2, 1], ['one pool', 1, 2]] as const) {
      const runs = await together(count, threads, images, set);
      for (const s of runs) {
        rows.push({ round: r, run: name, process_pool_threads: s.pool_threads, images_per_second: s.images_per_second, cpu_ms_per_image: s.cpu_ms_per_image, minor_faults_per_image: s.minor_faults_per_image, full_gcs_per_image: s.full_gcs_per_image });
        cpu[name].push(s.cpu_ms_per_image);
      }
      // Side by side, the machine's rate is both processes' together (their measured windows coincide).
      rate[name].push(round(runs.reduce((sum, s) => sum + s.images_per_second, 0)));
    }
  }
  console.table(rows);
  const mean = (xs: number[]) => round(xs.reduce((a, b) => a + b, 0) / xs.length);
  const summary = Object.keys(cpu).map((name) => ({ run: name, cpu_ms_per_image: mean(cpu[name]), machine_images_per_second: mean(rate[name]) }));
  console.table(summary);
  const [alone, sideBySide, onePool] = summary;
  console.log(`Two pipelines at once cost ${round(sideBySide.cpu_ms_per_image / alone.cpu_ms_per_image)}× the CPU per image of one alone; ` +
    `the pool's two threads ${round(onePool.cpu_ms_per_image / sideBySide.cpu_ms_per_image)}× two separate processes' (1 = the pool adds nothing).`);
}

const images = Number(arg('images', '40'));
const set = arg('set', '1080p');
if (!CORPUS_SIZES[set]) throw new Error(`--set must be one of ${Object.keys(CORPUS_SIZES).join(', ')}`);
if (process.argv.includes('--child')) await child(images, set);
else await parent(Number(arg('rounds', '2')), images, set);
