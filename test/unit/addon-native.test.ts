// The native addon must give the same pixels, tensors and kept boxes as the TypeScript fallback,
// on real photos. Skipped, with the reason, only when the addon is not built.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { blurRegionsFallback } from '../../src/addon/fallback/blur.js';
import { nmsFallback } from '../../src/addon/fallback/nms.js';
import { jpegBlocks } from '../../src/addon/index.js';
import { createNativeOps, loadNativeAddon } from '../../src/addon/native.js';
import type { BlurRegion, BlurSpec, RawImage } from '../../src/addon/types.js';
import { packageRoot } from '../../src/paths.js';
import { facesDir } from '../../harness/photos.js';

/** Gaussian: the addon keeps 8.8 fixed point between box passes, the fallback float; rounding may differ by 1. */
const GAUSSIAN_TOLERANCE = 1;

const photos = fs.existsSync(facesDir) ? fs.readdirSync(facesDir).filter((f) => f.endsWith('.jpg')).sort() : [];
const loaded = loadNativeAddon();
const addon = loaded.ok ? loaded.addon : undefined;
const native = addon && createNativeOps(addon);
const skip = loaded.ok ? (photos.length ? false : `no photos in ${facesDir}`) : `native addon not built (${loaded.reason}); run npm run build:native`;

async function decode(file: string, alpha = false): Promise<RawImage> {
  let pipeline = sharp(path.join(facesDir, file)).rotate();
  pipeline = alpha ? pipeline.ensureAlpha(0.5) : pipeline.removeAlpha();
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels as 3 | 4 };
}

/** Face-sized boxes plus the awkward cases: fractional, clipped at every edge, 1 px, thin, whole image. */
function regionsFor(image: RawImage): BlurRegion[] {
  const { width: w, height: h } = image;
  return [
    { x: w * 0.2, y: h * 0.25, width: w * 0.12, height: h * 0.2 },
    { x: w * 0.5 + 0.4, y: h * 0.3 + 0.7, width: 97.3, height: 121.6 },
    { x: -30, y: -20, width: 90, height: 110 },
    { x: w - 50, y: h - 40, width: 120, height: 90 },
    { x: w * 0.7, y: 10, width: 1, height: 1 },
    { x: 40, y: h * 0.6, width: 3, height: 60 },
    { x: 60, y: h * 0.1, width: 200, height: 2 },
    { x: w + 10, y: 0, width: 50, height: 50 },
    { x: 0, y: 0, width: w, height: h * 0.05 },
    // Radius >= 16: blurred at reduced size and scaled back up (DecimationFor), overlapping the others.
    { x: w * 0.1 + 0.3, y: h * 0.15, width: w * 0.55, height: h * 0.6 },
  ];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('native blurRegions matches the TypeScript fallback', { skip }, () => {
  const styles: BlurSpec['style'][] = ['gaussian', 'pixelate', 'solid'];
  const shapes: BlurSpec['shape'][] = ['box', 'ellipse'];
  for (const style of styles) {
    for (const shape of shapes) {
      test(`${style} × ${shape} on every photo, RGB and RGBA (max diff ${style === 'gaussian' ? GAUSSIAN_TOLERANCE : 0})`, async () => {
        for (const file of photos) {
          for (const alpha of [false, true]) {
            const original = await decode(file, alpha);
            const expected: RawImage = { ...original, data: original.data.slice() };
            const actual: RawImage = { ...original, data: original.data.slice() };
            blurRegionsFallback(expected, regionsFor(original), { style, shape });
            native!.blurRegions(actual, regionsFor(original), { style, shape });
            const diff = maxAbsDiff(actual.data, expected.data);
            assert.ok(diff <= (style === 'gaussian' ? GAUSSIAN_TOLERANCE : 0), `${file}${alpha ? ' (RGBA)' : ''}: max diff ${diff}`);
            assert.notDeepEqual(actual.data, original.data, `${file}: nothing was anonymized`);
            if (alpha) for (let i = 3; i < actual.data.length; i += 4) assert.equal(actual.data[i], original.data[i], `${file}: alpha changed`);
          }
        }
      });
    }
  }
});

describe('native nms keeps the same candidates as the TypeScript fallback', { skip: loaded.ok ? false : skip }, () => {
  /** Detector-like output: clusters of jittered boxes around a few objects, with tied scores. */
  function candidates(count: number, seed: number) {
    let s = seed;
    const random = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const boxes = new Float32Array(count * 4);
    const scores = new Float32Array(count);
    const classes = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const cx = 50 + (i % 37) * 10 + random() * 8;
      const cy = 50 + (i % 23) * 12 + random() * 8;
      const w = 20 + random() * 60;
      const h = 20 + random() * 60;
      boxes.set([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], i * 4);
      scores[i] = Math.round(random() * 50) / 50;
      classes[i] = i % 3;
    }
    return { boxes, scores, classes };
  }
  for (const count of [0, 1, 50, 2000]) {
    for (const iou of [0, 0.45, 0.7, 1]) {
      test(`${count} candidates, IoU ${iou}, class-agnostic and class-aware`, () => {
        const { boxes, scores, classes } = candidates(count, count + 7);
        assert.deepEqual(native!.nms(boxes, scores, iou), nmsFallback(boxes, scores, iou));
        assert.deepEqual(native!.nms(boxes, scores, iou, classes), nmsFallback(boxes, scores, iou, classes));
      });
    }
  }
});

