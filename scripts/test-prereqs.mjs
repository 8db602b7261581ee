#!/usr/bin/env node
// Checks what the tests read from outside the repo and fetches what it can, before `npm test`:
// - ../shared (models and photos) and Debian's darknet photos, through the one resolver
//   (harness/photos.ts, compiled by `npm run build` first), which extracts the darknet
//   photos from the package's .deb on first use,
// - redis-server, which the Redis tests start on their own free port,
// - Debian's Chromium, which the demo page's browser test drives (CHROMIUM_PATH overrides).
// - jpegtran (libjpeg-turbo-progs), which makes the restart-marker JPEGs of the JPEG block tests.
// - ffmpeg and ffprobe, which the video tests and video jobs run.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const photos = await import(path.join(root, 'dist', 'harness', 'photos.js'));
const problems = [];

for (const [what, dir] of [['models', photos.modelDir], ['fixtures', photos.fixtureDir]]) {
  if (!fs.existsSync(dir)) problems.push(`No ${what} at ${dir}: put ../shared beside the checkout or set PIXVEIL_SHARED_DIR (MODEL_DIR, FIXTURE_DIR)`);
}

try {
  photos.ensureDarknetPhotos();
} catch (err) {
  problems.push(err.message);
}

try {
  execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
} catch {
  problems.push('redis-server is not installed: "apt-get install redis-server" (the tests start their own on a free port)');
}

try {
  execFileSync('jpegtran', ['-version'], { stdio: 'ignore' });
} catch {
  problems.push('jpegtran is not installed: "apt-get install libjpeg-turbo-progs" (the JPEG block tests make restart-marker JPEGs with it)');
}

try {
  execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
  execFileSync('ffprobe', ['-version'], { stdio: 'ignore' });
} catch {
  problems.push('ffmpeg is not installed: "apt-get install ffmpeg" (the video tests make their clips with it and the video jobs run it)');
}

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!fs.existsSync(chromium)) problems.push(`Chromium is not installed at ${chromium}: "apt-get install chromium" (the demo page test runs it headless)`);

if (problems.length > 0) {
  for (const p of problems) console.error(`test-prereqs: ${p}`);
  process.exit(1);
}
