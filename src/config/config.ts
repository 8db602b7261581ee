import path from 'node:path';
import { defaults } from './defaults.js';

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly modelDir: string;
  readonly modelPullOnStart: boolean;
  readonly maxUploadBytes: number;
  readonly maxPixels: number;
  readonly maxBatchFiles: number;
  readonly maxQueueSize: number;
  /** Pool threads; one onnxruntime session set per thread. */
  readonly workers: number;
  /** Jobs in flight per pool thread, so decode/encode of one overlaps waiting on the next. */
  readonly workerConcurrency: number;
  readonly ortIntraOpThreads: number;
  readonly faceModel: string;
  readonly objectModel: string;
  /** Empty: no plate detector configured. */
  readonly plateModel: string;
  readonly keepMetadata: boolean;
  readonly jobTtlSeconds: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Deliveries of one job before it is dead-lettered and marked failed. */
  readonly maxAttempts: number;
  /** A claimed job idle this long is reclaimed by another worker (Redis mode). */
  readonly stalledMs: number;
  readonly shutdownGraceMs: number;
  readonly redisUrl: string;
  readonly redisPrefix: string;
  readonly s3Bucket: string;
  readonly s3Endpoint: string;
  readonly s3Region: string;
  readonly s3ForcePathStyle: boolean;
  readonly s3Prefix: string;
  readonly s3MultipartThresholdBytes: number;
  readonly s3PartConcurrency: number;
  readonly resultDelivery: 'stream' | 'presign';
  readonly presignExpirySeconds: number;
  /** false: delete the original once its job completed (privacy). */
  readonly keepOriginals: boolean;
  readonly auth: 'off' | 'on';
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`Expected an integer between ${min} and ${max} for ${name} but received ${JSON.stringify(raw)}`);
  }
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`Expected true or false for ${name} but received ${JSON.stringify(env[name])}`);
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`Expected one of ${allowed.join(', ')} for ${name} but received ${JSON.stringify(raw)}`);
  }
  return raw as T;
}

function str(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  return raw === undefined ? fallback : raw.trim();
}

/** Reads the environment over the frozen defaults; throws ConfigError naming the variable on bad input. */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const config: Config = {
    host: str(env, 'HOST', defaults.host),
    port: int(env, 'PORT', defaults.port, 0, 65535),
    dataDir: path.resolve(str(env, 'DATA_DIR', defaults.dataDir)),
    modelDir: path.resolve(str(env, 'MODEL_DIR', defaults.modelDir)),
    modelPullOnStart: bool(env, 'MODEL_PULL_ON_START', defaults.modelPullOnStart),
    maxUploadBytes: int(env, 'MAX_UPLOAD_BYTES', defaults.maxUploadBytes, 1),
    maxPixels: int(env, 'MAX_PIXELS', defaults.maxPixels, 1),
    maxBatchFiles: int(env, 'MAX_BATCH_FILES', defaults.maxBatchFiles, 1),
    maxQueueSize: int(env, 'MAX_QUEUE_SIZE', defaults.maxQueueSize, 1),
    workers: int(env, 'WORKERS', defaults.workers, 1, 256),
    workerConcurrency: int(env, 'WORKER_CONCURRENCY', defaults.workerConcurrency, 1, 64),
    ortIntraOpThreads: int(env, 'ORT_INTRA_OP_THREADS', defaults.ortIntraOpThreads, 1, 256),
    faceModel: str(env, 'FACE_MODEL', defaults.faceModel),
    objectModel: str(env, 'OBJECT_MODEL', defaults.objectModel),
    plateModel: str(env, 'PLATE_MODEL', defaults.plateModel),
    keepMetadata: bool(env, 'KEEP_METADATA', defaults.keepMetadata),
    jobTtlSeconds: int(env, 'JOB_TTL_SECONDS', defaults.jobTtlSeconds, 1),
    logLevel: oneOf(env, 'LOG_LEVEL', defaults.logLevel, ['debug', 'info', 'warn', 'error'] as const),
    maxAttempts: int(env, 'MAX_ATTEMPTS', defaults.maxAttempts, 1, 100),
    stalledMs: int(env, 'STALLED_MS', defaults.stalledMs, 100),
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', defaults.shutdownGraceMs, 0),
    redisUrl: str(env, 'REDIS_URL', defaults.redisUrl),
    redisPrefix: str(env, 'REDIS_PREFIX', defaults.redisPrefix),
    s3Bucket: str(env, 'S3_BUCKET', defaults.s3Bucket),
    s3Endpoint: str(env, 'S3_ENDPOINT', defaults.s3Endpoint),
    s3Region: str(env, 'AWS_REGION', defaults.s3Region),
    s3ForcePathStyle: bool(env, 'S3_FORCE_PATH_STYLE', defaults.s3ForcePathStyle),
    s3Prefix: str(env, 'S3_PREFIX', defaults.s3Prefix),
    s3MultipartThresholdBytes: int(env, 'S3_MULTIPART_THRESHOLD_BYTES', defaults.s3MultipartThresholdBytes, 5 * 1024 * 1024),
    s3PartConcurrency: int(env, 'S3_PART_CONCURRENCY', defaults.s3PartConcurrency, 1, 64),
    resultDelivery: oneOf(env, 'RESULT_DELIVERY', defaults.resultDelivery, ['stream', 'presign'] as const),
    presignExpirySeconds: int(env, 'PRESIGN_EXPIRY_SECONDS', defaults.presignExpirySeconds, 1, 7 * 24 * 3600),
    keepOriginals: bool(env, 'KEEP_ORIGINALS', defaults.keepOriginals),
    auth: oneOf(env, 'AUTH', defaults.auth, ['off', 'on'] as const),
    ...overrides,
  };
  return Object.freeze(config);
}
