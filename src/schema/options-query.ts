// Job options as query parameters (HTTP, the WebSocket URL, the `process` CLI's flags): the typed
// value each parameter converts to, checked by TypeBox; ingest/options.ts turns them into JobOptions.
import { Type, type Static, type TNumber, type TOptional } from '@sinclair/typebox';
import { detectionKinds, kindSlots, thresholdParam } from '../kinds.js';
import { BlurShapeSchema, BlurStyleSchema, MetadataPolicySchema, OneOf, OutputFormatSchema, QualitySchema, ThresholdSchema } from './job.js';

/** face_threshold, plate_threshold, …: one per kind of the registry. */
const thresholdParams = Object.fromEntries(detectionKinds().map((k) => [thresholdParam(k), Type.Optional({ ...ThresholdSchema, description: k.threshold.description })])) as Record<
  'face_threshold' | 'plate_threshold' | 'object_threshold',
  TOptional<TNumber>
>;

const list = (items: Parameters<typeof Type.Array>[0], description: string) => Type.Array(items, { description: `${description} (comma-separated in a query)` });

export const JobOptionsQuerySchema = Type.Object(
  {
    blur: Type.Optional({ ...BlurStyleSchema, default: 'gaussian' }),
    shape: Type.Optional({ ...BlurShapeSchema, default: 'box' }),
    detect: Type.Optional(list(OneOf(kindSlots()), 'Detectors to run; default: every detector the server has')),
    ...thresholdParams,
    blur_classes: Type.Optional(list(Type.String(), 'Object classes to blur as well as report, e.g. person,car')),
    format: Type.Optional({ ...OutputFormatSchema, default: 'same' }),
    quality: Type.Optional({ ...QualitySchema, description: 'JPEG/WebP quality; default 90, except JPEG in and out: without it, the blocks no region touches are kept as they were (README, "JPEG output")' }),
    metadata: Type.Optional({ ...MetadataPolicySchema, description: `${MetadataPolicySchema.description} (default: KEEP_METADATA)` }),
    return_image: Type.Optional(Type.Boolean({ description: 'WebSocket only: result frames carry the anonymized image' })),
    wait: Type.Optional(Type.String({ description: 'Job routes only: long-poll up to this long (10, 10s, 2500ms; at most 60s)' })),
    callback_url: Type.Optional(Type.String({ description: 'Where the finished job is POSTed, signed with HMAC-SHA256 (see README, Webhooks); private addresses refused unless WEBHOOK_ALLOW_PRIVATE=true. Checked by ingest/callback.ts' })),
  },
  { additionalProperties: false },
);

export type JobOptionsQuery = Static<typeof JobOptionsQuerySchema>;
export type JobOptionsQueryName = keyof typeof JobOptionsQuerySchema.properties;
