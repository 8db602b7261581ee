import os from 'node:os';
import path from 'node:path';
import { detectionKinds, modelSettingKey } from '../kinds.js';
import { DEFAULT_DETECTION_SETTINGS, LIGHT_DETECTION_SETTINGS, ULTRAFACE_TILED_DETECTION_SETTINGS } from './detection.js';
import type { MetadataPolicy } from '../job.js';
import type { Config, ExecutionProvider, PIXEL_OPS_MODES } from './schema.js';

// Every setting pixveil reads, with the value used when its variable is unset: the one
// table of defaults (piscina's kDefaultOptions habit). loadConfig fills a Config from it; what
// each value may be is in schema.ts (`satisfies Config` keeps the two to the same fields).
// The README's configuration table is written from this list.
export const defaults = Object.freeze({
  host: '127.0.0.1',
  port: 8000,
  dataDir: './data',
  modelDir: path.join(os.homedir(), '.cache', 'pixveil', 'models'),
  modelPullOnStart: true,
  /** Extra model manifests (your own ONNX models); empty: only the packaged ones. */
  modelManifestDir: '',
  /** Download models from `<mirror>/<file>` instead of their upstream URLs; empty: upstream. */
  modelMirror: '',
  maxUploadBytes: 50 * 1024 * 1024,
  // 8160×6120 (a 50 MP phone photo) fits; every photo of the eval and the tests is under 2.1 MP.
  maxPixels: 50_000_000,
  /** 0: DECODE_PIXELS_PER_THREAD (32 MP) × POOL_THREADS, at least MAX_PIXELS (64 MP on 2 threads). */
  decodePixelBudget: 0,
  maxBatchFiles: 100,
  maxQueueSize: 1000,
  /** Uploads are refused (429 OVERLOADED) when the backlog's predicted wait exceeds this; 0: off. */
  latencySloSeconds: 60,
  /** Per pool thread, before any job finished: the drain-rate prior (measured ~0.25 s for 1080p here; 4x that). */
  admissionPriorSecondsPerImage: 1,
  /** Admit up to this share of the SLO: the drain rate falls after admission (README "Service levels"). */
  admissionWaitFraction: 0.75,
  poolThreads: Math.max(1, os.availableParallelism()),
  tasksPerThread: 2,
  allocatorTuning: true,
  /** A pool thread's V8 heap starts full collections past this much old space (src/pool/thread-heap.ts); 0: V8's default. */
  poolThreadHeapMb: 64,
  ortIntraOpThreads: 1,
  /** Every model session's providers, in order; the CUDA image and the gpu overlay set cuda,cpu. */
  executionProviders: Object.freeze(['cpu']) as readonly ExecutionProvider[],
  /** 1: off (each pool thread runs its own sessions); the CUDA image and the gpu overlay set 8. */
  batchImages: 1,
  batchWaitMs: 5,
  pixelOps: 'auto' as (typeof PIXEL_OPS_MODES)[number],
  /** A starting set of models and passes (see `profiles` below); each variable still overrides. */
  profile: 'default' as ProfileName,
  // faceModel: 'yunet-n', plateModel: 'yolov9-t-plates', objectModel: 'yolox-nano': each kind's default model.
  ...(Object.fromEntries(detectionKinds().map((k) => [modelSettingKey(k), k.model.default])) as Record<'faceModel' | 'plateModel' | 'objectModel', string>),
  /** `auto`: int8 on a CPU with VNNI, else float, where `pixveil models quantize` made the file; else the original (src/models/plate-precision.ts). */
  platePrecision: 'auto' as 'auto' | 'int8' | 'float' | 'original',
  detection: DEFAULT_DETECTION_SETTINGS,
  keepMetadata: 'strip' as MetadataPolicy,
  jobTtlSeconds: 24 * 3600,
  logLevel: 'info' as 'debug' | 'info' | 'warn' | 'error',
  maxAttempts: 3,
  stalledMs: 30_000,
  /** First retry delay after a transient failure; doubles per attempt (both queues). */
  retryBaseMs: 1000,
  // A storage outage of seconds then costs no attempts (MAX_ATTEMPTS).
  storageRetryMs: 30_000,
  /** A claim blocks this long when no job is there: a stopping worker waits for it at most this long. */
  claimBlockMs: 1000,
  queueErrorBackoffMs: 1000,
  shutdownGraceMs: 20_000,
  redisUrl: '',
  redisPrefix: 'pixveil',
  s3Bucket: '',
  s3Endpoint: '',
  s3Region: 'us-east-1',
  s3ForcePathStyle: false,
  s3Prefix: '',
  s3MultipartThresholdBytes: 8 * 1024 * 1024,
  s3PartConcurrency: 4,
  resultDelivery: 'stream' as 'stream' | 'presign',
  presignExpirySeconds: 900,
  keepOriginals: true,
  auth: 'off' as 'off' | 'on',
  /** `tenant:key` pairs, comma-separated (AUTH=on). */
  apiKeys: '',
  /** File of `tenant:sha256hex` lines (keys hashed at rest). */
  apiKeysFile: '',
  jwtSecret: '',
  jwtJwksUrl: '',
  jwtIssuer: '',
  jwtAudience: '',
  jwtTenantClaim: 'sub',
  /** A scope every token must carry (in `scope` or `scp`); empty: none. Missing → 403. */
  jwtRequiredScope: '',
  /** Empty: /metrics stays open. */
  metricsToken: '',
  /** Per tenant (or per client address with AUTH=off); 0 turns rate limiting off. */
  rateLimitPerMinute: 600,
  rateLimitBurst: 60,
  maxDimension: 20_000,
  /** Uploads being received or stored at once per tenant (per client address with AUTH=off). */
  maxConcurrentUploads: 32,
  /** Images per WebSocket connection accepted and not yet finished. */
  wsMaxInFlight: 64,
  wsIdleTimeoutSeconds: 120,
  /** A request body must be complete within this long. */
  bodyTimeoutMs: 60_000,
  /** After the first 5 s, a body arriving slower than this on average is cut off (slowloris). */
  bodyMinBytesPerSecond: 1024,
  /** Total request header bytes a route accepts (uWS itself allows far more; see README). */
  maxHeaderBytes: 16 * 1024,
  /** One batch body; 4x MAX_UPLOAD_BYTES. */
  maxBatchBytes: 200 * 1024 * 1024,
  /** Upload bytes in flight on one node; with the parse copy, uploads hold at most twice this. */
  uploadBudgetBytes: 1024 * 1024 * 1024,
  wsMaxBacklogBytes: 16 * 1024 * 1024,
  jwtTenantPrefix: 'jwt:',
  authFailuresPerMinute: 20,
  adminTenants: Object.freeze([]) as readonly string[],
  adminScope: 'pixveil:admin',
  allowVolatileRedis: false,
  /** Per-tenant default callback URLs: `tenant=url` pairs, comma-separated; `*` for every tenant without one (and AUTH=off). */
  webhookDefaults: Object.freeze({}) as Readonly<Record<string, string>>,
  /** The signing secret of tenants WEBHOOK_SECRETS does not name. Webhooks need one of the two. */
  webhookSecret: '',
  /** Per-tenant signing secrets: `tenant=secret` pairs, comma-separated. */
  webhookSecrets: Object.freeze({}) as Readonly<Record<string, string>>,
  /** Allow callbacks to loopback, private, link-local, unique-local and multicast addresses (tests, in-cluster receivers). */
  webhookAllowPrivate: false,
  /** One delivery attempt (connect, send, answer) must end within this long. */
  webhookTimeoutMs: 10_000,
  /** Attempts per delivery before it is recorded as failed in the job. */
  webhookMaxAttempts: 8,
  /** First retry delay of a delivery; doubles per attempt, capped at WEBHOOK_RETRY_MAX_MS. */
  webhookRetryBaseMs: 2000,
  webhookRetryMaxMs: 10 * 60_000,
  webhookPollMs: 250,
  webhookConcurrency: 16,
  /** A quarter of the node's deliveries: a receiver that hangs holds at most these, the rest go to others. */
  webhookTenantConcurrency: 4,
  /** Originals, results and metadata are deleted within this long after their job's record expired. */
  storageSweepSeconds: 300,
  /** Debian's ffmpeg and ffprobe, looked up on PATH. */
  ffmpegPath: 'ffmpeg',
  ffprobePath: 'ffprobe',
  /** 256 MiB. Uploads go to disk as they arrive, so this bounds disk, not memory. */
  maxVideoBytes: 256 * 1024 * 1024,
  /** The OS temp directory (TMPDIR). */
  videoTempDir: '',
  /** 10 minutes: a dash-cam file is usually 1 to 5. */
  maxVideoSeconds: 600,
  /** 4K UHD (3840x2160); 8K frames are refused. */
  maxVideoPixels: 3840 * 2160,
  /** Off: segments run one after another on the worker that took the video, so they save no time yet and cost an overlap. */
  videoSegmentSeconds: 0,
  /** 1 hour per attempt. */
  videoTimeoutSeconds: 3600,
  /** Empty: the socket's peer is the client. */
  trustedProxies: Object.freeze([]) as readonly string[],
}) satisfies Config;

export type Defaults = typeof defaults;

export type ProfileName = 'default' | 'light' | 'ultraface-tiled' | 'legacy';

/** What PROFILE=ultraface-tiled changes in the table above: UltraFace RFB-320 + HyperLPR 320 with tiles, as before issue 14. */
export const ultrafaceTiledProfile = Object.freeze({
  faceModel: 'ultraface-rfb-320',
  plateModel: 'hyperlpr-y5fu-320',
  detection: ULTRAFACE_TILED_DETECTION_SETTINGS,
});

/** What each PROFILE changes in the table above. `light`: the cheap models, one full-frame pass each (no tiles, no crops). */
export const profiles: Readonly<Record<ProfileName, Readonly<Partial<Config>>>> = Object.freeze({
  default: Object.freeze({}),
  light: Object.freeze({ ...ultrafaceTiledProfile, detection: LIGHT_DETECTION_SETTINGS }),
  'ultraface-tiled': ultrafaceTiledProfile,
  legacy: ultrafaceTiledProfile,
});