describe('native addon runtime', { skip: loaded.ok ? false : skip }, () => {
  test('cudaAvailable reports the build and the device without needing a GPU', () => {
    const status = native!.cudaAvailable();
    assert.equal(typeof status.compiled, 'boolean');
    assert.equal(status.available, status.deviceCount > 0);
    if (!status.available) assert.match(status.reason ?? '', /\S/);
  });

  test('asking for CUDA without a visible GPU runs on the CPU with the same result', async (t) => {
    if (native!.cudaAvailable().available) return t.skip('a GPU is visible: scripts/gpu-check.sh compares CUDA with the CPU');
    const cuda = createNativeOps(addon!, true);
    const image = await decode(photos[0]);
    const expected: RawImage = { ...image, data: image.data.slice() };
    native!.blurRegions(expected, regionsFor(image), { style: 'gaussian', shape: 'ellipse' });
    assert.equal(cuda.blurRegionsWith(image, regionsFor(image), { style: 'gaussian', shape: 'ellipse' }), 'cpu');
    assert.deepEqual(image.data, expected.data);
  });

  test('pixelOps uses the addon, and PIXVEIL_NATIVE=off says once on stderr that it fell back', () => {
    const script = "const { pixelOps } = await import('./src/addon/index.ts'); await import('./src/addon/index.ts'); console.log(pixelOps.implementation);";
    const run = (env: NodeJS.ProcessEnv) =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: packageRoot, env: { ...process.env, ...env }, encoding: 'utf8' });
    const on = run({ PIXVEIL_NATIVE: '' });
    assert.equal(on.stdout.trim(), 'native', on.stderr);
    // An addon built without libjpeg-turbo says that once too.
    const jpegLine = jpegBlocks.support.available ? '' : `pixveil: JPEG output is re-encoded whole, untouched blocks included (${jpegBlocks.support.detail})\n`;
    assert.equal(on.stderr, jpegLine);
    const off = run({ PIXVEIL_NATIVE: 'off' });
    assert.equal(off.stdout.trim(), 'typescript', off.stderr);
    assert.equal(off.stderr, 'pixveil: native pixel ops disabled by PIXVEIL_NATIVE=off; using the TypeScript fallback\n');
  });

  test('a missing or foreign addon file is refused with a reason, not thrown', () => {
    const missing = loadNativeAddon(path.join(packageRoot, 'build', 'Release', 'nope.node'));
    assert.deepEqual(missing, { ok: false, reason: 'build/Release/nope.node is not built' });
    const foreign = loadNativeAddon(path.join(packageRoot, 'package.json'));
    assert.equal(foreign.ok, false);
    assert.match(!foreign.ok ? foreign.reason : '', /^package\.json (failed to load|is stale)/);
  });
});
