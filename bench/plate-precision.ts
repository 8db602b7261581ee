// Model-only time of the plate model's three files (shipped ConvInteger, float rebuild, static-QDQ int8),
// the way pool threads run them: onnxruntime-node, one intra-op thread, the session options of
// src/models/detector.ts. Rounds interleave the files so load drift hits all alike; medians.
// Usage: npm run build && node dist/bench/plate-precision.js [--rounds=60] [--photo=<file>]
// The derived files are made on first use (harness/derived-models.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { hostCpuFeatures } from '../src/models/cpu-features.js';
import { loadManifests } from '../src/models/manifest.js';
import { ensureDerivedPlateModels } from '../harness/derived-models.js';
import { fixtureDir, modelDir } from '../harness/photos.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '60' }, photo: { type: 'string' } } });
const rounds = Number(values.rounds);
const photo = values.photo ?? path.join(fixtureDir, 'plates', 'alpr_washington-azm9591.jpg');

/** The manifest's input for one photo: letterboxed to 416, centred, pad 114, RGB / 255, NCHW. */
async function inputTensor(file: string, size: number): Promise<ort.Tensor> {
  const { data } = await sharp(fs.readFileSync(file)).rotate().removeAlpha().resize(size, size, { fit: 'contain', background: { r: 114, g: 114, b: 114 } }).raw().toBuffer({ resolveWithObject: true });
  const plane = size * size;
  const chw = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) chw[c * plane + i] = data[i * 3 + c] / 255;
  return new ort.Tensor('float32', chw, [1, 3, size, size]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const manifests = loadManifests();
const derived = await ensureDerivedPlateModels();
const files = {
  original: path.join(modelDir, manifests.get('yolov9-t-plates')!.file),
  float: path.join(derived, manifests.get('yolov9-t-plates-float')!.file),
  int8: path.join(derived, manifests.get('yolov9-t-plates-int8')!.file),
};
const sessions = Object.fromEntries(
  await Promise.all(
    Object.entries(files).map(async ([name, file]) => [name, await ort.InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 })] as const),
  ),
) as Record<keyof typeof files, ort.InferenceSession>;
const feeds = { images: await inputTensor(photo, 416) };
// Wall time, and the process's CPU time over the same run: on a shared machine the CPU time is what
// the run itself cost, where the wall time also counts waiting for a core.
const times: Record<string, number[]> = { original: [], float: [], int8: [] };
const cpuTimes: Record<string, number[]> = { original: [], float: [], int8: [] };
for (const s of Object.values(sessions)) for (let i = 0; i < 5; i++) await s.run(feeds);
for (let r = 0; r < rounds; r++) {
  for (const [name, s] of Object.entries(sessions)) {
    const c = process.cpuUsage();
    const t = process.hrtime.bigint();
    await s.run(feeds);
    times[name].push(Number(process.hrtime.bigint() - t) / 1e6);
    const used = process.cpuUsage(c);
    cpuTimes[name].push((used.user + used.system) / 1000);
  }
}
const cpu = hostCpuFeatures();
console.log(`plate model, one thread, ${rounds} interleaved rounds, ${path.basename(photo)}; CPU ${os.cpus()[0]?.model ?? '?'} (${cpu.evidence}), load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (const [name, t] of Object.entries(times)) {
  console.log(`${name.padEnd(9)} wall median ${median(t).toFixed(1)} ms, min ${Math.min(...t).toFixed(1)}   cpu median ${median(cpuTimes[name]).toFixed(1)} ms, min ${Math.min(...cpuTimes[name]).toFixed(1)}`);
}
for (const s of Object.values(sessions)) await s.release();
