#!/usr/bin/env bash
# For a machine with an NVIDIA GPU: builds the addon with the CUDA kernels (PIXVEIL_CUDA=on), then
# runs the same inputs through the CUDA and CPU paths, fails on any differing byte or float, and
# prints timings (CUDA times include the host↔device copies the addon makes per call).
# Needs node, cmake, a C++17 compiler, nvcc, and node_modules/{node-addon-api,node-api-headers}
# (cmake-js too, or the script calls cmake itself). No sharp or tsx: the images are synthetic.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "gpu-check: nvidia-smi not found"

if node -e "require.resolve('cmake-js')" 2>/dev/null; then
  PIXVEIL_CUDA=on node scripts/build-native.mjs --strict
else
  # cmake-js's job by hand: Node-API and node-addon-api headers, output in build/Release.
  # node-addon-api gives its include_dir relative to the working directory; CMake needs it absolute.
  inc="$(node -p "require('path').resolve(require('node-api-headers').include_dir)");$(node -p "require('path').resolve(require('node-addon-api').include_dir)")"
  cmake -S native -B build -DCMAKE_BUILD_TYPE=Release -DPIXVEIL_CUDA=on "-DCMAKE_JS_INC=$inc" \
    -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$PWD/build/Release"
  cmake --build build --parallel
fi

node --input-type=module - <<'JS'
import { createRequire } from 'node:module';
import path from 'node:path';

const addon = createRequire(import.meta.url)(path.resolve('build/Release/pixveil_native.node'));
const status = addon.cudaAvailable();
console.log('cudaAvailable():', JSON.stringify(status));
if (!status.compiled || !status.available) {
  console.error(`gpu-check: no CUDA to compare (${status.compiled ? status.reason : 'built without CUDA'})`);
  process.exit(1);
}

let seed = 7;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
/** Gradients, stripes and noise: edges and texture for the blur to act on. */
function image(width, height, channels) {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * channels;
      data[p] = (x * 255) / width;
      data[p + 1] = 128 + 100 * Math.sin(x / 7) * Math.cos(y / 11);
      data[p + 2] = random() * 255;
      if (channels === 4) data[p + 3] = (x + y) & 255;
    }
  }
  return { data, width, height, channels };
}
const regionList = [
  ...Array.from({ length: 10 }, (_, i) => [100 + (i % 5) * 350, 200 + Math.floor(i / 5) * 450, 80 + i * 10, 100 + i * 8]),
  [-30.5, -20, 90, 110], [1880, 1050, 120, 90], [700.3, 10.6, 1, 1], [40, 600, 3, 60], [0, 0, 1920, 60],
  // Wide enough (radius >= 16) to be blurred at reduced size and scaled back up (blur.h, DecimationFor).
  [300.5, 150.2, 900, 700], [1700, 20, 220, 1060],
];
const regions = Float64Array.from(regionList.flat());

function time(fn, runs) {
  fn();
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return samples.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

const rows = [];
let failures = 0;
for (const channels of [3, 4]) {
  const source = image(1920, 1080, channels);
  for (const style of ['gaussian', 'pixelate', 'solid']) {
    for (const shape of ['box', 'ellipse']) {
      const run = (useCuda) => {
        const data = source.data.slice();
        const backend = addon.blurRegions({ ...source, data, regions, style, shape, useCuda });
        return { data, backend };
      };
      const cpu = run(false);
      const gpu = run(true);
      let differing = 0;
      for (let i = 0; i < cpu.data.length; i++) if (cpu.data[i] !== gpu.data[i]) differing++;
      if (gpu.backend !== 'cuda' || differing) failures++;
      const scratch = source.data.slice();
      rows.push({
        stage: `blur ${style} ${shape} ${channels}ch`,
        backend: gpu.backend,
        'differing bytes': differing,
        'cpu ms': time(() => addon.blurRegions({ ...source, data: scratch, regions, style, shape, useCuda: false }), 20).toFixed(3),
        'cuda ms': time(() => addon.blurRegions({ ...source, data: scratch, regions, style, shape, useCuda: true }), 20).toFixed(3),
      });
    }
  }
}

for (const [width, height, contentWidth, contentHeight, offsetX, offsetY, channelOrder] of [
  [416, 416, 416, 234, 0, 91, 'rgb'],
  [640, 640, 640, 360, 0, 0, 'bgr'],
  [1280, 1280, 1280, 720, 0, 280, 'rgb'],
]) {
  const rgb = image(contentWidth, contentHeight, 3).data;
  const options = (useCuda) => ({
    rgb, contentWidth, contentHeight, offsetX, offsetY, width, height, channelOrder, padValue: 114,
    mean: Float64Array.from([123.675, 116.28, 103.53]), std: Float64Array.from([58.395, 57.12, 57.375]),
    out: new Float32Array(3 * width * height), useCuda,
  });
  const cpu = options(false);
  const gpu = options(true);
  addon.normalizeToChw(cpu);
  const backend = addon.normalizeToChw(gpu);
  let differing = 0;
  for (let i = 0; i < cpu.out.length; i++) if (cpu.out[i] !== gpu.out[i]) differing++;
  if (backend !== 'cuda' || differing) failures++;
  rows.push({
    stage: `normalizeToChw ${contentWidth}×${contentHeight} → ${width}×${height} ${channelOrder}`,
    backend,
    'differing bytes': differing,
    'cpu ms': time(() => addon.normalizeToChw(cpu), 50).toFixed(3),
    'cuda ms': time(() => addon.normalizeToChw(gpu), 50).toFixed(3),
  });
}

console.table(rows);
console.log(failures ? `gpu-check: FAILED, ${failures} comparison(s) differ or did not run on CUDA` : 'gpu-check: CUDA and CPU outputs are identical');
process.exit(failures ? 1 : 0);
JS
