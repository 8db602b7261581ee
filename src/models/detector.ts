import ort from 'onnxruntime-node';
import { ImagePyramid, pixelOps } from '../addon/index.js';
import type { InputTransform, RawImage } from '../addon/types.js';
import type { PixelRegion } from './input.js';
import { resolveInputSize, type InputSize } from './input-size.js';
import type { ModelManifest } from './manifest.js';
import { blazefaceAnchors, decodeBlazeface } from './postprocess/blazeface.js';
import type { RawDetection } from './postprocess/candidates.js';
import type { DecodeContext } from './postprocess/decode-context.js';
import { decodeNms } from './postprocess/nms.js';
import { decodeRetinaface, RETINAFACE_DEFAULTS, retinafacePriors } from './postprocess/retinaface.js';
import { decodeUltraface } from './postprocess/ultraface.js';
import { decodeYolov5Corners } from './postprocess/yolov5-corners.js';
import { decodeYolov8 } from './postprocess/yolov8.js';
import { decodeYolox } from './postprocess/yolox.js';
import { decodeYunet, YUNET_STRIDES, type YunetHeads } from './postprocess/yunet.js';
import { openOrtSession, type ModelSession, type SessionSettings, type ValueMeta } from './model-session.js';
import { TensorStash } from './tensor-stash.js';

export type { SessionSettings } from './model-session.js';

export class ModelShapeError extends Error {
  constructor(manifest: ModelManifest, file: string, detail: string) {
    super(`Model ${manifest.name} (${file}) does not match its manifest: ${detail}`);
    this.name = 'ModelShapeError';
  }
}

type Meta = ValueMeta;
const fmt = (shape?: Array<number | string>) => (shape ? `[${shape.join(', ')}]` : '[?]');
/** A dimension matches when the model leaves it symbolic or it equals what we need. */
const dimOk = (d: number | string | undefined, want: number) => typeof d !== 'number' || d === want;

export const BLAZEFACE_DEFAULTS = { strides: [16, 32], anchorsPerCell: [2, 6] };

/** Anchor counts per layer, from the manifest or the kind's defaults. */
function anchorLayout(manifest: ModelManifest): { counts: number[]; priors: Float32Array } {
  const { input, output } = manifest;
  if (output.kind === 'blazeface') {
    const strides = output.strides ?? BLAZEFACE_DEFAULTS.strides;
    const per = output.anchorsPerCell ?? BLAZEFACE_DEFAULTS.anchorsPerCell;
    const counts = strides.map((s, k) => Math.ceil(input.width / s) * Math.ceil(input.height / s) * per[k]);
    return { counts, priors: blazefaceAnchors(input.width, input.height, strides, per) };
  }
  const p = { strides: output.strides ?? RETINAFACE_DEFAULTS.strides, minSizes: output.minSizes ?? RETINAFACE_DEFAULTS.minSizes, variances: output.variances ?? RETINAFACE_DEFAULTS.variances };
  const counts = p.strides.map((s, k) => Math.ceil(input.width / s) * Math.ceil(input.height / s) * p.minSizes[k].length);
  return { counts, priors: retinafacePriors(input.width, input.height, p) };
}

/** BlazeFace exports name outputs arbitrarily: pair each score head [1, n, 1] with the regressor head [1, n, ≥4] of the same n. */
function blazefaceHeads(meta: Meta[], counts: number[]): Array<{ scores: string; boxes: string }> | string {
  return counts.map((n) => {
    const scores = meta.find((m) => m.shape?.at(-2) === n && m.shape?.at(-1) === 1);
    const boxes = meta.find((m) => m.shape?.at(-2) === n && typeof m.shape?.at(-1) === 'number' && (m.shape.at(-1) as number) >= 4);
    return scores && boxes ? { scores: scores.name, boxes: boxes.name } : `a score head [1, ${n}, 1] and a regressor head [1, ${n}, 16]`;
  }) as never;
}

