import { invalidOption } from '../errors.js';
import { outputFormatOf } from '../image-format.js';
import { JOB_OPTION_DEFAULTS, METADATA_POLICIES, type JobOptions, type MetadataPolicy } from '../job.js';

export interface OptionContext {
  /** Detectors this node has; asking for a missing one is a 400, not a silent skip. */
  available: { faces: boolean; plates: boolean; objects: boolean };
  objectClasses: readonly string[];
  defaultThresholds: JobOptions['thresholds'];
  /** KEEP_METADATA: what `metadata=` is when a request does not say. */
  defaultMetadata?: MetadataPolicy;
}

const KNOWN = new Set(['blur', 'shape', 'detect', 'face_threshold', 'plate_threshold', 'object_threshold', 'blur_classes', 'format', 'quality', 'metadata', 'return_image', 'wait', 'callback_url']);
const DETECTORS = ['faces', 'plates', 'objects'] as const;

function threshold(params: URLSearchParams, name: string, fallback: number): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) throw invalidOption(name, 'a number between 0 and 1', raw);
  return value;
}

function list(raw: string): string[] {
  return raw.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Query parameters → validated JobOptions. Unknown parameters are refused so typos do not pass silently. `callback_url` is checked by ingest/callback.ts (it needs DNS). */
export function parseJobOptions(params: URLSearchParams, ctx: OptionContext): JobOptions {
  for (const key of params.keys()) {
    if (!KNOWN.has(key)) throw invalidOption('query parameter', `one of ${[...KNOWN].join(', ')}`, key);
  }
  const blur = params.get('blur') ?? JOB_OPTION_DEFAULTS.blur;
  if (!['gaussian', 'pixelate', 'solid'].includes(blur)) throw invalidOption('blur', 'one of gaussian, pixelate, solid', blur);
  const shape = params.get('shape') ?? JOB_OPTION_DEFAULTS.shape;
  if (!['box', 'ellipse'].includes(shape)) throw invalidOption('shape', 'one of box, ellipse', shape);

  const detectRaw = params.get('detect');
  const detect = { faces: ctx.available.faces, plates: ctx.available.plates, objects: ctx.available.objects };
  if (detectRaw !== null) {
    const wanted = list(detectRaw);
    for (const name of wanted) {
      if (!(DETECTORS as readonly string[]).includes(name)) throw invalidOption('detect', 'a comma-separated list of faces, plates, objects', detectRaw);
      if (!ctx.available[name as keyof typeof detect]) throw invalidOption('detect', `detectors this server has configured (${DETECTORS.filter((d) => ctx.available[d]).join(', ')})`, name);
    }
    for (const d of DETECTORS) detect[d] = wanted.includes(d);
  }

  const blurClasses = list(params.get('blur_classes') ?? '');
  for (const name of blurClasses) {
    if (!ctx.objectClasses.includes(name)) throw invalidOption('blur_classes', 'class names of the object model (e.g. person,car)', name);
  }

  const format = outputFormatOf(params.get('format') ?? JOB_OPTION_DEFAULTS.format);
  if (!format) throw invalidOption('format', 'one of same, jpeg, png, webp', params.get('format'));

  const qualityRaw = params.get('quality');
  const quality = qualityRaw === null ? JOB_OPTION_DEFAULTS.quality : Number(qualityRaw);
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw invalidOption('quality', 'an integer between 1 and 100', qualityRaw);

  const metadata = params.get('metadata') ?? ctx.defaultMetadata ?? 'strip';
  if (!(METADATA_POLICIES as readonly string[]).includes(metadata)) throw invalidOption('metadata', 'one of strip, safe', metadata);

  return {
    blur: blur as JobOptions['blur'],
    shape: shape as JobOptions['shape'],
    detect,
    thresholds: {
      face: threshold(params, 'face_threshold', ctx.defaultThresholds.face),
      plate: threshold(params, 'plate_threshold', ctx.defaultThresholds.plate),
      object: threshold(params, 'object_threshold', ctx.defaultThresholds.object),
    },
    blurClasses,
    format,
    quality,
    metadata: metadata as MetadataPolicy,
  };
}
