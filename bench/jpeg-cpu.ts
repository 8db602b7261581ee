// CPU time (all threads of this process: getrusage) of the two JPEG outputs, one call at a time, on the
// bench corpus with a fixed set of blurred boxes (a face-sized and a plate-sized one per photo), or with
// --regions=detected what the default detectors blur (a frame-filling plate re-encodes every MCU): what
// each path costs the machine, which wall time on a shared machine does not say.
//   node dist/bench/jpeg-cpu.js [--reps=20] [--tables=standard] [--regions=detected]
import { execFileSync } from 'node:child_process';
import { jpegBlocks, pixelOps, type BlurRegion } from '../src/addon/index.js';
import { decodeImage } from '../src/pipeline/decode.js';
import { encodeImage, encodeOutput } from '../src/pipeline/encode.js';
import { buildCorpus } from './corpus.js';
import { corpusWithRegions, median } from './corpus-regions.js';

const reps = Number(process.argv.find((a) => a.startsWith('--reps='))?.slice(7) ?? 20);
const standardTables = process.argv.includes('--tables=standard');
if (!jpegBlocks.support.available) throw new Error(`JPEG blocks unavailable (${jpegBlocks.support.detail})`);

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const fixed: BlurRegion[] = [
  { x: 900, y: 300, width: 80, height: 100 },
  { x: 400, y: 800, width: 140, height: 40 },
];
const photos = process.argv.includes('--regions=detected')
  ? await corpusWithRegions()
  : (await buildCorpus(1920, 1080, '1080p')).images.map((jpeg) => ({ jpeg, regions: fixed }));
const whole: number[] = [];
const blocks: number[] = [];
const tables = new Map<string, number>();
for (const photo of photos) {
  let jpeg = photo.jpeg;
  const regions = photo.regions;
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
console.log(`${photos.length} photos × ${reps}, tables ${standardTables ? 'standard' : 'as built (optimised)'}, regions ${photos[0].regions === fixed ? 'two fixed boxes' : 'detected'}: CPU ms per encode, median: whole ${median(whole).toFixed(2)}, blocks ${median(blocks).toFixed(2)}; output tables ${[...tables].map(([k, v]) => `${k} ${v}`).join(', ')}`);
