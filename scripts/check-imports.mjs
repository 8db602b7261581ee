#!/usr/bin/env node
// Import-graph check for src/: fails on any import cycle and on any import that runs back up the
// layers below. Reads the TypeScript import/export-from statements (type-only ones included: a
// type import is still a dependency a reader has to follow). `npm run check:imports`; CI runs it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');

// Lowest first. A module may import its own layer and the ones before it, never one after it.
// Files at the top of src/ are named by file, folders by folder.
const LAYERS = [
  ['errors.ts', 'image-format.ts', 'video-format.ts', 'job.ts', 'kinds.ts', 'paths.ts', 'schema'], // the words every layer shares (kinds.ts: the detection kinds; schema/: their TypeBox schemas)
  ['config'],
  ['observability'],
  ['redis'],
  ['addon'],
  ['storage'],
  ['models'],
  ['pipeline'],
  ['queue'],
  ['webhooks'],
  ['pool'],
  ['video'], // video jobs: ffmpeg in and out, frames through the pool, the tracker (video/tracking/)
  ['auth'],
  ['ingest'],
  ['commands'],
  ['cli.ts'],
];

// Cycles known and being removed elsewhere, as the sorted list of their files. Each entry says why.
const ALLOWED_CYCLES = [];

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return walk(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

const IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/gm;

function importsOf(file) {
  const text = fs.readFileSync(file, 'utf8');
  const out = new Set();
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
    if (target.startsWith(src + path.sep)) out.add(path.relative(src, target));
  }
  return [...out];
}

function layerOf(rel) {
  const head = rel.split(path.sep)[0];
  const i = LAYERS.findIndex((names) => names.includes(head));
  return i;
}

const files = walk(src).map((f) => path.relative(src, f)).sort();
const graph = new Map(files.map((f) => [f, importsOf(path.join(src, f))]));
const problems = [];

for (const [from, targets] of graph) {
  const fromLayer = layerOf(from);
  if (fromLayer < 0) problems.push(`${from}: not in any layer; add its folder to LAYERS in scripts/check-imports.mjs`);
  for (const to of targets) {
    if (!graph.has(to)) problems.push(`${from}: imports ${to}, which does not exist`);
    const toLayer = layerOf(to);
    if (fromLayer >= 0 && toLayer > fromLayer) problems.push(`upward import: ${from} (${LAYERS[fromLayer].join(', ')}) imports ${to} (${LAYERS[toLayer].join(', ')})`);
  }
}

// Strongly connected components (Tarjan): every component of more than one file is a cycle.
let index = 0;
const stack = [];
const state = new Map();
const cycles = [];
function connect(v) {
  state.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue;
    if (!state.has(w)) {
      connect(w);
      state.get(v).low = Math.min(state.get(v).low, state.get(w).low);
    } else if (state.get(w).onStack) {
      state.get(v).low = Math.min(state.get(v).low, state.get(w).index);
    }
  }
  if (state.get(v).low === state.get(v).index) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      state.get(w).onStack = false;
      component.push(w);
    } while (w !== v);
    const selfImport = component.length === 1 && (graph.get(v) ?? []).includes(v);
    if (component.length > 1 || selfImport) cycles.push(component.sort().join(' '));
  }
}
for (const f of files) if (!state.has(f)) connect(f);

const unused = ALLOWED_CYCLES.filter((c) => !cycles.includes(c));
for (const c of cycles) if (!ALLOWED_CYCLES.includes(c)) problems.push(`import cycle: ${c}`);
for (const c of unused) problems.push(`allowed cycle no longer present, remove it from ALLOWED_CYCLES: ${c}`);

const edges = [...graph.values()].reduce((n, t) => n + t.length, 0);
if (problems.length > 0) {
  console.error(`check-imports: ${problems.length} problem(s) in ${files.length} files, ${edges} imports:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`check-imports: ${files.length} files, ${edges} imports, no upward imports, ${cycles.length} cycle(s), all allow-listed`);
