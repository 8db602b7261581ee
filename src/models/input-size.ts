import type { ModelManifest } from './manifest.js';

/** Width and height of one run's model input, in pixels. */
export interface InputSize {
  width: number;
  height: number;
}

export class InputSizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputSizeError';
  }
}

/**
 * The input size a run uses: the manifest's size when none is asked for; otherwise the asked size,
 * which a dynamic model takes when both sides are positive multiples of its `multipleOf` and a
 * fixed-size model only when it equals its own size.
 */
export function resolveInputSize(manifest: ModelManifest, asked?: InputSize): InputSize {
  const { width, height, dynamic } = manifest.input;
  if (!asked) return { width, height };
  const shown = typeof asked === 'object' && asked !== null ? `${asked.width}×${asked.height}` : String(asked);
  const type = typeof asked === 'object' && asked !== null ? `${typeof asked.width}×${typeof asked.height}` : typeof asked;
  if (!dynamic) {
    if (asked.width === width && asked.height === height) return { width, height };
    throw new InputSizeError(`Expected the fixed input size ${width}×${height} for ${manifest.name} but received ${shown} of type ${type}`);
  }
  const n = dynamic.multipleOf;
  const ok = (v: unknown) => Number.isInteger(v) && (v as number) > 0 && (v as number) % n === 0 && (v as number) <= 8192;
  if (!ok(asked.width) || !ok(asked.height)) {
    throw new InputSizeError(`Expected an input size with width and height positive multiples of ${n} (at most 8192) for ${manifest.name} but received ${shown} of type ${type}`);
  }
  return { width: asked.width, height: asked.height };
}

/**
 * The input size of a dynamic model for an image (or region) of width × height: its long side scaled
 * to at most `longSide` (never enlarged unless `upscale`), both sides rounded up to multiples of
 * `multipleOf` so the letterboxed image fits whole and only a thin padding strip is added.
 */
export function inputSizeFor(width: number, height: number, longSide: number, multipleOf: number, upscale = false): InputSize {
  const scale = upscale ? longSide / Math.max(width, height) : Math.min(1, longSide / Math.max(width, height));
  const round = (v: number) => Math.max(multipleOf, Math.ceil(Math.round(v * scale) / multipleOf) * multipleOf);
  return { width: round(width), height: round(height) };
}
