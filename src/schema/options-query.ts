// Job options as query parameters (HTTP, the WebSocket URL, the `process` CLI's flags): the typed
// value each parameter converts to, checked by TypeBox; ingest/options.ts turns them into JobOptions.
import { Type, type Static } from '@sinclair/typebox';
import { BlurShapeSchema, BlurStyleSchema, DETECTORS, MetadataPolicySchema, OneOf, OutputFormatSchema, QualitySchema, ThresholdSchema } from './job.js';

const list = (items: Parameters<typeof Type.Array>[0], description: string) => Type.Array(items, { description: `${description} (comma-separated in a query)` });

export const JobOptionsQuerySchema = Type.Object(
  {
    blur: Type.Optional({ ...BlurStyleSchema, default: 'gaussian' }),
    shape: Type.Optional({ ...BlurShapeSchema, default: 'box' }),
    detect: Type.Optional(list(OneOf(DETECTORS), 'Detectors to run; default: every detector the server has')),
    face_threshold: Type.Optional({ ...ThresholdSchema, description: 'Minimum face score (default 0.6, FACE_THRESHOLD)' }),
    plate_threshold: Type.Optional({ ...ThresholdSchema, description: 'Minimum plate score (default: the plate model manifest threshold, 0.3 for yolov9-t-plates; else 0.15)' }),
    object_threshold: Type.Optional({ ...ThresholdSchema, description: 'Minimum object score (default 0.35, OBJECT_THRESHOLD)' }),
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
