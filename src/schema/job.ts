// The job's words as TypeBox schemas: one definition gives the TypeScript types (job.ts), the
// request validation (ingest/options.ts) and the OpenAPI document (ingest/openapi.ts).
import { Type, type TBoolean, type TLiteral, type TNumber, type TObject, type TSchema, type TUnion } from '@sinclair/typebox';
import { kindNames, kindSlots } from '../kinds.js';

/** Literal union with its values kept in `enum` too, so the document reads as a plain enum. */
export function OneOf<const T extends readonly string[]>(values: T, options: { description?: string; default?: T[number]; [keyword: string]: unknown } = {}): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(values.map((v) => Type.Literal(v)), { ...options, enum: [...values] }) as TUnion<TLiteral<T[number]>[]>;
}

export const BLUR_STYLES = ['gaussian', 'pixelate', 'solid'] as const;
export const BLUR_SHAPES = ['box', 'ellipse'] as const;
export const METADATA_POLICY_NAMES = ['strip', 'safe'] as const;
export const OUTPUT_FORMATS = ['same', 'jpeg', 'png', 'webp'] as const;
/** What a job anonymizes; absent on a job means image (jobs queued before videos existed). */
export const JOB_KINDS = ['image', 'video'] as const;
export const AUDIO_POLICIES = ['keep', 'drop'] as const;
/** Containers a video job writes, H.264 in each (video-format.ts VIDEO_OUTPUTS). */
export const VIDEO_CONTAINERS = ['mp4', 'mkv'] as const;
/** Largest detect_every: past it a face crossing the frame could go unseen. */
export const MAX_DETECT_EVERY = 30;

export const BlurStyleSchema = OneOf(BLUR_STYLES, { description: 'How regions are hidden' });
export const BlurShapeSchema = OneOf(BLUR_SHAPES, { description: 'The shape blurred inside each box' });
export const MetadataPolicySchema = OneOf(METADATA_POLICY_NAMES, { description: 'strip: no metadata; safe: EXIF without GPS, thumbnail, maker notes and XMP; ICC and copyright kept' });
export const OutputFormatSchema = OneOf(OUTPUT_FORMATS, { description: 'Encoding of the anonymized image; same keeps the input format' });
export const ThresholdSchema = Type.Number({ minimum: 0, maximum: 1 });
/** One field per kind, keyed by slot or name, in the registry's order. */
function perKind<T extends TSchema>(keys: string[], field: () => T): TObject<Record<string, T>> {
  return Type.Object(Object.fromEntries(keys.map((k) => [k, field()])));
}
export const QualitySchema = Type.Integer({ minimum: 1, maximum: 100, description: 'JPEG/WebP quality' });

/** What only a video job has (POST /v1/videos), validated and filled by ingest/video-options.ts. */
export const VideoOptionsSchema = Type.Object(
  {
    detectEvery: Type.Integer({ minimum: 1, maximum: MAX_DETECT_EVERY, description: 'Detection runs on every n-th frame; the tracker carries boxes in between' }),
    audio: OneOf(AUDIO_POLICIES, { description: 'keep: audio streams copied as they are (re-encoded to AAC only where the container cannot hold them); drop: none' }),
    container: OneOf(VIDEO_CONTAINERS, { description: 'Container of the anonymized video (H.264 inside)' }),
  },
  { $id: 'VideoOptions', additionalProperties: false },
);

/** Per-request processing options, validated and filled (see ingest/options.ts). */
export const JobOptionsSchema = Type.Object(
  {
    blur: BlurStyleSchema,
    shape: BlurShapeSchema,
    detect: perKind<TBoolean>(kindSlots(), () => Type.Boolean()),
    thresholds: perKind<TNumber>(kindNames(), () => ThresholdSchema),
    blurClasses: Type.Array(Type.String(), { description: 'Object classes (COCO names) blurred as well as reported, e.g. person' }),
    format: OutputFormatSchema,
    // Absent: JPEG → JPEG keeps the input's blocks where nothing was blurred; other outputs use 90.
    quality: Type.Optional(QualitySchema),
    metadata: Type.Optional(MetadataPolicySchema),
    video: Type.Optional(VideoOptionsSchema),
  },
  { $id: 'JobOptions', additionalProperties: false },
);

export const ImageExtSchema = OneOf(['jpg', 'png', 'webp'] as const);
export const BoxSchema = Type.Object({ x: Type.Number(), y: Type.Number(), width: Type.Number(), height: Type.Number() }, { $id: 'Box', description: 'In original-image pixels, after EXIF rotation' });

export const DetectionSchema = Type.Object(
  {
    kind: OneOf(kindNames()),
    label: Type.String(),
    score: Type.Number({ minimum: 0, maximum: 1 }),
    box: BoxSchema,
    blurred: Type.Boolean(),
    blurBox: Type.Optional(BoxSchema),
    landmarks: Type.Optional(Type.Array(Type.Tuple([Type.Number(), Type.Number()]), { description: 'YuNet faces: eyes, nose tip, mouth corners' })),
  },
  { $id: 'Detection' },
);

/** Schemas with an $id are listed once under the document's components and referenced from there. */
export const sharedJobSchemas: TSchema[] = [BoxSchema, DetectionSchema, VideoOptionsSchema, JobOptionsSchema];
