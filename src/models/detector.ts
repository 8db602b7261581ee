import ort from 'onnxruntime-node';
import type { RawImage } from '../addon/types.js';
import { prepareModelInput } from '../pipeline/preprocess.js';
import type { ModelManifest } from './manifest.js';
import type { RawDetection } from './postprocess/candidates.js';
import { decodeUltraface } from './postprocess/ultraface.js';
import { decodeYolov5Corners } from './postprocess/yolov5-corners.js';
import { decodeYolox } from './postprocess/yolox.js';

export interface SessionSettings {
  intraOpThreads: number;
  executionProviders: string[];
}

export class ModelShapeError extends Error {
  constructor(manifest: ModelManifest, file: string, detail: string) {
    super(`Model ${manifest.name} (${file}) does not match its manifest: ${detail}`);
    this.name = 'ModelShapeError';
  }
}

/** Output names and last dimensions each post-processing kind needs. */
function checkOutputs(manifest: ModelManifest, file: string, session: ort.InferenceSession): void {
  const meta = session.outputMetadata as unknown as Array<{ name: string; shape?: Array<number | string> }>;
  const lastDim = (i: number) => meta[i]?.shape?.at(-1);
  const expect = (ok: boolean, what: string) => {
    if (!ok) throw new ModelShapeError(manifest, file, `expected ${what}, got outputs ${JSON.stringify(meta.map((m) => ({ name: m.name, shape: m.shape })))}`);
  };
  switch (manifest.output.kind) {
    case 'yolox':
      expect(meta.length >= 1 && (typeof lastDim(0) !== 'number' || lastDim(0) === 5 + manifest.classes.length), `one output [1, N, ${5 + manifest.classes.length}] (5 + ${manifest.classes.length} classes)`);
      break;
    case 'ultraface':
      expect(session.outputNames.includes('scores') && session.outputNames.includes('boxes'), 'outputs "scores" [1, N, 2] and "boxes" [1, N, 4]');
      break;
    case 'yolov5-corners': {
      const cols = 5 + 2 * (manifest.output.corners ?? 4) + manifest.classes.length;
      expect(meta.length >= 1 && (typeof lastDim(0) !== 'number' || lastDim(0) === cols), `one output [1, N, ${cols}]`);
      break;
    }
  }
}

/** One model with its onnxruntime session; create one per pool thread. */
export class Detector {
  private constructor(
    readonly manifest: ModelManifest,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(manifest: ModelManifest, file: string, settings: SessionSettings): Promise<Detector> {
    const session = await ort.InferenceSession.create(file, {
      executionProviders: settings.executionProviders,
      intraOpNumThreads: settings.intraOpThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // UltraFace keeps weights as graph inputs and warns about each at load.
      logSeverityLevel: 3,
    });
    const inputs = session.inputMetadata as unknown as Array<{ name: string; shape?: Array<number | string> }>;
    const input = inputs.find((i) => i.name === manifest.input.name);
    const want = [1, 3, manifest.input.height, manifest.input.width];
    if (!input) {
      throw new ModelShapeError(manifest, file, `expected an input named "${manifest.input.name}", the model has ${JSON.stringify(session.inputNames)}`);
    }
    if (input.shape && input.shape.some((d, i) => typeof d === 'number' && d !== want[i])) {
      throw new ModelShapeError(manifest, file, `expected input "${manifest.input.name}" of shape [${want.join(', ')}], the model has [${input.shape.join(', ')}]`);
    }
    checkOutputs(manifest, file, session);
    return new Detector(manifest, session);
  }

  async detect(image: RawImage, threshold: number): Promise<RawDetection[]> {
    const { input, output } = this.manifest;
    const prepared = await prepareModelInput(image, input);
    const feeds = { [input.name]: new ort.Tensor('float32', prepared.tensor, [1, 3, input.height, input.width]) };
    const results = await this.session.run(feeds);
    const { transform } = prepared;
    switch (output.kind) {
      case 'yolox': {
        const out = results[this.session.outputNames[0]];
        return decodeYolox(out.data as Float32Array, out.dims, input.width, input.height, output.strides ?? [8, 16, 32], threshold, transform, image.width, image.height);
      }
      case 'ultraface':
        return decodeUltraface(results.scores.data as Float32Array, results.boxes.data as Float32Array, input.width, input.height, threshold, transform, image.width, image.height);
      case 'yolov5-corners': {
        const out = results[this.session.outputNames[0]];
        return decodeYolov5Corners(out.data as Float32Array, out.dims, output.corners ?? 4, threshold, transform, image.width, image.height);
      }
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
