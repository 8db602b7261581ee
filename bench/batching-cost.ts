// What joining images costs and saves per image, on this machine's CPU: YuNet-n at the 1080p input
// (1600×928), N images in one run against N runs of one; and the inference thread's copy that joins
// N inputs into one tensor (BATCH_IMAGES mode, src/models/batch-tensors.ts). CPU ms of this thread
// (onnxruntime with one intra-op thread runs on it), blocks alternated, medians: the machine is shared.
// `node dist/bench/batching-cost.js [--images=4] [--rounds=7]`
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { concatBatch } from '../src/models/batch-tensors.js';
import { openOrtSession } from '../src/models/model-session.js';
import { modelDir } from '../harness/fixtures.js';
import { round } from './stages.js';
import { loadAverage } from './thread-cpu.js';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const N = arg('images', 4);
const ROUNDS = arg('rounds', 7);
const [W, H] = [1600, 928];

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function main() {
  const session = await openOrtSession(path.join(modelDir, 'yunet_n_dynamic.onnx'), { intraOpThreads: 1, executionProviders: ['cpu'] });
  const per = 3 * W * H;
  const one = new Float32Array(per).map((_, i) => (i * 7919) % 255);
  const joined = new Float32Array(per * N);
  for (let k = 0; k < N; k++) joined.set(one, k * per);
  const single = () => session.run({ input: new ort.Tensor('float32', one, [1, 3, H, W]) });
  const together = () => session.run({ input: new ort.Tensor('float32', joined, [N, 3, H, W]) });
  await single();
  await together();
  const separate: number[] = [];
  const batched: number[] = [];
  const copy: number[] = [];
  const parts = Array.from({ length: N }, () => ({ type: 'float32' as const, dims: [1, 3, H, W], data: one.slice() }));
  for (let r = 0; r < ROUNDS; r++) {
    let t = cpuMs();
    for (let k = 0; k < N; k++) await single();
    separate.push((cpuMs() - t) / N);
    t = cpuMs();
    await together();
    batched.push((cpuMs() - t) / N);
    t = cpuMs();
    concatBatch(parts, joined);
    copy.push((cpuMs() - t) / N);
  }
  await session.release();
  const row = {
    model: 'yunet-n',
    input: `${W}×${H}`,
    images: N,
    separate_runs_ms_per_image: round(median(separate)),
    one_joined_run_ms_per_image: round(median(batched)),
    joined_over_separate: round(median(batched) / median(separate)),
    join_copy_ms_per_image: round(median(copy)),
  };
  console.log(`batching cost on ${os.cpus()[0]?.model}, ${ROUNDS} rounds, load average ${loadAverage()}:`);
  console.table([row]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
