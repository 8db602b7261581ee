// Every setting as a TypeBox schema: `env` names the variable that sets it, the schema says what
// its value may be (range, enum, multiple) and the description says what it does. `Config` is
// derived from it; the values nobody sets come from the one defaults table (defaults.ts), and
// config.ts reads each variable through its node here (parse the string, then Value.Check).
import { Type, type Static, type TSchema, type TString } from '@sinclair/typebox';
import { detectionKinds, kindVariable, modelSettingKey } from '../kinds.js';
import { DetectionSettingsSchema } from './detection.js';
import { MetadataPolicySchema, OneOf } from '../schema/job.js';

/** Providers onnxruntime-node's Linux binding can name (listSupportedBackends); which are installed is checked at start. */
export const EXECUTION_PROVIDERS = ['cpu', 'cuda', 'tensorrt', 'webgpu'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];
export const PIXEL_OPS_MODES = ['auto', 'cuda', 'native', 'ts'] as const;

const text = (env: string, description: string) => Type.String({ env, description });
const flag = (env: string, description: string) => Type.Boolean({ env, description });
/** A comma-separated variable; blank entries are dropped. */
const list = (env: string, description: string) => Type.Array(Type.String(), { env, description });
/** `tenant=value` pairs, comma-separated; `expected` is the message's <what> for a malformed entry. */
const tenantMap = (env: string, value: string, description: string) =>
  Type.Record(Type.String(), Type.String(), { env, expected: `"tenant=${value}" entries, comma-separated,`, description });

const MS_PER_HOUR = 3_600_000;

/** FACE_MODEL, PLATE_MODEL, OBJECT_MODEL, …: one model setting per detection kind (src/kinds.ts). */
const modelSettings = Object.fromEntries(detectionKinds().map((k) => [modelSettingKey(k), text(kindVariable(k, 'MODEL'), k.model.description)])) as Record<
  'faceModel' | 'plateModel' | 'objectModel',
  TString
>;

