#!/usr/bin/env node
// Runs the compiled node:test files. Node 20's --test neither expands globs nor finds .ts files
// in a directory, and reports "tests 0" with exit 0 when it finds nothing: list the files here
// and fail when no test ran.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const suites = process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'integration'];
const files = [];
for (const suite of suites) {
  const dir = path.join(root, 'dist', 'test', suite);
  if (!fs.existsSync(dir)) continue;
  for (const f of fs.readdirSync(dir).sort()) if (f.endsWith('.test.js')) files.push(path.join(dir, f));
}
if (files.length === 0) {
  console.error(`run-tests: no compiled test files under dist/test/{${suites.join(',')}}; run "npm run build" first`);
  process.exit(1);
}
const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: ['ignore', 'pipe', 'inherit'] });
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4000);
});
child.on('exit', (code, signal) => {
  const ran = /ℹ tests (\d+)/.exec(tail);
  if (!ran || Number(ran[1]) === 0) {
    console.error('run-tests: no test was executed');
    process.exit(1);
  }
  process.exit(code ?? (signal ? 1 : 0));
});
