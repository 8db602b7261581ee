import fs from 'node:fs';
import path from 'node:path';
import { expectedOf } from '../schema/describe.js';
import { firstError } from '../schema/first-error.js';
import { manifestDir } from '../paths.js';
import { ModelManifestSchema, type ManifestAsWritten, type ModelManifest } from './manifest-schema.js';

export { OUTPUT_KINDS, type InputSpec, type ModelManifest, type ModelTask, type OutputKind, type OutputSpec } from './manifest-schema.js';

/** A manifest file that cannot describe a model: the CLI prints its message alone (a user's file, not a bug). */
export class ManifestError extends Error {
  override name = 'ManifestError';
}

function fail(where: string, message: string): never {
  throw new ManifestError(`Invalid model manifest ${where}: ${message}`);
}

/** "<field> must be <what>, got <value>" (the value cut to one line), or "<field> is missing; it must be <what>". */
function describe(field: string, what: string, value: unknown): string {
  if (value === undefined) return `${field} is missing; it must be ${what}`;
  const text = JSON.stringify(value);
  return `${field} must be ${what}, got ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

// Checks across fields, which a schema of each field cannot state.
function checkAcrossFields(where: string, m: ManifestAsWritten): void {
  const { input, output } = m;
  const n = input.dynamic?.multipleOf;
  if (n !== undefined && (input.width % n !== 0 || input.height % n !== 0)) {
    fail(where, `input.width and input.height (the default size) must be multiples of input.dynamic.multipleOf (${n})`);
  }
  // The normalisation divides by it.
  if (input.std.includes(0)) fail(where, 'input.std must not contain 0');
  if (output.kind === 'retinaface' && output.minSizes && output.strides && output.minSizes.length !== output.strides.length) {
    fail(where, 'output.minSizes needs one entry per output.strides entry');
  }
  if (output.kind === 'blazeface' && output.anchorsPerCell && output.strides && output.anchorsPerCell.length !== output.strides.length) {
    fail(where, 'output.anchorsPerCell needs one entry per output.strides entry');
  }
}

/** Checks a parsed manifest against ModelManifestSchema, then across fields, so a typo names the file and the field. */
export function validateManifest(raw: unknown, where: string): ModelManifest {
  const error = firstError(ModelManifestSchema, raw);
  if (error) fail(where, describe(error.path.join('.') || 'the manifest', expectedOf(error.schema), error.value));
  const m = raw as ManifestAsWritten;
  checkAcrossFields(where, m);
  return { ...m, input: { layout: 'nchw', align: 'top-left', padValue: 0, ...m.input } };
}

function readJson(where: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(where, 'utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) fail(where, `not JSON (${err.message})`);
    throw err;
  }
}

/** The manifests shipped in models/, plus any *.json in extraDir (custom models). */
export function loadManifests(extraDir?: string): Map<string, ModelManifest> {
  const manifests = new Map<string, ModelManifest>();
  for (const dir of [manifestDir, extraDir]) {
    if (!dir || !fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
      const where = path.join(dir, entry);
      const manifest = validateManifest(readJson(where), where);
      manifests.set(manifest.name, manifest);
    }
  }
  return manifests;
}
