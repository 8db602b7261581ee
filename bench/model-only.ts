// Each detector's model alone against its pipeline stage, at the input size the pipeline really uses
// (YuNet at FACE_INPUT_LONG_SIDE, the fixed-size models at their own): what the stage spends outside
// the model (input tensor, output decoding, NMS). Blocks of runs alternate model and stage, timed in CPU
// ms of this process (getrusage: the calling thread, where onnxruntime runs with one intra-op thread,
// plus any GC work they cause), medians: on a shared machine wall time measures the other jobs too.
import { kindOf, kindSlots } from '../src/kinds.js';
import ort from 'onnxruntime-node';
import { pixelOps } from '../src/addon/index.js';
import type { RawImage } from '../src/addon/types.js';
import type { DetectionSettings } from '../src/config/detection.js';
import type { Detector } from '../src/models/detector.js';
import { modelPath } from '../src/models/files.js';
import { inputSizeFor, type InputSize } from '../src/models/input-size.js';
import type { JobOptions } from '../src/job.js';
import type { Detectors } from '../src/pipeline/process-image.js';

export interface ModelOnlyRow {
  /** The kind's slot (faces, plates, objects, …). */
  detector: string;
  model: string;
  input: string;
  model_only_ms: number;
  stage_ms: number;
  stage_over_model: number;
}

/** The full-frame input size of a detector's pass on an image of width × height, as src/pipeline/detect.ts picks it. */
export function pipelineInputSize(detector: Detector, width: number, height: number, settings: DetectionSettings): InputSize {
  const { input } = detector.manifest;
  if (input.dynamic) return inputSizeFor(width, height, settings.faceInputLongSide, input.dynamic.multipleOf);
  return { width: input.width, height: input.height };
}

/** CPU ms this process has used so far (user + system): the timer of the model-input benches. */
export function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** `thresholds`: the job's (a lower one gives a crowd thousands of candidates to decode and suppress). */
export async function modelOnlyTimes(image: RawImage, detectors: Detectors, settings: DetectionSettings, thresholds: JobOptions['thresholds'], modelDir: string, rounds: number): Promise<ModelOnlyRow[]> {
  const rows: ModelOnlyRow[] = [];
  for (const slot of kindSlots()) {
    const detector = detectors[slot];
    if (!detector) continue;
    const { manifest } = detector;
    const size = pipelineInputSize(detector, image.width, image.height, settings);
    // A session of its own with the pipeline's settings, fed one prepared tensor: nothing but session.run is timed.
    const session = await ort.InferenceSession.create(modelPath(modelDir, manifest), { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
    const spec = { ...manifest.input, ...size };
    const { tensor } = pixelOps.regionToTensor(pixelOps.buildPyramid(image), spec);
    const dims = manifest.input.layout === 'nhwc' ? [1, size.height, size.width, 3] : [1, 3, size.height, size.width];
    const feeds = { [manifest.input.name]: new ort.Tensor('float32', tensor, dims) };
    const inputSize = manifest.input.dynamic ? { inputSize: size } : {};
    const threshold = thresholds[kindOf(slot)!.name];
    const model: number[] = [];
    const stage: number[] = [];
    // Blocks of three runs each, alternating; the first run of a block (caches still holding the other
    // session's weights) is not counted, as in a loop over one model.
    for (let i = 0; i < rounds; i++) {
      for (let k = 0; k < 3; k++) {
        const start = cpuMs();
        await session.run(feeds);
        if (k > 0) model.push(cpuMs() - start);
      }
      for (let k = 0; k < 3; k++) {
        const start = cpuMs();
        // A fresh pyramid each time, as each image gets one.
        await detector.detect(pixelOps.buildPyramid(image), threshold, undefined, inputSize);
        if (k > 0) stage.push(cpuMs() - start);
      }
    }
    await session.release();
    const modelMs = median(model);
    const stageMs = median(stage);
    rows.push({ detector: slot, model: manifest.name, input: `${size.width}×${size.height}`, model_only_ms: round(modelMs), stage_ms: round(stageMs), stage_over_model: round(stageMs / modelMs) });
  }
  return rows;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
