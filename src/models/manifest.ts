import fs from 'node:fs';
import path from 'node:path';
import { manifestDir } from '../paths.js';

export type ModelTask = 'faces' | 'plates' | 'objects';
export type OutputKind = 'yolox' | 'ultraface' | 'yolov5-corners';

export interface InputSpec {
  name: string;
  width: number;
  height: number;
  layout: 'nchw';
  channelOrder: 'rgb' | 'bgr';
  /** letterbox keeps aspect ratio and pads; stretch ignores it. */
  resize: 'letterbox' | 'stretch';
  /** Where a letterboxed image sits in the model input. */
  align: 'top-left' | 'center';
  padValue: number;
  /** value = (pixel - mean) / std, per channel in channelOrder. */
  mean: [number, number, number];
  std: [number, number, number];
}

export interface ModelManifest {
  name: string;
  task: ModelTask;
  file: string;
  bytes?: number;
  sha256: string;
  source: { url: string; repository?: string; path?: string; commit?: string };
  license: string;
  input: InputSpec;
  output: { kind: OutputKind; strides?: number[]; corners?: number };
  classes: string[];
}

const TASKS: readonly string[] = ['faces', 'plates', 'objects'];
const KINDS: readonly string[] = ['yolox', 'ultraface', 'yolov5-corners'];

function fail(where: string, message: string): never {
  throw new Error(`Invalid model manifest ${where}: ${message}`);
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
  if (!TASKS.includes(m.task)) fail(where, `task must be one of ${TASKS.join(', ')}`);
  if (typeof m.source?.url !== 'string') fail(where, 'expected source.url');
  const input = m.input ?? fail(where, 'expected an input object');
  for (const field of ['width', 'height']) {
    if (!Number.isInteger(input[field]) || input[field] < 8 || input[field] > 4096) fail(where, `input.${field} must be an integer 8..4096`);
  }
  if (typeof input.name !== 'string') fail(where, 'expected input.name');
  if (!['rgb', 'bgr'].includes(input.channelOrder)) fail(where, 'input.channelOrder must be rgb or bgr');
  if (!['letterbox', 'stretch'].includes(input.resize)) fail(where, 'input.resize must be letterbox or stretch');
  if (!['top-left', 'center'].includes(input.align ?? 'top-left')) fail(where, 'input.align must be top-left or center');
  for (const field of ['mean', 'std']) {
    const v = input[field];
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x: unknown) => typeof x === 'number')) fail(where, `input.${field} must be three numbers`);
  }
  if (input.std.some((x: number) => x === 0)) fail(where, 'input.std must not contain 0');
  if (!KINDS.includes(m.output?.kind)) fail(where, `output.kind must be one of ${KINDS.join(', ')}`);
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