/** Checks outputs against what the manifest's output kind reads, so a wrong model fails at load with what was expected. */
function checkOutputs(manifest: ModelManifest, file: string, meta: Meta[]): void {
  const nc = manifest.classes.length;
  const got = `the model has outputs ${meta.map((m) => `"${m.name}" ${fmt(m.shape)}`).join(', ')}`;
  const expect = (ok: boolean, what: string) => {
    if (!ok) throw new ModelShapeError(manifest, file, `output kind ${manifest.output.kind} expects ${what}; ${got}`);
  };
  const byName = (name: string) => meta.find((m) => m.name === name);
  const last = meta[0]?.shape?.at(-1);
  const { output } = manifest;
  switch (output.kind) {
    case 'yolox':
      expect(meta.length >= 1 && dimOk(last, 5 + nc), `one output [1, N, ${5 + nc}] (5 + ${nc} classes)`);
      break;
    case 'yolov5':
      expect(meta.length >= 1 && meta[0].shape?.length !== 2 && dimOk(last, 5 + nc), `one output [1, N, ${5 + nc}] (cx, cy, w, h, objectness + ${nc} classes)`);
      break;
    case 'yolov5-corners': {
      const cols = 5 + 2 * (output.corners ?? 4) + nc;
      expect(meta.length >= 1 && dimOk(last, cols), `one output [1, N, ${cols}] (5 + ${2 * (output.corners ?? 4)} corner coordinates + ${nc} classes)`);
      break;
    }
    case 'yolov8':
      expect(meta.length >= 1 && meta[0].shape?.length === 3 && dimOk(meta[0].shape?.at(-2), 4 + nc), `one output [1, ${4 + nc}, N] (4 box + ${nc} classes, channel-major)`);
      break;
    case 'nms':
      expect(meta.length >= 1 && (typeof last !== 'number' || last === 6 || last === 7), 'one output [1, N, 6] (x1, y1, x2, y2, score, class) or [N, 7] (batch, x1, y1, x2, y2, class, score)');
      break;
    case 'ultraface': {
      const s = byName(output.scores ?? 'scores');
      const b = byName(output.boxes ?? 'boxes');
      expect(!!s && !!b && dimOk(s.shape?.at(-1), 2) && dimOk(b.shape?.at(-1), 4), `outputs "${output.scores ?? 'scores'}" [1, N, 2] and "${output.boxes ?? 'boxes'}" [1, N, 4]`);
      break;
    }
    case 'retinaface': {
      const n = anchorLayout(manifest).counts.reduce((a, b) => a + b, 0);
      const s = byName(output.scores ?? 'conf');
      const b = byName(output.boxes ?? 'loc');
      expect(!!s && !!b && dimOk(s.shape?.at(-1), 2) && dimOk(b.shape?.at(-1), 4) && dimOk(b.shape?.at(-2), n), `outputs "${output.scores ?? 'conf'}" [1, ${n}, 2] and "${output.boxes ?? 'loc'}" [1, ${n}, 4] (${n} priors for a ${manifest.input.width}×${manifest.input.height} input)`);
      break;
    }
    case 'blazeface': {
      const heads = blazefaceHeads(meta, anchorLayout(manifest).counts) as unknown as Array<{ scores: string } | string>;
      const missing = heads.filter((h): h is string => typeof h === 'string');
      expect(missing.length === 0, missing.join(' and '));
      break;
    }
    case 'yunet': {
      const strides = output.strides ?? YUNET_STRIDES;
      const heads = strides.flatMap((s) => [[`cls_${s}`, 1], [`obj_${s}`, 1], [`bbox_${s}`, 4], [`kps_${s}`, 10]] as Array<[string, number]>);
      const ok = heads.every(([name, cols]) => byName(name) && dimOk(byName(name)!.shape?.at(-1), cols));
      expect(ok, `per stride s in ${strides.join('/')} outputs ${heads.filter(([n]) => n.endsWith(`_${strides[0]}`)).map(([n, c]) => `"${n.replace(/_\d+$/, '_s')}" [1, N, ${c}]`).join(', ')}`);
      break;
    }
  }
}

/** Checks the model's input shape: fixed dims equal the manifest's size; a dynamic manifest needs symbolic H and W. */
function checkInput(manifest: ModelManifest, file: string, shape: Array<number | string> | undefined): void {
  const { input } = manifest;
  const want = inputDims(manifest, input);
  const layout = input.layout ?? 'nchw';
  if (!shape) return;
  if (shape.length !== 4) throw new ModelShapeError(manifest, file, `expected input "${input.name}" of shape [${want.join(', ')}] (${layout}), the model has ${fmt(shape)}`);
  const spatial = layout === 'nhwc' ? [1, 2] : [2, 3];
  if (input.dynamic) {
    const fixed = spatial.filter((i) => typeof shape[i] === 'number');
    const rest = shape.every((d, i) => spatial.includes(i) || dimOk(d, want[i]));
    if (fixed.length > 0 || !rest) {
      const dims = want.map((d, i) => (spatial.includes(i) ? (i === spatial[0] ? 'H' : 'W') : d));
      throw new ModelShapeError(manifest, file, `the manifest declares a dynamic input (H and W multiples of ${input.dynamic.multipleOf}), so input "${input.name}" must be [${dims.join(', ')}] with symbolic H and W (${layout}), the model has ${fmt(shape)}`);
    }
    return;
  }
  if (shape.some((d, i) => !dimOk(d, want[i]))) {
    throw new ModelShapeError(manifest, file, `expected input "${input.name}" of shape [${want.join(', ')}] (${layout}), the model has ${fmt(shape)}`);
  }
}

