#!/usr/bin/env node
// Builds the native addon (native/CMakeLists.txt) with cmake-js into build/Release/pixveil_native.node.
// Runs as the package's install script: a failed build prints one line and exits 0, so `npm ci`
// still succeeds and the service runs on the TypeScript pixel ops. --strict exits 1 instead.
//   PIXVEIL_CUDA=on|off|auto   compile the CUDA kernels (auto: when nvcc is found)
//   PIXVEIL_JPEG=on|off|auto   link libjpeg-turbo for JPEG block copying (auto: when found)
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const output = path.join(root, 'build', 'Release', 'pixveil_native.node');
const strict = process.argv.includes('--strict');
const cudaMode = process.env.PIXVEIL_CUDA || 'auto';
const jpegMode = process.env.PIXVEIL_JPEG || 'auto';

function fail(reason) {
  const hint = 'install cmake and a C++17 compiler, then run `npm run build:native`';
  console.error(`pixveil: native addon not built (${reason}); pixel ops will use the slower TypeScript fallback — ${hint}`);
  process.exit(strict ? 1 : 0);
}

if (!['on', 'off', 'auto'].includes(cudaMode)) fail(`PIXVEIL_CUDA must be on, off or auto, not "${cudaMode}"`);
if (!['on', 'off', 'auto'].includes(jpegMode)) fail(`PIXVEIL_JPEG must be on, off or auto, not "${jpegMode}"`);

let BuildSystem;
try {
  ({ BuildSystem } = require('cmake-js'));
} catch (err) {
  fail(`cmake-js is not installed: ${err.message.split('\n')[0]}`);
}

try {
  const build = new BuildSystem({
    directory: path.join(root, 'native'),
    out: path.join(root, 'build'),
    config: 'Release',
    parallel: os.availableParallelism?.() ?? os.cpus().length,
    cMakeOptions: { PIXVEIL_CUDA: cudaMode, PIXVEIL_JPEG: jpegMode },
  });
  // cmake-js decides Node-API vs. NAN from a package.json beside CMakeLists.txt; ours is the root's,
  // which declares "binary": {"napi_versions": [8]}. Node-API headers come from node-api-headers: no download.
  build.options.isNodeApi = true;
  try {
    // Configure every time so a changed PIXVEIL_CUDA takes effect; the build itself is incremental.
    await build.configure();
    await build.build();
  } catch {
    console.error('pixveil: incremental native build failed; retrying from a clean build directory');
    await build.rebuild();
  }
} catch (err) {
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  // cmake-js reports a failed compiler or CMake run only as "Process terminated: <code>".
  fail(/^Process terminated/.test(message) ? 'the CMake build failed; its output is above' : message);
}

try {
  const addon = require(output);
  const cuda = addon.cudaAvailable();
  const gpu = cuda.compiled ? (cuda.available ? `CUDA kernels, ${cuda.deviceCount} device(s)` : `CUDA kernels, no device now: ${cuda.reason}`) : 'CPU only';
  const jpeg = addon.jpegBlocksSupport();
  const blocks = jpeg.compiled ? `JPEG blocks kept with ${jpeg.library}` : 'no libjpeg-turbo: JPEG output re-encoded whole';
  console.error(`pixveil: native addon built at ${path.relative(root, output)} (${gpu}; ${blocks})`);
} catch (err) {
  fail(`the build finished but ${path.relative(root, output)} does not load: ${err instanceof Error ? err.message.split('\n')[0] : err}`);
}
