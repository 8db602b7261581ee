// libuv's threadpool size: the rule bin/threadpool.cjs applies when UV_THREADPOOL_SIZE is unset, and
// proof that setting it from a CommonJS entry (bin/pixveil.cjs, bin/preload-threadpool.cjs) still
// takes effect for a process whose code is ES modules (libuv reads the variable once, at first use).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../../src/paths.js';

const { defaultThreadpoolSize, threadpoolSize } = createRequire(import.meta.url)(path.join(packageRoot, 'bin', 'threadpool.cjs')) as {
  defaultThreadpoolSize(cores: number): number;
  threadpoolSize(env: Record<string, string | undefined>, cores: number): number;
};

test('at least 16 threads, 4 per core above that, never past libuv\'s 1024', () => {
  assert.equal(defaultThreadpoolSize(1), 16);
  assert.equal(defaultThreadpoolSize(2), 16);
  assert.equal(defaultThreadpoolSize(8), 32);
  assert.equal(defaultThreadpoolSize(512), 1024);
});

test('UV_THREADPOOL_SIZE set by the user wins; a value that is not a positive integer is ignored', () => {
  assert.equal(threadpoolSize({ UV_THREADPOOL_SIZE: '6' }, 2), 6);
  assert.equal(threadpoolSize({ UV_THREADPOOL_SIZE: '5000' }, 2), 1024);
  assert.equal(threadpoolSize({ UV_THREADPOOL_SIZE: 'lots' }, 2), 16);
  assert.equal(threadpoolSize({ UV_THREADPOOL_SIZE: '0' }, 2), 16);
  assert.equal(threadpoolSize({}, 2), 16);
});

// Counts this process's threads after an ES module import and an fs call have started the threadpool.
const countThreads = `import('node:fs').then((fs) => fs.promises.readFile(process.execPath, { length: 1 }).catch(() => {}).then(() => console.log(fs.readdirSync('/proc/self/task').length)))`;

test('the preload sets the size before the ES module loader starts the threadpool', { skip: !fs.existsSync('/proc/self/task') && 'needs /proc' }, () => {
  const env = { ...process.env, UV_THREADPOOL_SIZE: '' };
  const plain = Number(execFileSync(process.execPath, ['-e', countThreads], { env, encoding: 'utf8' }));
  const preloaded = Number(execFileSync(process.execPath, ['-r', path.join(packageRoot, 'bin', 'preload-threadpool.cjs'), '-e', countThreads], { env, encoding: 'utf8' }));
  // libuv's default is 4 threads; the preload asks for defaultThreadpoolSize(cores) ≥ 16.
  assert.ok(preloaded - plain >= 12, `${plain} threads without the preload, ${preloaded} with it`);
});