/** One model with its session (its own onnxruntime session, or the inference thread's through a port); one per pool thread. */
export class Detector {
  private readonly heads: Array<{ scores: string; boxes: string }> = [];
  private readonly priors?: Float32Array;
  private readonly tensors = new TensorStash();

  private constructor(
    readonly manifest: ModelManifest,
    private readonly session: ModelSession,
  ) {
    const { output } = manifest;
    if (output.kind === 'blazeface' || output.kind === 'retinaface') this.priors = anchorLayout(manifest).priors;
    if (output.kind === 'blazeface') {
      const meta = session.outputMetadata as Meta[];
      this.heads = blazefaceHeads(meta, anchorLayout(manifest).counts) as unknown as Array<{ scores: string; boxes: string }>;
    }
  }

  static async load(manifest: ModelManifest, file: string, settings: SessionSettings): Promise<Detector> {
    return Detector.open(manifest, file, await openOrtSession(file, settings));
  }

  /** Checks the session's inputs and outputs against the manifest (releasing it on a mismatch); `file` only names it in errors. */
  static async open(manifest: ModelManifest, file: string, session: ModelSession): Promise<Detector> {
    try {
      const inputs = session.inputMetadata as Meta[];
      const input = inputs.find((i) => i.name === manifest.input.name);
      if (!input) {
        throw new ModelShapeError(manifest, file, `expected an input named "${manifest.input.name}", the model has ${JSON.stringify(session.inputNames)}`);
      }
      checkInput(manifest, file, input.shape);
      checkOutputs(manifest, file, session.outputMetadata as Meta[]);
    } catch (err) {
      await session.release();
      throw err;
    }
    return new Detector(manifest, session);
  }

  /** Whether one session.run takes several inputs: the model's batch dimension is symbolic (YuNet), not 1. */
  get batches(): boolean {
    const input = (this.session.inputMetadata as Meta[]).find((i) => i.name === this.manifest.input.name);
    return typeof input?.shape?.[0] === 'string';
  }

  /**
   * Detections in full-image pixels; with `region`, only that crop is fed to the model (tiles, vehicle boxes).
   * `image` is the decoded image or its pyramid (pixelOps.buildPyramid, built once per image and shared by
   * every pass): the input tensor comes from one fused crop + resize + normalise pass (regionToTensor), no
   * sharp call. `inputSize` picks this run's input size for a dynamic model (see input-size.ts;
   * InputSizeError when it is not one the manifest allows); without it the manifest's width and height are used.
   */
  async detect(image: RawImage | ImagePyramid, threshold: number, region?: PixelRegion, options: { inputSize?: InputSize } = {}): Promise<RawDetection[]> {
    const [found] = await this.detectBatch(image, threshold, [region], options);
    return found;
  }

  /**
   * One pass per region, all at one input size. A model with a symbolic batch dimension gets them in one
   * session.run ([N, 3, H, W]); the others (batch 1 exports: YOLOv9-t, HyperLPR, UltraFace) one run each.
   * Returns one list per region, in full-image pixels.
   */
  async detectBatch(image: RawImage | ImagePyramid, threshold: number, regions: Array<PixelRegion | undefined>, options: { inputSize?: InputSize } = {}): Promise<RawDetection[][]> {
    if (regions.length === 0) return [];
    const pyramid = image instanceof ImagePyramid ? image : pixelOps.buildPyramid(image);
    const input = { ...this.manifest.input, ...resolveInputSize(this.manifest, options.inputSize) };
    const items = 3 * input.width * input.height;
    const groups = this.batches ? [regions] : regions.map((r) => [r]);
    const out: RawDetection[][] = [];
    for (const group of groups) {
      let tensor = this.tensors.take(items * group.length);
      let results: ort.InferenceSession.OnnxValueMapType;
      let transforms: InputTransform[];
      try {
        transforms = group.map((region, i) => pixelOps.regionToTensor(pyramid, input, { region, out: tensor, offset: i * items }).transform);
        const dims = inputDims(this.manifest, input, group.length);
        const run = await this.session.run({ [input.name]: new ort.Tensor('float32', tensor, dims) });
        results = run.outputs;
        // A session in the inference thread took the tensor's memory and hands it back with the outputs.
        tensor = (run.returned?.[input.name] as Float32Array | undefined) ?? tensor;
      } finally {
        this.tensors.give(tensor);
      }
      for (let i = 0; i < group.length; i++) out.push(this.decode(results, i, group.length, input, pyramid.image, transforms[i], threshold));
    }
    return out;
  }

