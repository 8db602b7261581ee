// Why encode.ts turns off JPEG Huffman optimisation: times each option on a 1080p photo, one libvips thread.
import sharp, { type JpegOptions } from 'sharp';
import { Bench } from 'tinybench';
import { facesDir } from '../harness/fixtures.js';

sharp.concurrency(1);
const { data, info } = await sharp(`${facesDir}/uf_17.jpg`).resize(1920, 1080, { fit: 'cover' }).raw().toBuffer({ resolveWithObject: true });
const raw = { width: info.width, height: info.height, channels: info.channels };
const variants: Record<string, JpegOptions> = {
  'q90 optimiseCoding (sharp default)': { quality: 90, mozjpeg: false, chromaSubsampling: '4:2:0' },
  'q90 no optimiseCoding (pixveil)': { quality: 90, mozjpeg: false, chromaSubsampling: '4:2:0', optimiseCoding: false },
  'q90 mozjpeg': { quality: 90, mozjpeg: true },
};
const bench = new Bench({ time: 1000 });
const sizes: Record<string, number> = {};
for (const [name, options] of Object.entries(variants)) {
  bench.add(name, async () => {
    sizes[name] = (await sharp(data, { raw }).jpeg(options).toBuffer()).length;
  });
}
await bench.run();
console.table(bench.tasks.map((t) => ({ variant: t.name, ms: (t.result as any)?.latency?.mean?.toFixed(2), bytes: sizes[t.name] })));