export const ConfigSchema = Type.Object({
  host: text('HOST', 'Listen address (0.0.0.0 in containers)'),
  port: Type.Integer({ env: 'PORT', minimum: 0, maximum: 65535, description: 'HTTP and WebSocket port' }),
  dataDir: text('DATA_DIR', 'Local storage root (originals, processed, metadata); resolved to an absolute path'),
  modelDir: text('MODEL_DIR', 'Where model files are looked for and pulled to; resolved to an absolute path'),
  modelPullOnStart: flag('MODEL_PULL_ON_START', 'Pull missing models before serving'),
  modelManifestDir: text('MODEL_MANIFEST_DIR', 'Extra model manifests (your own ONNX models); empty: only the packaged ones'),
  modelMirror: text('MODEL_MIRROR', 'Download models from <mirror>/<file>; empty: from their upstream URLs'),
  maxUploadBytes: Type.Integer({ env: 'MAX_UPLOAD_BYTES', minimum: 1, description: 'Larger uploads get 413' }),
  maxPixels: Type.Integer({ env: 'MAX_PIXELS', minimum: 1, description: 'Larger images fail with IMAGE_TOO_LARGE before decoding' }),
  decodePixelBudget: Type.Integer({ env: 'DECODE_PIXEL_BUDGET', minimum: 0, description: "Decoded pixels in flight on a worker node (read from each image's header before decoding); a job that does not fit waits, an image over all of it fails with IMAGE_TOO_LARGE. 0: 32 MP per pool thread, at least MAX_PIXELS" }),
  maxBatchFiles: Type.Integer({ env: 'MAX_BATCH_FILES', minimum: 1, description: 'Files per batch request' }),
  maxQueueSize: Type.Integer({ env: 'MAX_QUEUE_SIZE', minimum: 1, description: 'Backlog at which uploads get 429 QUEUE_FULL (the hard cap)' }),
  latencySloSeconds: Type.Integer({ env: 'LATENCY_SLO_SECONDS', minimum: 0, maximum: 86_400, description: 'Predicted-wait bound for admission; 0 turns latency admission off' }),
  admissionPriorSecondsPerImage: Type.Number({ env: 'ADMISSION_PRIOR_SECONDS_PER_IMAGE', minimum: 0.001, maximum: 3600, description: "Seconds per image per pool thread assumed until the cluster's drain rate is measured" }),
  admissionWaitFraction: Type.Number({ env: 'ADMISSION_WAIT_FRACTION', minimum: 0.05, maximum: 1, description: 'Share of LATENCY_SLO_SECONDS a newly admitted upload may be predicted to wait; the rest is margin for a drain rate that falls after admission' }),
  poolThreads: Type.Integer({ env: 'POOL_THREADS', minimum: 1, maximum: 256, description: 'Pool threads; one onnxruntime session set per thread (WORKERS is read where this is unset)' }),
  tasksPerThread: Type.Integer({ env: 'POOL_TASKS_PER_THREAD', minimum: 1, maximum: 64, description: 'Jobs in flight per pool thread, so decode/encode of one overlaps waiting on the next (WORKER_CONCURRENCY is read where this is unset)' }),
  ortIntraOpThreads: Type.Integer({ env: 'ORT_INTRA_OP_THREADS', minimum: 1, maximum: 256, description: 'onnxruntime threads per session' }),
  executionProviders: Type.Array(OneOf(EXECUTION_PROVIDERS), { env: 'EXECUTION_PROVIDERS', minItems: 1, description: 'onnxruntime execution providers of every model session, in order of preference (cuda,cpu; tensorrt,cuda,cpu); one the installed onnxruntime-node lacks, or that cannot start a session, stops start-up' }),
  batchImages: Type.Integer({ env: 'BATCH_IMAGES', minimum: 1, maximum: 256, description: 'Above 1: one inference thread owns the model sessions and runs up to this many images\' inputs together (models with a dynamic batch axis: YuNet; batch-1 exports one image per run); pool threads decode, blur and encode. 1: each pool thread runs its own sessions. At most POOL_THREADS × POOL_TASKS_PER_THREAD' }),
  batchWaitMs: Type.Integer({ env: 'BATCH_WAIT_MS', minimum: 0, maximum: 1000, description: 'With BATCH_IMAGES above 1: how long the first image of a batch waits for the others before its run starts without them' }),
  poolThreadHeapMb: Type.Integer({ env: 'POOL_THREAD_HEAP_MB', minimum: 0, maximum: 4096, description: 'Old-generation size at which each pool thread\'s JavaScript heap starts its first full garbage collection (V8 --initial-old-space-size for threads started after it is set): below it a thread collected about once per image (README "Memory allocator"); 0: V8 defaults' }),
  allocatorTuning: flag('ALLOCATOR_TUNING', 'glibc malloc keeps per-image buffers (up to 32 MiB) in its heap instead of mapping and unmapping them each image (fewer page faults: README "Memory allocator"); false: glibc defaults'),
  pixelOps: OneOf(PIXEL_OPS_MODES, { env: 'PIXEL_OPS', description: 'Per-pixel stages: auto (CUDA blur when compiled in, a GPU answers and it matches the CPU at start; else native; else TypeScript), cuda, native or ts; an explicit choice that cannot run stops start-up' }),
  profile: OneOf(['default', 'light', 'ultraface-tiled', 'legacy'] as const, {
    env: 'PROFILE',
    description:
      'A starting set of models and passes (defaults.ts profiles); each variable still overrides. light: UltraFace + HyperLPR + YOLOX, one full-frame pass each; ultraface-tiled: the same models made up for with tiles and vehicle crops; legacy: deprecated name of ultraface-tiled',
  }),
  ...modelSettings,
  platePrecision: OneOf(['auto', 'int8', 'float', 'original'] as const, { env: 'PLATE_MODEL_PRECISION', description: 'Which file of PLATE_MODEL runs: auto (int8 on a CPU with VNNI, else the float rebuild, when `pixveil models quantize` made them; else the original), or one of them (missing: start-up error)' }),
  detection: { ...DetectionSettingsSchema, description: 'Tiles, person/vehicle crops and blur margins: handed whole to every pool thread' },
  keepMetadata: { ...MetadataPolicySchema, env: 'KEEP_METADATA', description: 'Default metadata= of a request: strip everything, or keep safe EXIF (README "Privacy"); the old false/true mean strip/safe' },
  jobTtlSeconds: Type.Integer({ env: 'JOB_TTL_SECONDS', minimum: 1, description: 'How long finished job records are kept' }),
  logLevel: OneOf(['debug', 'info', 'warn', 'error'] as const, { env: 'LOG_LEVEL', description: 'Least level logged (JSON lines on stdout)' }),
  maxAttempts: Type.Integer({ env: 'MAX_ATTEMPTS', minimum: 1, maximum: 100, description: 'Deliveries of one job before it is dead-lettered and marked failed' }),
  stalledMs: Type.Integer({ env: 'STALLED_MS', minimum: 100, description: 'A claimed job idle this long is reclaimed by another worker (Redis mode)' }),
  retryBaseMs: Type.Integer({ env: 'RETRY_BASE_MS', minimum: 1, maximum: MS_PER_HOUR, description: 'First retry delay after a transient failure; doubles per attempt' }),
  storageRetryMs: Type.Integer({ env: 'STORAGE_RETRY_MS', minimum: 0, maximum: MS_PER_HOUR, description: 'How long one storage call of a job is retried through STORAGE_ERROR before that attempt fails' }),
  claimBlockMs: Type.Integer({ env: 'CLAIM_BLOCK_MS', minimum: 10, maximum: 60_000, description: "How long one claim of a worker's job runner waits for work before it looks again; shutdown waits for it at most this long" }),
  queueErrorBackoffMs: Type.Integer({ env: 'QUEUE_ERROR_BACKOFF_MS', minimum: 10, maximum: 60_000, description: "Pause after the queue failed (a claim, or recording a job's outcome) before trying again; also the first pause of a retried storage call" }),
  shutdownGraceMs: Type.Integer({ env: 'SHUTDOWN_GRACE_MS', minimum: 0, description: 'On SIGTERM, time to finish jobs in hand' }),
  redisUrl: text('REDIS_URL', 'Set: a Redis Streams queue shared by all nodes'),
  redisPrefix: text('REDIS_PREFIX', 'Prefix of every Redis key'),
  s3Bucket: text('S3_BUCKET', 'Set: S3 storage'),
  s3Endpoint: text('S3_ENDPOINT', 'Any S3-compatible endpoint (MinIO, Ceph, R2…)'),
  s3Region: text('AWS_REGION', 'Region; credentials come from the standard AWS chain'),
  s3ForcePathStyle: flag('S3_FORCE_PATH_STYLE', 'Path-style addressing (MinIO and most S3-compatible stores)'),
  s3Prefix: text('S3_PREFIX', 'Key prefix inside the bucket'),
  s3MultipartThresholdBytes: Type.Integer({ env: 'S3_MULTIPART_THRESHOLD_BYTES', minimum: 5 * 1024 * 1024, description: 'Objects from this size go up as multipart uploads (S3 parts are at least 5 MiB)' }),
  s3PartConcurrency: Type.Integer({ env: 'S3_PART_CONCURRENCY', minimum: 1, maximum: 64, description: 'Parts in flight per multipart upload' }),
  resultDelivery: OneOf(['stream', 'presign'] as const, { env: 'RESULT_DELIVERY', description: 'presign: /result redirects to a presigned S3 URL' }),
  presignExpirySeconds: Type.Integer({ env: 'PRESIGN_EXPIRY_SECONDS', minimum: 1, maximum: 7 * 24 * 3600, description: 'Lifetime of presigned URLs' }),
  keepOriginals: flag('KEEP_ORIGINALS', 'false: delete the original once its job completed (privacy)'),
  auth: OneOf(['off', 'on'] as const, { env: 'AUTH', description: 'on: credentials on every route but health, ready and metrics' }),
  apiKeys: text('API_KEYS', 'tenant:key pairs, comma-separated'),
  apiKeysFile: text('API_KEYS_FILE', 'File of tenant:sha256hex lines (keys hashed at rest)'),
  jwtSecret: text('JWT_SECRET', 'HS256 key (at least 32 characters); not together with JWT_JWKS_URL'),
  jwtJwksUrl: text('JWT_JWKS_URL', 'Remote JWKS for RS/ES/EdDSA tokens'),
  jwtIssuer: text('JWT_ISSUER', 'Checked when set'),
  jwtAudience: text('JWT_AUDIENCE', 'Checked when set'),
  jwtTenantClaim: text('JWT_TENANT_CLAIM', 'Claim naming the tenant; empty: sub'),
  jwtRequiredScope: text('JWT_REQUIRED_SCOPE', 'A scope every token must carry (scope or scp), else 403; empty: none'),
  metricsToken: text('METRICS_TOKEN', 'Set: /metrics needs Authorization: Bearer <token>'),
  rateLimitPerMinute: Type.Integer({ env: 'RATE_LIMIT_PER_MINUTE', minimum: 0, description: 'Token bucket refill per tenant (per client address with AUTH=off); 0 turns rate limiting off' }),
  rateLimitBurst: Type.Integer({ env: 'RATE_LIMIT_BURST', minimum: 1, description: 'Token bucket size' }),
  maxDimension: Type.Integer({ env: 'MAX_DIMENSION', minimum: 1, maximum: 1_000_000, description: 'Wider or taller images fail with IMAGE_TOO_LARGE (read from the header)' }),
  maxConcurrentUploads: Type.Integer({ env: 'MAX_CONCURRENT_UPLOADS', minimum: 1, description: 'Uploads being received or stored at once per tenant (per client address with AUTH=off)' }),
  wsMaxInFlight: Type.Integer({ env: 'WS_MAX_IN_FLIGHT', minimum: 1, maximum: 10_000, description: 'Images per WebSocket connection accepted and not yet finished' }),
  wsIdleTimeoutSeconds: Type.Integer({ env: 'WS_IDLE_TIMEOUT_S', minimum: 8, maximum: 960, description: 'WebSocket idle timeout (uWS takes 8 to 960 s)' }),
  bodyTimeoutMs: Type.Integer({ env: 'BODY_TIMEOUT_MS', minimum: 100, description: 'A request body must be complete within this long' }),
  bodyMinBytesPerSecond: Type.Integer({ env: 'BODY_MIN_BYTES_PER_SECOND', minimum: 0, description: 'After the first 5 s, a body arriving slower than this on average is cut off (slowloris)' }),
  maxHeaderBytes: Type.Integer({ env: 'MAX_HEADER_BYTES', minimum: 1024, description: 'Total request header bytes a route accepts' }),
  maxBatchBytes: Type.Integer({ env: 'MAX_BATCH_BYTES', minimum: 1, description: "Whole batch body per request; batch bodies are buffered, so this bounds one request's memory" }),
  uploadBudgetBytes: Type.Integer({ env: 'UPLOAD_BUDGET_BYTES', minimum: 1, description: 'Upload bytes being received at once on this node (HTTP bodies and WebSocket frames); past it 503' }),
  wsMaxBacklogBytes: Type.Integer({ env: 'WS_MAX_BACKLOG_BYTES', minimum: 64 * 1024, description: 'Per WebSocket connection: bytes waiting to be sent (uWS buffer + own queue) before the server closes with 1013' }),
  jwtTenantPrefix: text('JWT_TENANT_PREFIX', "Prepended to JWT tenants so a token's subject never names an API-key tenant by accident; empty maps them on purpose"),
  authFailuresPerMinute: Type.Integer({ env: 'AUTH_FAILURES_PER_MINUTE', minimum: 0, description: 'Failed authentications per client address and minute before every attempt from it gets 429; 0 disables' }),
  adminTenants: list('ADMIN_TENANTS', 'Tenants (API-key tenants, or prefixed JWT tenants) that see cluster-wide /v1/stats and /v1/queue'),
  adminScope: text('ADMIN_SCOPE', 'A JWT scope that grants the same'),
  trustedProxies: list('TRUSTED_PROXIES', 'Peers whose X-Forwarded-For names the client (ingress, load balancer); exact addresses'),
  allowVolatileRedis: flag('ALLOW_VOLATILE_REDIS', 'Start on a Redis that keeps nothing across a restart (accepted jobs would be lost)'),
  webhookDefaults: tenantMap('WEBHOOK_DEFAULTS', 'url', 'Tenant → default callback URL; * applies to every tenant without an entry'),
  webhookSecret: text('WEBHOOK_SECRET', 'Default signing secret (at least 16 characters)'),
  webhookSecrets: tenantMap('WEBHOOK_SECRETS', 'secret', 'Tenant → signing secret'),
  webhookAllowPrivate: flag('WEBHOOK_ALLOW_PRIVATE', 'Allow callbacks to loopback, private, link-local, unique-local and multicast addresses'),
  webhookTimeoutMs: Type.Integer({ env: 'WEBHOOK_TIMEOUT_MS', minimum: 100, maximum: 120_000, description: 'One delivery attempt must be answered within this' }),
  webhookMaxAttempts: Type.Integer({ env: 'WEBHOOK_MAX_ATTEMPTS', minimum: 1, maximum: 100, description: 'Attempts per delivery before the job records it as failed' }),
  webhookRetryBaseMs: Type.Integer({ env: 'WEBHOOK_RETRY_BASE_MS', minimum: 1, maximum: MS_PER_HOUR, description: 'First retry delay of a delivery; doubles per attempt' }),
  webhookRetryMaxMs: Type.Integer({ env: 'WEBHOOK_RETRY_MAX_MS', minimum: 1, maximum: 24 * MS_PER_HOUR, description: 'Cap of the delivery retry delay' }),
  webhookPollMs: Type.Integer({ env: 'WEBHOOK_POLL_MS', minimum: 10, maximum: 60_000, description: 'Pause between reads of due webhook deliveries when no slot is free or none was due' }),
  webhookConcurrency: Type.Integer({ env: 'WEBHOOK_CONCURRENCY', minimum: 1, maximum: 1024, description: 'Webhook deliveries in flight at once per node' }),
  webhookTenantConcurrency: Type.Integer({ env: 'WEBHOOK_TENANT_CONCURRENCY', minimum: 1, maximum: 1024, description: "One tenant's share of WEBHOOK_CONCURRENCY (AUTH=off: one callback host's), so a slow receiver cannot hold every delivery slot" }),
  ffmpegPath: text('FFMPEG_PATH', 'The ffmpeg binary video jobs decode and encode with (a name looked up on PATH, or a path); not found: video routes answer 503 VIDEO_UNAVAILABLE, images work'),
  ffprobePath: text('FFPROBE_PATH', 'The ffprobe binary that reads a video upload\'s streams, duration and frame count'),
  maxVideoBytes: Type.Integer({ env: 'MAX_VIDEO_BYTES', minimum: 1, description: 'Larger video uploads get 413 (the body goes to a temporary file as it arrives, never held in memory whole)' }),
  videoTempDir: text('VIDEO_TEMP_DIR', 'Where video uploads are written as they arrive and workers keep a job\'s input and output (empty: the OS temp directory); needs room for a few MAX_VIDEO_BYTES per upload or job in flight'),
  maxVideoSeconds: Type.Number({ env: 'MAX_VIDEO_SECONDS', minimum: 0.001, description: 'Longer videos (declared or counted duration) fail with VIDEO_TOO_LONG at upload' }),
  maxVideoPixels: Type.Integer({ env: 'MAX_VIDEO_PIXELS', minimum: 1, description: 'Videos with larger frames (width x height) fail with VIDEO_TOO_LARGE at upload' }),
  videoSegmentSeconds: Type.Number({ env: 'VIDEO_SEGMENT_SECONDS', minimum: 0, description: 'Longer videos run as segment jobs of this many seconds that any worker takes, joined without re-encoding (0: every video runs whole on one worker)' }),
  videoTimeoutSeconds: Type.Integer({ env: 'VIDEO_TIMEOUT_SECONDS', minimum: 1, description: 'One attempt of a video job is stopped (ffmpeg killed) after this long: VIDEO_TIMEOUT' }),
  storageSweepSeconds: Type.Integer({ env: 'STORAGE_SWEEP_SECONDS', minimum: 1, maximum: 86_400, description: "Pause between sweeps that delete the stored objects of jobs whose record expired (older than JOB_TTL_SECONDS)" }),
});

/** Loaded settings are frozen all the way down, lists and maps included. */
type Frozen<T> = T extends readonly (infer U)[] ? readonly Frozen<U>[] : T extends object ? { readonly [K in keyof T]: Frozen<T[K]> } : T;

export type Config = Frozen<Static<typeof ConfigSchema>>;

/** A node of ConfigSchema that one variable sets. */
export type SettingSchema = TSchema & { env: string };

export const isSetting = (schema: TSchema): schema is SettingSchema => typeof (schema as { env?: unknown }).env === 'string';