  /** Batch item `item` of `count` of one run's outputs → detections in image pixels. */
  private decode(results: ort.InferenceSession.OnnxValueMapType, item: number, count: number, input: InputSize, image: RawImage, transform: InputTransform, threshold: number): RawDetection[] {
    const { output } = this.manifest;
    const slice = (name: string): { data: Float32Array; dims: readonly number[] } => {
      const t = results[name];
      const data = t.data as Float32Array;
      if (count === 1) return { data, dims: t.dims };
      const per = data.length / count;
      return { data: data.subarray(item * per, (item + 1) * per), dims: [1, ...t.dims.slice(1)] };
    };
    const first = () => slice(this.session.outputNames[0]);
    // Each kind's NMS overlap: the manifest's `iou`, else the kind's usual value.
    const ctx = (iou: number): DecodeContext => ({
      inputWidth: input.width,
      inputHeight: input.height,
      imageWidth: image.width,
      imageHeight: image.height,
      transform,
      threshold,
      iou,
    });
    const normalized = Boolean(output.normalized);
    switch (output.kind) {
      case 'yolox': {
        const out = first();
        return decodeYolox(out.data, out.dims, ctx(0.45), { strides: output.strides ?? [8, 16, 32] });
      }
      case 'ultraface':
        return decodeUltraface(slice(output.scores ?? 'scores').data, slice(output.boxes ?? 'boxes').data, ctx(output.iou ?? 0.3));
      case 'yolov5-corners': {
        const out = first();
        return decodeYolov5Corners(out.data, out.dims, ctx(output.iou ?? 0.45), { corners: output.corners ?? 4, normalized });
      }
      case 'yolov5': {
        const out = first();
        return decodeYolov5Corners(out.data, out.dims, ctx(output.iou ?? 0.45), { corners: 0, classAware: true, normalized });
      }
      case 'yolov8': {
        const out = first();
        return decodeYolov8(out.data, out.dims, ctx(output.iou ?? 0.45), { normalized });
      }
      case 'nms': {
        // The model ran NMS already; ours only drops exact duplicates. Batch 1 only (see detectBatch).
        const out = first();
        return decodeNms(out.data, out.dims, ctx(0.9), { normalized });
      }
      case 'retinaface':
        return decodeRetinaface(slice(output.boxes ?? 'loc').data, slice(output.scores ?? 'conf').data, ctx(output.iou ?? 0.4), {
          priors: this.priors!,
          variances: output.variances ?? RETINAFACE_DEFAULTS.variances,
        });
      case 'blazeface': {
        const logits = concat(this.heads.map((h) => slice(h.scores).data));
        const regressors = concat(this.heads.map((h) => slice(h.boxes).data));
        return decodeBlazeface(logits, regressors, ctx(output.iou ?? 0.3), { anchors: this.priors! });
      }
      case 'yunet': {
        const tensor = (name: string) => slice(name).data;
        const heads: YunetHeads[] = (output.strides ?? YUNET_STRIDES).map((stride) => ({ stride, cls: tensor(`cls_${stride}`), obj: tensor(`obj_${stride}`), bbox: tensor(`bbox_${stride}`), kps: tensor(`kps_${stride}`) }));
        return decodeYunet(heads, ctx(output.iou ?? 0.3));
      }
    }
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function inputDims(manifest: ModelManifest, size: InputSize = manifest.input, batch = 1): number[] {
  const { width, height } = size;
  const { layout } = manifest.input;
  return layout === 'nhwc' ? [batch, height, width, 3] : [batch, 3, height, width];
}

function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
