// Issue 16's hostile-input run: `npm run bench:fuzz [-- --count 10000 --seed 16 --only 12,40 --header-lies 8]`.
// First, issue 21's header-lie bombs: 8 JPEGs claiming MAX_PIXELS with 16×16 of data at once (and PNG,
// WebP and over-the-limit ones), under the same RSS bound.
// Seeded image mutations (JPEG, PNG, WebP) through the HTTP API and protocol garbage on raw
// sockets (HTTP framing, multipart, WebSocket frames) against one `pixveil serve` process. Prints
// the outcome counts per family and writes bench/results/fuzz.json; exits 1 on any violation.
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../src/paths.js';
import { formatReport, reportProblems, runFuzz } from '../harness/fuzz-run.js';

function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1] : fallback;
}

const count = Number(arg('count', '10000'));
const seed = Number(arg('seed', '16'));
const headerLieBombs = Number(arg('header-lies', '8'));
const only = arg('only', '') ? arg('only', '').split(',').map(Number) : undefined;
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed) || !Number.isInteger(headerLieBombs) || headerLieBombs < 0) {
  console.error('usage: node dist/bench/fuzz.js [--count N] [--seed S] [--only i,j,…] [--header-lies N]');
  process.exit(2);
}

const report = await runFuzz({ count, seed, only, headerLieBombs, log: (line) => console.log(line) });
console.log(formatReport(report));
const problems = reportProblems(report);
const out = path.join(packageRoot, 'bench', 'results', 'fuzz.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ command: `npm run bench:fuzz -- --count ${count} --seed ${seed} --header-lies ${headerLieBombs}`, date: new Date().toISOString(), problems, ...report }, null, 2));
console.log(`wrote ${path.relative(process.cwd(), out)}`);
if (problems.length) {
  console.error(`FAILED:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
