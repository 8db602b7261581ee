import fs from 'node:fs';
import path from 'node:path';
import type { TensorSpec } from '../addon/types.js';
import { manifestDir } from '../paths.js';

export type ModelTask = 'faces' | 'plates' | 'objects';
export type OutputKind = 'yolox' | 'ultraface' | 'yolov5-corners' | 'yolov5' | 'yolov8' | 'nms' | 'retinaface' | 'blazeface' | 'yunet';

/** The model's input tensor: how the decoded image is resized and normalised into it (see TensorSpec). */
export interface InputSpec extends TensorSpec {
  name: string;
  /** nchw: [1, 3, H, W]; nhwc: [1, H, W, 3] (TensorFlow/MediaPipe exports). */
  layout: 'nchw' | 'nhwc';
  /**
   * Set when the model takes any input size whose width and height are multiples of `multipleOf`
   * (YuNet: 32); width and height are then the size used when a caller asks for none.
   */
  dynamic?: { multipleOf: number };
}

/**
 * How to read the model's outputs. Box coordinates are in model-input pixels unless `normalized`.
 * - yolox: [1, N, 5+nc] raw grid head (strides).
 * - yolov5: [1, N, 5+nc] rows cx,cy,w,h,objectness,class scores.
 * - yolov5-corners: like yolov5 with 2·corners point coordinates before the class scores.
 * - yolov8: [1, 4+nc, N] (YOLOv8/YOLO11 export, transposed, no objectness).
 * - nms: built-in NMS; last dim 6 = x1,y1,x2,y2,score,class ([1, N, 6] or [N, 6]);
 *   last dim 7 = batch,x1,y1,x2,y2,class,score ([N, 7], YOLOv7 end2end / onnx NonMaxSuppression style).
 * - ultraface: outputs `scores` [1, N, 2] (softmaxed) and `boxes` [1, N, 4] normalised x1,y1,x2,y2.
 * - retinaface: raw `loc` [1, N, 4] and `conf` [1, N, 2] against SSD priors (minSizes, strides, variances).
 * - blazeface: MediaPipe BlazeFace, score logits and box regressors per anchor layer (see blazeface.ts).
 * - yunet: per stride s (strides, default 8/16/32) outputs cls_s, obj_s [1, N, 1], bbox_s [1, N, 4],
 *   kps_s [1, N, 10] (five landmarks), one row per grid cell (see yunet.ts).
 */
export interface OutputSpec {
  kind: OutputKind;
  strides?: number[];
  corners?: number;
  normalized?: boolean;
  /** Output tensor names when the kind reads more than one (ultraface, retinaface). */
  scores?: string;
  boxes?: string;
  /** retinaface priors: one list of square anchor sizes per stride. */
  minSizes?: number[][];
  variances?: [number, number];
  /** blazeface: anchors per grid cell for each stride. */
  anchorsPerCell?: number[];
  /** IoU for the NMS applied after decoding (not used by kind nms). */
  iou?: number;
}

export interface ModelManifest {
  name: string;
  task: ModelTask;
  file: string;
  bytes?: number;
  sha256: string;
  /** `archive` names a file inside a .tgz at url (npm tarballs); sha256 is the extracted file's. */
  source: { url: string; repository?: string; path?: string; commit?: string; archive?: { format: 'tgz'; path: string } };
  license: string;
  /** Where the licence comes from when the repository hosting the file has none of its own. */
  licenseNote?: string;
  input: InputSpec;
  output: OutputSpec;
  classes: string[];
  /**
   * The score threshold a job gets for this model when it asks for none (face_threshold, plate_threshold…);
   * unset: the service-wide default of its task (src/job.ts). YOLOv9-t scores differ from HyperLPR's.
   */
  threshold?: number;
}

const TASKS: readonly string[] = ['faces', 'plates', 'objects'];
export const OUTPUT_KINDS: readonly OutputKind[] = ['yolox', 'ultraface', 'yolov5-corners', 'yolov5', 'yolov8', 'nms', 'retinaface', 'blazeface', 'yunet'];

function fail(where: string, message: string): never {
  throw new Error(`Invalid model manifest ${where}: ${message}`);
}

const isPositiveIntList = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && x > 0);

