// Native addon vs. TypeScript fallback for the per-pixel stages, on the sizes the service sees.
// Run: node scripts/build-native.mjs && node --import tsx bench/pixel-ops.ts
import path from 'node:path';
import sharp from 'sharp';
import { Bench } from 'tinybench';
import { blurRegionsFallback } from '../src/addon/fallback/blur.js';
import { nmsFallback } from '../src/addon/fallback/nms.js';
import { createNativeOps, loadNativeAddon } from '../src/addon/native.js';
import type { BlurRegion, BlurSpec, RawImage } from '../src/addon/types.js';
import { facesDir } from '../harness/photos.js';

const loaded = loadNativeAddon();
if (!loaded.ok) {
  console.error(`bench/pixel-ops: ${loaded.reason}; run npm run build:native first`);
  process.exit(1);
}
const native = createNativeOps(loaded.addon);

// A real photo at 1920×1080 with ten face-sized regions (80–170 px), as a crowded frame would have.
const photo = path.join(facesDir, 'uf_3.jpg');
const { data, info } = await sharp(photo).removeAlpha().resize(1920, 1080, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
const image: RawImage = { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
const regions: BlurRegion[] = Array.from({ length: 10 }, (_, i) => ({
  x: 100 + (i % 5) * 350,
  y: 200 + Math.floor(i / 5) * 450,
  width: 80 + i * 10,
  height: 100 + i * 8,
}));

let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const count = 2000;
const boxes = new Float32Array(count * 4);
const scores = new Float32Array(count);
for (let i = 0; i < count; i++) {
  const cx = random() * 416;
  const cy = random() * 416;
  const size = 10 + random() * 80;
  boxes.set([cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2], i * 4);
  scores[i] = random();
}

type Pair = { name: string; ts: () => void; native: () => void };
const pairs: Pair[] = [];
for (const style of ['gaussian', 'pixelate', 'solid'] as const) {
  const blur: BlurSpec = { style, shape: 'ellipse' };
  pairs.push({
    name: `blur ${style} ellipse, 1920×1080, 10 regions`,
    ts: () => blurRegionsFallback(image, regions, blur),
    native: () => native.blurRegions(image, regions, blur),
  });
}
pairs.push({ name: `nms ${count} candidates, IoU 0.45`, ts: () => nmsFallback(boxes, scores, 0.45), native: () => native.nms(boxes, scores, 0.45) });

const bench = new Bench({ time: 1000, warmupTime: 200 });
for (const p of pairs) {
  bench.add(`${p.name} [ts]`, p.ts);
  bench.add(`${p.name} [native]`, p.native);
}
await bench.run();

const meanMs = (name: string) => {
  const result = bench.getTask(name)?.result;
  if (!result || result.state !== 'completed') throw new Error(`${name}: ${result?.state ?? 'missing'}`);
  return result.latency.mean;
};
console.log(`node ${process.version}, ${process.arch}; mean latency per call`);
console.table(
  pairs.map((p) => {
    const ts = meanMs(`${p.name} [ts]`);
    const nat = meanMs(`${p.name} [native]`);
    return { stage: p.name, 'typescript ms': ts.toFixed(3), 'native ms': nat.toFixed(3), 'speed-up': `${(ts / nat).toFixed(1)}×` };
  }),
);
