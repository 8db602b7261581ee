// The CPU side of a GPU node, measured here: per 1080p image at the defaults, the CPU time of each
// stage that stays on the CPU when inference moves to a GPU (decode, pyramid + model inputs, blur,
// encode, output decoding), next to this CPU's own inference time, and the bytes of model input a
// GPU would be sent. CPU time (process.cpuUsage), not wall time, so other processes on a shared
// machine do not inflate it. docs/deployment.md ("GPU nodes") builds the node budget from it.
// Run: npm run build && node dist/bench/gpu-node-budget.js [--rounds=2]
import ort from 'onnxruntime-node';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { pixelOps } from '../src/addon/index.js';
import { loadConfig } from '../src/config/config.js';
import { defaultJobOptions, JOB_OPTION_DEFAULTS } from '../src/job.js';
import { configuredModels, defaultThresholds, modelNames } from '../src/models/configured.js';
import { loadDetectors } from '../src/models/load-detectors.js';
import { modelPath } from '../src/models/files.js';
import { loadManifests } from '../src/models/manifest.js';
import { decodeImage } from '../src/pipeline/decode.js';
import { encodeImage } from '../src/pipeline/encode.js';
import { processImage, type Detectors } from '../src/pipeline/process-image.js';
import { modelDir as sharedModelDir } from '../harness/photos.js';
import { buildCorpus } from './corpus.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '2' } } });
const rounds = Number(values.rounds);
sharp.concurrency(1);
sharp.cache(false);

const config = loadConfig({ ...process.env, MODEL_DIR: process.env.MODEL_DIR ?? sharedModelDir });
const manifests = loadManifests(config.modelManifestDir || undefined);
const options = defaultJobOptions(config, defaultThresholds(configuredModels(config, manifests)));
const detectors: Detectors = await loadDetectors(modelNames(config), manifests, (m) => modelPath(config.modelDir, m), { intraOpThreads: 1, executionProviders: [...config.executionProviders] });

const cpuMs = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
};
const spent = { tensors: 0, inference: 0, blur: 0, runs: 0, inputBytes: 0 };

// Instrument the stages where the pipeline calls them, so the numbers are the pipeline's own passes.
const ops = pixelOps as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const [name, bucket] of [['regionToTensor', 'tensors'], ['blurRegions', 'blur']] as const) {
  const original = ops[name].bind(pixelOps);
  ops[name] = (...args: unknown[]) => {
    const start = process.cpuUsage();
    try {
      return original(...args);
    } finally {
      spent[bucket] += cpuMs(start);
    }
  };
}
const session = (ort.InferenceSession as unknown as { prototype: { run: (feeds: Record<string, ort.Tensor>, ...rest: unknown[]) => Promise<unknown> } }).prototype;
const run = session.run;
session.run = async function (this: unknown, feeds: Record<string, ort.Tensor>, ...rest: unknown[]) {
  for (const t of Object.values(feeds)) spent.inputBytes += (t.data as Float32Array).byteLength;
  spent.runs++;
  const start = process.cpuUsage();
  try {
    return await run.call(this, feeds, ...rest);
  } finally {
    spent.inference += cpuMs(start);
  }
};

const corpus = await buildCorpus(1920, 1080, '1080p');
const totals = { decode: 0, encode: 0, pipeline: 0 };
let images = 0;
for (let r = 0; r < rounds; r++) {
  for (const bytes of corpus.images) {
    let start = process.cpuUsage();
    const decoded = await decodeImage(bytes, config.maxPixels);
    totals.decode += cpuMs(start);
    start = process.cpuUsage();
    // The whole re-encode (what an explicit quality asks for); the kept-blocks path is timed by bench/jpeg-output.ts.
    await encodeImage(decoded.image, 'jpg', options.quality ?? JOB_OPTION_DEFAULTS.quality);
    totals.encode += cpuMs(start);
    start = process.cpuUsage();
    await processImage(bytes, options, detectors, { maxPixels: config.maxPixels }, config.detection);
    totals.pipeline += cpuMs(start);
    images++;
  }
}

const per = (v: number) => Math.round((v / images) * 10) / 10;
const rest = totals.pipeline - totals.decode - totals.encode - spent.tensors - spent.inference - spent.blur;
const onCpuWithGpu = totals.decode + totals.encode + spent.tensors + spent.blur + rest;
const rows = [
  { stage: 'decode (sharp, JPEG q85 1080p)', cpu_ms: per(totals.decode) },
  { stage: `pyramid + model inputs (${pixelOps.implementation})`, cpu_ms: per(spent.tensors) },
  { stage: `inference (${config.executionProviders.join(',')}, ${per(spent.runs)} runs)`, cpu_ms: per(spent.inference) },
  { stage: 'output decoding, NMS, crops planning, JS', cpu_ms: per(rest) },
  { stage: `blur (${pixelOps.implementation}, the pipeline's regions)`, cpu_ms: per(spent.blur) },
  { stage: `encode (sharp, JPEG q${options.quality})`, cpu_ms: per(totals.encode) },
  { stage: 'whole pipeline', cpu_ms: per(totals.pipeline) },
  { stage: 'left on the CPU once inference is on a GPU', cpu_ms: per(onCpuWithGpu) },
];
console.table(rows);
console.log(JSON.stringify({ images, rounds, model_input_mb_per_image: Math.round((spent.inputBytes / images / 1048576) * 10) / 10, runs_per_image: per(spent.runs), rows }));