function validateOutput(where: string, output: any): void {
  if (typeof output !== 'object' || output === null) fail(where, 'expected an output object');
  if (!OUTPUT_KINDS.includes(output.kind)) fail(where, `output.kind must be one of ${OUTPUT_KINDS.join(', ')}`);
  if (output.strides !== undefined && !isPositiveIntList(output.strides)) fail(where, 'output.strides must be a non-empty array of positive integers');
  if (output.corners !== undefined && (!Number.isInteger(output.corners) || output.corners < 0 || output.corners > 64)) fail(where, 'output.corners must be an integer 0..64');
  if (output.normalized !== undefined && typeof output.normalized !== 'boolean') fail(where, 'output.normalized must be true or false');
  for (const field of ['scores', 'boxes']) {
    if (output[field] !== undefined && (typeof output[field] !== 'string' || output[field] === '')) fail(where, `output.${field} must be an output tensor name`);
  }
  if (output.iou !== undefined && !(typeof output.iou === 'number' && output.iou > 0 && output.iou <= 1)) fail(where, 'output.iou must be a number in (0, 1]');
  if (output.kind === 'retinaface') {
    const sizes = output.minSizes;
    if (sizes !== undefined && (!Array.isArray(sizes) || !sizes.every(isPositiveIntList))) fail(where, 'output.minSizes must be an array of arrays of positive integers, one per stride');
    if (sizes !== undefined && output.strides !== undefined && sizes.length !== output.strides.length) fail(where, 'output.minSizes needs one entry per output.strides entry');
    const v = output.variances;
    if (v !== undefined && (!Array.isArray(v) || v.length !== 2 || !v.every((x: unknown) => typeof x === 'number' && x > 0))) fail(where, 'output.variances must be two positive numbers');
  }
  if (output.kind === 'blazeface') {
    if (output.anchorsPerCell !== undefined && !isPositiveIntList(output.anchorsPerCell)) fail(where, 'output.anchorsPerCell must be a non-empty array of positive integers');
    if (output.anchorsPerCell !== undefined && output.strides !== undefined && output.anchorsPerCell.length !== output.strides.length) fail(where, 'output.anchorsPerCell needs one entry per output.strides entry');
  }
}

/** Checks a parsed manifest field by field so a typo names the file and the field. */
export function validateManifest(raw: unknown, where: string): ModelManifest {
  if (typeof raw !== 'object' || raw === null) fail(where, 'expected a JSON object');
  const m = raw as Record<string, any>;
  for (const field of ['name', 'file', 'sha256', 'license']) {
    if (typeof m[field] !== 'string' || m[field] === '') fail(where, `expected a non-empty string for ${field}`);
  }
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(m.name)) fail(where, `name ${JSON.stringify(m.name)} must be lower-case letters, digits, ".", "_" or "-"`);
  if (path.basename(m.file) !== m.file) fail(where, `file must be a bare file name, got ${JSON.stringify(m.file)}`);
  if (!/^[0-9a-f]{64}$/.test(m.sha256)) fail(where, 'sha256 must be 64 lower-case hex digits');
  if (m.licenseNote !== undefined && (typeof m.licenseNote !== 'string' || m.licenseNote === '')) fail(where, 'licenseNote must be a non-empty string');
  if (!TASKS.includes(m.task)) fail(where, `task must be one of ${TASKS.join(', ')}`);
  if (typeof m.source?.url !== 'string') fail(where, 'expected source.url');
  const archive = m.source.archive;
  if (archive !== undefined) {
    if (archive?.format !== 'tgz') fail(where, 'source.archive.format must be tgz');
    if (typeof archive.path !== 'string' || archive.path === '' || archive.path.split('/').includes('..')) fail(where, 'source.archive.path must be a relative path inside the archive');
  }
  const input = m.input ?? fail(where, 'expected an input object');
  for (const field of ['width', 'height']) {
    if (!Number.isInteger(input[field]) || input[field] < 8 || input[field] > 4096) fail(where, `input.${field} must be an integer 8..4096`);
  }
  if (typeof input.name !== 'string') fail(where, 'expected input.name');
  if (input.dynamic !== undefined) {
    const n = input.dynamic?.multipleOf;
    if (!Number.isInteger(n) || n < 1 || n > 256) fail(where, 'input.dynamic.multipleOf must be an integer 1..256');
    if (input.width % n !== 0 || input.height % n !== 0) fail(where, `input.width and input.height (the default size) must be multiples of input.dynamic.multipleOf (${n})`);
  }
  if (!['nchw', 'nhwc'].includes(input.layout ?? 'nchw')) fail(where, 'input.layout must be nchw or nhwc');
  if (!['rgb', 'bgr'].includes(input.channelOrder)) fail(where, 'input.channelOrder must be rgb or bgr');
  if (!['letterbox', 'stretch'].includes(input.resize)) fail(where, 'input.resize must be letterbox or stretch');
  if (!['top-left', 'center'].includes(input.align ?? 'top-left')) fail(where, 'input.align must be top-left or center');
  for (const field of ['mean', 'std']) {
    const v = input[field];
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x: unknown) => typeof x === 'number')) fail(where, `input.${field} must be three numbers`);
  }
  if (input.std.some((x: number) => x === 0)) fail(where, 'input.std must not contain 0');
  validateOutput(where, m.output);
  if (m.threshold !== undefined && !(typeof m.threshold === 'number' && m.threshold > 0 && m.threshold < 1)) fail(where, 'threshold must be a number in (0, 1)');
  if (!Array.isArray(m.classes) || m.classes.length === 0 || !m.classes.every((c: unknown) => typeof c === 'string')) {
    fail(where, 'classes must be a non-empty array of names');
  }
  return {
    ...(m as ModelManifest),
    input: { layout: 'nchw', align: 'top-left', padValue: 0, ...input },
  };
}

/** The manifests shipped in models/, plus any *.json in extraDir (custom models). */
export function loadManifests(extraDir?: string): Map<string, ModelManifest> {
  const manifests = new Map<string, ModelManifest>();
  for (const dir of [manifestDir, extraDir]) {
    if (!dir || !fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
      const where = path.join(dir, entry);
      const manifest = validateManifest(JSON.parse(fs.readFileSync(where, 'utf8')), where);
      manifests.set(manifest.name, manifest);
    }
  }
  return manifests;
}
