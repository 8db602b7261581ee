#!/usr/bin/env node
// Checks what the tests read from outside the repo and fetches what it can:
// - ../shared (models and photos; PIXVEIL_SHARED_DIR overrides),
// - Debian's darknet photos (dog.jpg…): taken from the installed package, or extracted from
//   its .deb with `apt-get download` into .cache/ without installing its OpenCV dependencies,
// - redis-server, which the Redis tests start on their own free port.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const problems = [];

const shared = process.env.PIXVEIL_SHARED_DIR ?? path.resolve(root, '..', 'shared');
if (!fs.existsSync(path.join(shared, 'models')) || !fs.existsSync(path.join(shared, 'fixtures'))) {
  problems.push(`No models/ and fixtures/ under ${shared}: set PIXVEIL_SHARED_DIR, or MODEL_DIR after "pixveil models pull"`);
}

const installed = '/usr/share/darknet/data';
const cached = path.join(root, '.cache', 'darknet');
if (!process.env.DARKNET_DATA && !fs.existsSync(path.join(installed, 'dog.jpg')) && !fs.existsSync(path.join(cached, 'usr/share/darknet/data/dog.jpg'))) {
  try {
    fs.mkdirSync(cached, { recursive: true });
    execFileSync('apt-get', ['download', 'darknet'], { cwd: cached, stdio: 'inherit' });
    const deb = fs.readdirSync(cached).find((f) => f.endsWith('.deb'));
    execFileSync('dpkg-deb', ['-x', path.join(cached, deb), cached], { stdio: 'inherit' });
    console.log(`test-prereqs: darknet photos extracted to ${cached}`);
  } catch (err) {
    problems.push(`Debian's darknet photos are missing and could not be fetched (${err.message}): run "apt-get update && apt-get download darknet" or set DARKNET_DATA`);
  }
}

try {
  execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
} catch {
  problems.push('redis-server is not installed: "apt-get install redis-server" (the tests start their own on a free port)');
}

if (problems.length > 0) {
  for (const p of problems) console.error(`test-prereqs: ${p}`);
  process.exit(1);
}
