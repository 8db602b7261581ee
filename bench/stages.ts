import { performance } from 'node:perf_hooks';
import { kindSlots } from '../src/kinds.js';
import sharp from 'sharp';
import { Bench } from 'tinybench';
import type { DetectionSettings } from '../src/config/detection.js';
import { pixelOps } from '../src/addon/index.js';
import { decodeImage } from '../src/pipeline/decode.js';
import { encodeImage } from '../src/pipeline/encode.js';
import { processImage, type Detectors } from '../src/pipeline/process-image.js';
import type { JobOptions } from '../src/job.js';
import type { CorpusSet } from './corpus.js';
import { pipelineInputSize } from './model-only.js';
import { startCpuSplit } from './thread-cpu.js';

export interface StageRow {
  stage: string;
  ms: number;
  ops_per_s: number;
}

/** Single-thread time of each stage on one 1080p photo (tinybench), plus the mean per-image stage times over the corpus. */
export async function benchStages(corpus: CorpusSet, detectors: Detectors, options: JobOptions, maxPixels: number, settings: DetectionSettings) {
  sharp.concurrency(1);
  const sample = corpus.images[2];
  const decoded = await decodeImage(sample, maxPixels);
  const faces = (await detectors.faces!.detect(decoded.image, options.thresholds.face)).map((d) => ({ x: d.x1, y: d.y1, width: d.x2 - d.x1, height: d.y2 - d.y1 }));
  const regions = faces.length > 0 ? faces : [{ x: 100, y: 100, width: 120, height: 150 }];

  const bench = new Bench({ time: 800, warmupTime: 200 });
  bench.add('decode', async () => {
    await decodeImage(sample, maxPixels);
  });
  for (const slot of kindSlots()) {
    const detector = detectors[slot];
    if (!detector) continue;
    // The full-frame pass at the size the pipeline runs it (YuNet at FACE_INPUT_LONG_SIDE, not the manifest's default).
    const size = pipelineInputSize(detector, decoded.image.width, decoded.image.height, settings);
    const inputSize = detector.manifest.input.dynamic ? { inputSize: size } : {};
    const at = `${size.width}×${size.height}`;
    bench.add(`preprocess_${slot} ${at} (fused, pyramid included)`, () => {
      pixelOps.regionToTensor(pixelOps.buildPyramid(decoded.image), { ...detector.manifest.input, ...size });
    });
    bench.add(`detect_${slot} ${at} (preprocess+model+post)`, async () => {
      await detector.detect(decoded.image, 0.5, undefined, inputSize);
    });
  }
  bench.add(`blur (${regions.length} regions, ${pixelOps.implementation})`, () => {
    const copy = { ...decoded.image, data: Buffer.from(decoded.image.data) };
    pixelOps.blurRegions(copy, regions, { style: 'gaussian', shape: 'box' });
  });
  bench.add('encode (jpeg q90)', async () => {
    await encodeImage(decoded.image, 'jpg', 90);
  });
  await bench.run();
  const rows: StageRow[] = bench.tasks.map((t) => {
    const r = t.result as { latency?: { mean: number }; throughput?: { mean: number } } | undefined;
    return { stage: t.name, ms: round(r?.latency?.mean ?? NaN), ops_per_s: round(r?.throughput?.mean ?? NaN) };
  });

  // The pipeline's own stage timings, averaged over every corpus image (tiles, vehicle crops and all).
  const totals: Record<string, number> = {};
  // Its CPU per kind of thread: what the same work costs in one thread, against the pool's split.
  const split = startCpuSplit(process.pid);
  const start = performance.now();
  for (const image of corpus.images) {
    const result = await processImage(image, options, detectors, { maxPixels }, settings);
    for (const [stage, ms] of Object.entries(result.timings)) totals[stage] = (totals[stage] ?? 0) + ms;
  }
  const perImageMs = (performance.now() - start) / corpus.images.length;
  const singleThreadCpu = split.finish(corpus.images.length);
  const pipelineStages = Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, round(v / corpus.images.length)]));
  sharp.concurrency(0);
  return { rows, pipelineStages, singleThreadMsPerImage: round(perImageMs), singleThreadCpu, decoded: decoded.image };
}

export function round(v: number): number {
  return Math.round(v * 100) / 100;
}
