// The response bodies of the HTTP API as TypeBox schemas, with the examples the document shows.
// views.ts builds these shapes; test/integration/openapi.test.ts checks real answers against them.
import { FormatRegistry, Type, type TSchema } from '@sinclair/typebox';
import { kindSlots } from '../kinds.js';
import { DetectionSchema, ImageExtSchema, JOB_KINDS, JobOptionsSchema, OneOf } from '../schema/job.js';
import { VIDEO_EXTS } from '../video-format.js';

const VideoExtSchema = OneOf(VIDEO_EXTS as readonly ['mp4', 'mov', 'mkv', 'webm', 'ts']);

// TypeBox checks only the formats registered with it; this one is what views.ts writes (toISOString).
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v) && !Number.isNaN(Date.parse(v)));

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Timestamp = Nullable(Type.String({ format: 'date-time' }));
const JOB_ID = 'q3Xv0dY8TqK1mZs9cW2b7A';

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code (see README, Error codes)' }),
      message: Type.String(),
    }),
  },
  { $id: 'Error', examples: [{ error: { code: 'INVALID_OPTION', message: 'Expected one of gaussian, pixelate, solid for blur but received sepia of type string' } }] },
);

export const JobStatusSchema = OneOf(['queued', 'processing', 'completed', 'failed'] as const);

export const AcceptedSchema = Type.Object(
  { job_id: Type.String(), status: JobStatusSchema, status_url: Type.String(), result_url: Type.String() },
  { $id: 'Accepted', examples: [{ job_id: JOB_ID, status: 'queued', status_url: `/v1/jobs/${JOB_ID}`, result_url: `/v1/jobs/${JOB_ID}/result` }] },
);

const exampleOptions = { blur: 'gaussian', shape: 'box', detect: { faces: true, plates: true, objects: true }, thresholds: { face: 0.6, plate: 0.15, object: 0.35 }, blurClasses: [], format: 'same', quality: 90, metadata: 'strip' };

export const JobSchema = Type.Object(
  {
    job_id: Type.String(),
    kind: OneOf(JOB_KINDS, { description: 'image (POST /v1/images, the WebSocket) or video (POST /v1/videos)' }),
    status: JobStatusSchema,
    progress: Nullable(Type.Object({ frames_done: Type.Integer({ minimum: 0 }), frames_total: Type.Integer({ minimum: 0 }) }, { description: 'Video jobs: frames written of the input\'s, updated while it runs' })),
    segment_of: Nullable(Type.Object({ job_id: Type.String(), index: Type.Integer({ minimum: 0 }) }, { description: 'A segment job (internal): the long video it is a piece of, which reports it (progress, failure, webhook) and erases it when it ends' })),
    created_at: Timestamp,
    started_at: Timestamp,
    finished_at: Timestamp,
    attempts: Type.Integer({ minimum: 0 }),
    input: Type.Object({ filename: Type.String(), bytes: Type.Integer({ minimum: 0 }), format: Type.Union([ImageExtSchema, VideoExtSchema]) }),
    options: JobOptionsSchema,
    status_url: Type.String(),
    result_url: Nullable(Type.String()),
    result: Nullable(
      Type.Object({
        width: Type.Integer(),
        height: Type.Integer(),
        format: Type.Union([ImageExtSchema, VideoExtSchema]),
        processed_key: Type.String(),
        metadata_key: Type.String(),
        models: Type.Record(Type.String(), Type.String()),
        total_ms: Type.Number(),
        timings_ms: Type.Record(Type.String(), Type.Number()),
        detections: Type.Array(DetectionSchema),
        video: Type.Optional(
          Type.Object(
            {
              frames: Type.Integer(),
              fps: Type.Number(),
              duration_seconds: Type.Number(),
              audio_streams: Type.Integer(),
              tracks: Type.Record(Type.String(), Type.Integer(), { description: 'Tracks per kind; the metadata record lists each with a box per frame' }),
              detect_every: Type.Integer(),
            },
            { description: 'Video jobs: what was written' },
          ),
        ),
      }),
    ),
    error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
    webhook: Type.Optional(
      Nullable(
        Type.Object(
          {
            url: Type.String(),
            status: OneOf(['waiting', 'pending', 'delivered', 'failed'] as const),
            event: Nullable(Type.String()),
            delivery_id: Nullable(Type.String()),
            attempts: Type.Integer({ minimum: 0 }),
            last_error: Nullable(Type.String()),
          },
          { description: 'With a callback_url: the delivery of the finished job (see README, Webhooks)' },
        ),
      ),
    ),
  },
  {
    $id: 'Job',
    examples: [
      {
        job_id: JOB_ID,
        kind: 'image',
        status: 'completed',
        progress: null,
        segment_of: null,
        created_at: '2026-12-01T10:00:00.000Z',
        started_at: '2026-12-01T10:00:00.020Z',
        finished_at: '2026-12-01T10:00:00.410Z',
        attempts: 1,
        input: { filename: 'street.jpg', bytes: 182311, format: 'jpg' },
        options: exampleOptions,
        status_url: `/v1/jobs/${JOB_ID}`,
        result_url: `/v1/jobs/${JOB_ID}/result`,
        result: {
          width: 1280,
          height: 720,
          format: 'jpg',
          processed_key: `processed/${JOB_ID}.jpg`,
          metadata_key: `metadata/${JOB_ID}.json`,
          models: { faces: 'yunet-n', plates: 'plate-yolo', objects: 'yolox-nano' },
          total_ms: 390,
          timings_ms: { decode: 12.5, detect_faces: 80.1, detect_objects: 95.3, blur: 4.2, encode: 20.7, store: 3.1 },
          detections: [
            { kind: 'face', label: 'face', score: 0.93, box: { x: 412, y: 120, width: 64, height: 80 }, blurred: true, blurBox: { x: 402, y: 108, width: 84, height: 104 } },
            { kind: 'object', label: 'car', score: 0.81, box: { x: 700, y: 300, width: 420, height: 260 }, blurred: false },
          ],
        },
        error: null,
      },
    ],
  },
);

