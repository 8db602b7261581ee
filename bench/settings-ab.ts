// One setting at two or more values, alternated: the pool in a fresh process per run (process-wide
// settings such as ALLOCATOR_TUNING's glibc thresholds and POOL_THREAD_HEAP_MB's V8 flag cannot be
// unset), the same corpus and settings as `npm run bench`. Prints CPU, minor page faults, the pool
// threads' full garbage collections and memory per image for each run.
//   node -r ./bin/preload-threadpool.cjs dist/bench/settings-ab.js [--setting=ALLOCATOR_TUNING] [--values=false,true]
//     [--rounds=3] [--images=60] [--set=1080p|4K]
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { CORPUS_SIZES, poolRunStats } from './pool-run-stats.js';

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;

async function child(images: number, set: string) {
  const stats = await poolRunStats(images, set);
  process.stdout.write(`${JSON.stringify({ [setting]: process.env[setting], ...stats })}\n`);
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
if (!CORPUS_SIZES[set]) throw new Error(`--set must be one of ${Object.keys(CORPUS_SIZES).join(', ')}`);
if (process.argv.includes('--child')) await child(images, set);
else parent(Number(arg('rounds', '3')), images, set);
