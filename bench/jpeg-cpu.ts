// CPU time (all threads of this process: getrusage) of the two JPEG outputs, one call at a time, on the
// bench corpus with a fixed set of blurred boxes (a face-sized and a plate-sized one per photo): what
// each path costs the machine, which wall time on a shared machine does not say.
//   node dist/bench/jpeg-cpu.js [--reps=20] [--tables=standard]
import { execFileSync } from 'node:child_process';
import { jpegBlocks, pixelOps, type BlurRegion } from '../src/addon/index.js';
import { decodeImage } from '../src/pipeline/decode.js';
import { encodeImage, encodeOutput } from '../src/pipeline/encode.js';
import { buildCorpus } from './corpus.js';
import { median } from './corpus-regions.js';

const reps = Number(process.argv.find((a) => a.startsWith('--reps='))?.slice(7) ?? 20);
const standardTables = process.argv.includes('--tables=standard');
if (!jpegBlocks.support.available) throw new Error(`JPEG blocks unavailable (${jpegBlocks.support.detail})`);

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const corpus = await buildCorpus(1920, 1080, '1080p');
const regions: BlurRegion[] = [
  { x: 900, y: 300, width: 80, height: 100 },
  { x: 400, y: 800, width: 140, height: 40 },
];
const whole: number[] = [];
const blocks: number[] = [];
const tables = new Map<string, number>();
for (let jpeg of corpus.images) {
  if (standardTables) jpeg = execFileSync('jpegtran', ['-copy', 'none'], { input: jpeg, maxBuffer: 64 << 20 });
  const decoded = await decodeImage(jpeg, 100_000_000);
  pixelOps.blurRegions(decoded.image, regions, { style: 'gaussian', shape: 'box' });
  const kept = { policy: 'strip' as const };
  const source = { input: jpeg, decoded, regions };
  const first = await encodeOutput(decoded.image, 'jpg', undefined, kept, source);
  if (first.method !== 'blocks') throw new Error(`blocks declined: ${first.reason}`);
  tables.set(first.huffman!, (tables.get(first.huffman!) ?? 0) + 1);
  for (let i = 0; i < reps; i++) {
    let t = cpuMs();
    await encodeImage(decoded.image, 'jpg', 90, kept);
    whole.push(cpuMs() - t);
    t = cpuMs();
    await encodeOutput(decoded.image, 'jpg', undefined, kept, source);
    blocks.push(cpuMs() - t);
  }
}
console.log(`${corpus.images.length} photos × ${reps}, tables ${standardTables ? 'standard' : 'as built (optimised)'}: CPU ms per encode, median: whole ${median(whole).toFixed(2)}, blocks ${median(blocks).toFixed(2)}; output tables ${[...tables].map(([k, v]) => `${k} ${v}`).join(', ')}`);