const RejectedEntry = Type.Object({ filename: Nullable(Type.String()), status: Type.Literal('rejected'), error: Type.Object({ code: Type.String(), message: Type.String() }) });
const AcceptedEntry = Type.Object({ filename: Type.String(), job_id: Type.String(), status: JobStatusSchema, status_url: Type.String(), result_url: Type.String() });

export const BatchSchema = Type.Object(
  { jobs: Type.Array(Type.Union([AcceptedEntry, RejectedEntry])), accepted: Type.Integer({ minimum: 1 }), rejected: Type.Integer({ minimum: 0 }) },
  {
    $id: 'Batch',
    examples: [
      {
        jobs: [
          { filename: 'a.jpg', job_id: JOB_ID, status: 'queued', status_url: `/v1/jobs/${JOB_ID}`, result_url: `/v1/jobs/${JOB_ID}/result` },
          { filename: 'notes.txt', status: 'rejected', error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported image type: not JPEG, PNG or WebP. Send JPEG, PNG or WebP' } },
        ],
        accepted: 1,
        rejected: 1,
      },
    ],
  },
);

export const BatchRejectedSchema = Type.Object({ error: ErrorSchema.properties.error, jobs: Type.Array(RejectedEntry) }, { $id: 'BatchRejected' });

const count = Type.Integer({ minimum: 0 });
const PoolSchema = Nullable(Type.Object({ threads: count, capacity: count, in_flight: count, utilization: Type.Number() }));

/** Admins see the cluster's queue; other tenants only their own counts. */
export const QueueSchema = Type.Object(
  {
    backend: OneOf(['memory', 'redis'] as const),
    depth: Type.Optional(count),
    waiting: Type.Optional(count),
    processing: Type.Optional(count),
    completed: count,
    failed: count,
    dead_letter: Type.Optional(count),
    consumers: Type.Optional(count),
    max_queue_size: count,
    tenant: Type.Optional(Type.String()),
    accepting: Type.Optional(Type.Boolean()),
    pool: Type.Optional(PoolSchema),
  },
  { $id: 'Queue', examples: [{ backend: 'memory', depth: 3, waiting: 1, processing: 2, completed: 120, failed: 1, dead_letter: 0, consumers: 1, max_queue_size: 1000, pool: { threads: 2, capacity: 4, in_flight: 2, utilization: 0.5 } }] },
);

export const StatsSchema = Type.Object(
  {
    uptime_seconds: count,
    jobs_finished: count,
    jobs_failed: count,
    latency_ms: Type.Object({ p50: Nullable(Type.Number()) }, { additionalProperties: true }),
    queue: Type.Ref('Queue'),
    pool: PoolSchema,
    tenant: Type.Optional(Type.String()),
  },
  { $id: 'Stats', additionalProperties: true, examples: [{ uptime_seconds: 3600, jobs_finished: 121, jobs_failed: 1, images_per_second: 2.4, latency_ms: { p50: 410, p95: 800, p99: 1200 }, videos: { completed_in_window: 1, latency_ms: { p50: 38000, p95: 38000, p99: 38000 } }, queue: { backend: 'memory', completed: 120, failed: 1, max_queue_size: 1000 }, pool: null }] },
);

export const HealthSchema = Type.Object(
  {
    status: Type.Literal('ok'),
    role: OneOf(['serve', 'api', 'worker'] as const),
    uptime_seconds: count,
    queue: Type.String(),
    storage: Type.String(),
    pixel_ops: Type.String(),
    models: Type.Array(
      Type.Object({
        kind: OneOf(kindSlots()),
        model: Type.String(),
        provider: Type.String({ description: 'The execution provider the session runs on: the first of EXECUTION_PROVIDERS (onnxruntime places an operator that provider lacks on the next one)' }),
        providers: Type.Array(Type.String(), { description: 'EXECUTION_PROVIDERS as the session was given them, in order' }),
      }),
      { description: 'The models this node runs and their onnxruntime execution providers; empty on an api node' },
    ),
    jpeg_blocks: Type.Optional(Type.Object({ available: Type.Boolean(), detail: Type.String({ description: 'The library when available, else why JPEG output is re-encoded whole' }) })),
    video: Type.Optional(Type.Object({ available: Type.Boolean(), detail: Type.Optional(Type.String({ description: 'Why POST /v1/videos answers 503 VIDEO_UNAVAILABLE (with AUTH=off only)' })) })),
    plate_model: Type.Optional(
      Type.Object(
        { model: Type.String(), precision: OneOf(['original', 'float', 'int8'] as const), setting: OneOf(['auto', 'int8', 'float', 'original'] as const), cpu: Type.String(), reason: Type.String() },
        { description: 'Which plate model file runs (PLATE_MODEL_PRECISION); on nodes that process images' },
      ),
    ),
    timestamp: Type.String({ format: 'date-time' }),
  },
  { $id: 'Health', examples: [{ status: 'ok', role: 'serve', uptime_seconds: 42, queue: 'memory', storage: 'local:/srv/pixveil/data', pixel_ops: 'native', models: [{ kind: 'faces', model: 'yunet-n', provider: 'cpu', providers: ['cpu'] }], jpeg_blocks: { available: true, detail: 'libjpeg-turbo 2.1.5' }, plate_model: { model: 'yolov9-t-plates-int8', precision: 'int8', setting: 'auto', cpu: 'avx512_vnni,avx_vnni', reason: 'auto: this CPU has avx512_vnni,avx_vnni, where int8 runs fastest' }, timestamp: '2026-12-01T10:00:00.000Z' }] },
);

export const ReadySchema = Type.Object(
  { ready: Type.Boolean(), checks: Type.Record(Type.String(), Type.String()) },
  { $id: 'Ready', examples: [{ ready: true, checks: { queue: 'ok', storage: 'ok', models: 'ok' } }] },
);

/** Every named response schema; `Type.Ref('X')` inside them points here. */
export const apiSchemas: TSchema[] = [ErrorSchema, AcceptedSchema, JobSchema, BatchSchema, BatchRejectedSchema, QueueSchema, StatsSchema, HealthSchema, ReadySchema];
