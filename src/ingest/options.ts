import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { invalidOption } from '../errors.js';
import { outputFormatOf } from '../image-format.js';
import { JOB_OPTION_DEFAULTS, type JobOptions, type MetadataPolicy } from '../job.js';
import { expectedOf } from '../schema/describe.js';
import { detectionKinds, kindSlots, thresholdParam } from '../kinds.js';
import { JobOptionsQuerySchema, type JobOptionsQueryName } from '../schema/options-query.js';

export interface OptionContext {
  /** Detectors this node has; asking for a missing one is a 400, not a silent skip. */
  available: JobOptions['detect'];
  objectClasses: readonly string[];
  defaultThresholds: JobOptions['thresholds'];
  /** KEEP_METADATA: what `metadata=` is when a request does not say. */
  defaultMetadata?: MetadataPolicy;
}

const PARAMS = JobOptionsQuerySchema.properties;
const KNOWN = Object.keys(PARAMS) as JobOptionsQueryName[];

function list(raw: string): string[] {
  return raw.split(',').map((s) => s.trim()).filter(Boolean);
}

/** A query string → the value its schema types (numbers, lists); blank is no number at all. */
function convert(schema: TSchema, raw: string): unknown {
  const type = (schema as { type?: string }).type;
  if (type === 'number' || type === 'integer') return raw.trim() === '' ? Number.NaN : Number(raw);
  if (type === 'array') return list(raw);
  return raw;
}

/**
 * The parameter's value, checked against its schema; undefined when absent. A failure is sharp's
 * message with <what> read off the same schema the OpenAPI document shows.
 */
function param<T>(params: URLSearchParams, name: JobOptionsQueryName, normalize: (raw: string) => string = (raw) => raw): T | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  const schema = PARAMS[name] as TSchema;
  const value = convert(schema, normalize(raw));
  if (!Value.Check(schema, value)) throw invalidOption(name, expectedOf(schema), raw);
  return value as T;
}

/** Query parameters → validated JobOptions. Unknown parameters are refused so typos do not pass silently. `callback_url` is checked by ingest/callback.ts (it needs DNS). */
export function parseJobOptions(params: URLSearchParams, ctx: OptionContext): JobOptions {
  for (const key of params.keys()) {
    if (!(KNOWN as string[]).includes(key)) throw invalidOption('query parameter', `one of ${KNOWN.join(', ')}`, key);
  }
  const blur = param<JobOptions['blur']>(params, 'blur') ?? JOB_OPTION_DEFAULTS.blur;
  const shape = param<JobOptions['shape']>(params, 'shape') ?? JOB_OPTION_DEFAULTS.shape;

  // Which detectors this node has is configuration, not schema: that check stays here.
  const detect = { ...ctx.available };
  const wanted = param<string[]>(params, 'detect');
  if (wanted) {
    for (const name of wanted) {
      if (!ctx.available[name]) throw invalidOption('detect', `detectors this server has configured (${kindSlots().filter((d) => ctx.available[d]).join(', ')})`, name);
    }
    for (const d of kindSlots()) detect[d] = wanted.includes(d);
  }

  const blurClasses = param<string[]>(params, 'blur_classes') ?? [];
  for (const name of blurClasses) {
    if (!ctx.objectClasses.includes(name)) throw invalidOption('blur_classes', 'class names of the object model (e.g. person,car)', name);
  }

  // `jpg` and any case are accepted for the names the schema lists.
  const format = param<JobOptions['format']>(params, 'format', (raw) => outputFormatOf(raw) ?? raw) ?? JOB_OPTION_DEFAULTS.format;
  // Left absent when not given: a JPEG written as JPEG then keeps its untouched blocks (pipeline/encode.ts).
  const quality = param<number>(params, 'quality');
  const metadata = param<MetadataPolicy>(params, 'metadata') ?? ctx.defaultMetadata ?? 'strip';

  return {
    blur,
    shape,
    detect,
    thresholds: Object.fromEntries(detectionKinds().map((k) => [k.name, param<number>(params, thresholdParam(k) as JobOptionsQueryName) ?? ctx.defaultThresholds[k.name]])),
    blurClasses,
    format,
    ...(quality !== undefined ? { quality } : {}),
    metadata,
  };
}
