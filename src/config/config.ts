import path from 'node:path';
import { defaults, legacyProfile } from './defaults.js';
import type { DetectionSettings } from './detection.js';
import { METADATA_POLICIES, type MetadataPolicy } from '../job.js';

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly modelDir: string;
  readonly modelPullOnStart: boolean;
  /** Extra manifests (MODEL_MANIFEST_DIR); empty: only the packaged ones. */
  readonly modelManifestDir: string;
  /** Empty: models come from their upstream URLs. */
  readonly modelMirror: string;
  readonly maxUploadBytes: number;
  readonly maxPixels: number;
  readonly maxBatchFiles: number;
  readonly maxQueueSize: number;
  /** Predicted-wait bound for admission (LATENCY_SLO_SECONDS); 0 turns latency admission off. */
  readonly latencySloSeconds: number;
  /** Seconds per image per pool thread assumed until the cluster's drain rate is measured. */
  readonly admissionPriorSecondsPerImage: number;
  /** Share of the SLO a newly admitted job may be predicted to wait (ADMISSION_WAIT_FRACTION); the rest is margin. */
  readonly admissionWaitFraction: number;
  /** Pool threads (POOL_THREADS, formerly WORKERS); one onnxruntime session set per thread. */
  readonly poolThreads: number;
  /** Jobs in flight per pool thread (POOL_TASKS_PER_THREAD, formerly WORKER_CONCURRENCY), so decode/encode of one overlaps waiting on the next. */
  readonly tasksPerThread: number;
  readonly ortIntraOpThreads: number;
  /** PROFILE: `legacy` starts from the pre-issue-14 models and passes (defaults.ts legacyProfile). */
  readonly profile: 'default' | 'legacy';
  readonly faceModel: string;
  readonly objectModel: string;
  /** Empty: no plate detector configured. */
  readonly plateModel: string;
  /** Tiles, person/vehicle crops and blur margins: handed whole to every pool thread. */
  readonly detection: Readonly<DetectionSettings>;
  /** Default `metadata=` of a request: strip everything, or keep safe EXIF (see README "Privacy"). */
  readonly keepMetadata: MetadataPolicy;
  readonly jobTtlSeconds: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Deliveries of one job before it is dead-lettered and marked failed. */
  readonly maxAttempts: number;
  /** A claimed job idle this long is reclaimed by another worker (Redis mode). */
  readonly stalledMs: number;
  /** First retry delay after a transient failure; doubles per attempt. */
  readonly retryBaseMs: number;
  /** How long one storage call of a job is retried through STORAGE_ERROR before that attempt fails. */
  readonly storageRetryMs: number;
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
  readonly apiKeys: string;
  readonly apiKeysFile: string;
  readonly jwtSecret: string;
  readonly jwtJwksUrl: string;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  readonly jwtTenantClaim: string;
  readonly jwtRequiredScope: string;
  readonly metricsToken: string;
  readonly rateLimitPerMinute: number;
  readonly rateLimitBurst: number;
  readonly maxDimension: number;
  readonly maxConcurrentUploads: number;
  readonly wsMaxInFlight: number;
  readonly wsIdleTimeoutSeconds: number;
  readonly bodyTimeoutMs: number;
  readonly bodyMinBytesPerSecond: number;
  readonly maxHeaderBytes: number;
  /** Whole batch body per request; batch bodies are buffered, so this bounds one request's memory. */
  readonly maxBatchBytes: number;
  /** Upload bytes being received at once on this node (HTTP bodies and WebSocket frames); past it 503. */
  readonly uploadBudgetBytes: number;
  /** Per WebSocket connection: bytes waiting to be sent (uWS buffer + own queue) before the server closes with 1013. */
  readonly wsMaxBacklogBytes: number;
  /** Prepended to JWT tenants so a token's subject never names an API-key tenant by accident; empty maps them on purpose. */
  readonly jwtTenantPrefix: string;
  /** Failed authentications per client address and minute before every attempt from it gets 429; 0 disables. */
  readonly authFailuresPerMinute: number;
  /** Tenants (API-key tenants, or prefixed JWT tenants) that see cluster-wide /v1/stats and /v1/queue. */
  readonly adminTenants: readonly string[];
  /** A JWT scope that grants the same. */
  readonly adminScope: string;
  /** Peers whose X-Forwarded-For names the client (ingress, load balancer); exact addresses. */
  readonly trustedProxies: readonly string[];
  /** Start on a Redis that keeps nothing across a restart (accepted jobs would be lost). */
  readonly allowVolatileRedis: boolean;
  /** Tenant → default callback URL (WEBHOOK_DEFAULTS); `*` applies to every tenant without an entry. */
  readonly webhookDefaults: Readonly<Record<string, string>>;
  /** Default signing secret (WEBHOOK_SECRET). */
  readonly webhookSecret: string;
  /** Tenant → signing secret (WEBHOOK_SECRETS). */
  readonly webhookSecrets: Readonly<Record<string, string>>;
  readonly webhookAllowPrivate: boolean;
  readonly webhookTimeoutMs: number;
  readonly webhookMaxAttempts: number;
  readonly webhookRetryBaseMs: number;
  readonly webhookRetryMaxMs: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

// Variables renamed so "worker" names only the node role; the old names keep working.
const ALIASES: Readonly<Record<string, string>> = Object.freeze({
  POOL_THREADS: 'WORKERS',
  POOL_TASKS_PER_THREAD: 'WORKER_CONCURRENCY',
});

function withAliases(env: Env): Env {
  const out: Env = { ...env };
  for (const [name, old] of Object.entries(ALIASES)) {
    if ((out[name] === undefined || out[name] === '') && out[old] !== undefined) out[name] = out[old];
  }
  return out;
}

function int(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`Expected an integer between ${min} and ${max} for ${name} but received ${JSON.stringify(raw)}`);
  }
  return value;
}

function num(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(`Expected a number between ${min} and ${max} for ${name} but received ${JSON.stringify(raw)}`);
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

// KEEP_METADATA was a reserved boolean: false still means strip, true the one safe way to keep.
function metadataPolicy(env: Env, name: string, fallback: MetadataPolicy): MetadataPolicy {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if ((METADATA_POLICIES as readonly string[]).includes(raw)) return raw as MetadataPolicy;
  if (['0', 'false', 'no', 'off'].includes(raw)) return 'strip';
  if (['1', 'true', 'yes', 'on'].includes(raw)) return 'safe';
  throw new ConfigError(`Expected one of strip, safe for ${name} but received ${JSON.stringify(env[name])}`);
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

function list(env: Env, name: string, fallback: readonly string[]): readonly string[] {
  const raw = env[name];
  if (raw === undefined) return fallback;
  return Object.freeze(raw.split(',').map((v) => v.trim()).filter(Boolean));
}

/** `name=value` pairs, comma-separated, into a frozen map (values may hold `=`, not `,`). */
function pairs(env: Env, name: string, fallback: string, what: string): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of str(env, name, fallback).split(',').map((s) => s.trim()).filter(Boolean)) {
    const at = entry.indexOf('=');
    const key = entry.slice(0, at).trim();
    const value = entry.slice(at + 1).trim();
    if (at <= 0 || !value || !/^(\*|[\w.@:-]{1,128})$/.test(key)) throw new ConfigError(`Expected "tenant=${what}" entries, comma-separated, for ${name} but received ${JSON.stringify(entry.slice(0, 40))}`);
    out[key] = value;
  }
  return Object.freeze(out);
}

/** Default callback URLs must be http(s) and every tenant that has one must have a signing secret. */
function checkWebhookConfig(config: Config): void {
  for (const [tenant, url] of Object.entries(config.webhookDefaults)) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol)) throw new ConfigError(`Expected an http(s) URL for tenant ${tenant} in WEBHOOK_DEFAULTS but received ${JSON.stringify(url)}`);
    if (!config.webhookSecret && !config.webhookSecrets[tenant]) throw new ConfigError(`WEBHOOK_DEFAULTS names tenant ${tenant} but neither WEBHOOK_SECRET nor WEBHOOK_SECRETS gives it a signing secret`);
  }
  for (const [tenant, secret] of [['(default)', config.webhookSecret], ...Object.entries(config.webhookSecrets)]) {
    if (secret && secret.length < 16) throw new ConfigError(`Expected a webhook signing secret of at least 16 characters for ${tenant} (WEBHOOK_SECRET / WEBHOOK_SECRETS)`);
  }
}

/** The flat detection variables → one DetectionSettings over its defaults. */
function detectionSettings(env: Env, d: DetectionSettings): DetectionSettings {
  return Object.freeze({
    ...d,
    tiling: oneOf(env, 'TILING', d.tiling, ['auto', 'fallback', 'off'] as const),
    platesOnVehicles: bool(env, 'PLATES_ON_VEHICLES', d.platesOnVehicles),
    facesOnPersons: bool(env, 'FACES_ON_PERSONS', d.facesOnPersons),
    maxPersons: int(env, 'MAX_PERSONS', d.maxPersons, 0, 64),
    tileScale: Object.freeze({ faces: num(env, 'FACE_TILE_SCALE', d.tileScale.faces, 1, 64), plates: num(env, 'PLATE_TILE_SCALE', d.tileScale.plates, 1, 64) }),
    faceInputLongSide: multipleOf32(env, 'FACE_INPUT_LONG_SIDE', d.faceInputLongSide, 64, 8192),
    faceCropInput: multipleOf32(env, 'FACE_CROP_INPUT', d.faceCropInput, 32, 1024),
    plateCropBelowPx: env.PLATE_CROP_BELOW_PX === 'off' ? Infinity : num(env, 'PLATE_CROP_BELOW_PX', d.plateCropBelowPx, 0, 10_000),
    maxVehicles: int(env, 'MAX_VEHICLES', d.maxVehicles, 0, 64),
    blurMargin: Object.freeze({ face: num(env, 'FACE_BLUR_MARGIN', d.blurMargin.face, 0, 2), plate: num(env, 'PLATE_BLUR_MARGIN', d.blurMargin.plate, 0, 2) }),
  });
}

function multipleOf32(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = int(env, name, fallback, min, max);
  if (value % 32 !== 0) throw new ConfigError(`Expected a multiple of 32 for ${name} but received ${JSON.stringify(env[name])}`);
  return value;
}

/** AUTH=on with nothing to check credentials against would refuse every request: say so at start. */
function checkAuthConfig(config: Config): void {
  if (config.jwtSecret && config.jwtSecret.length < 32) {
    throw new ConfigError('Expected at least 32 characters for JWT_SECRET (an HS256 key) but received a shorter one');
  }
  if (config.jwtSecret && config.jwtJwksUrl) throw new ConfigError('Set JWT_SECRET or JWT_JWKS_URL, not both');
  if (config.auth === 'on' && !config.apiKeys && !config.apiKeysFile && !config.jwtSecret && !config.jwtJwksUrl) {
    throw new ConfigError('AUTH=on needs API_KEYS, API_KEYS_FILE, JWT_SECRET or JWT_JWKS_URL');
  }
}

/** Reads the environment over the frozen defaults; throws ConfigError naming the variable on bad input. */
export function loadConfig(rawEnv: Env = process.env, overrides: Partial<Config> = {}): Config {
  const env = withAliases(rawEnv);
  const profile = oneOf(env, 'PROFILE', defaults.profile, ['default', 'legacy'] as const);
  const base = profile === 'legacy' ? { ...defaults, ...legacyProfile } : defaults;
  const config: Config = {
    profile,
    host: str(env, 'HOST', defaults.host),
    port: int(env, 'PORT', defaults.port, 0, 65535),
    dataDir: path.resolve(str(env, 'DATA_DIR', defaults.dataDir)),
    modelDir: path.resolve(str(env, 'MODEL_DIR', defaults.modelDir)),
    modelPullOnStart: bool(env, 'MODEL_PULL_ON_START', defaults.modelPullOnStart),
    modelManifestDir: str(env, 'MODEL_MANIFEST_DIR', defaults.modelManifestDir),
    modelMirror: str(env, 'MODEL_MIRROR', defaults.modelMirror),
    maxUploadBytes: int(env, 'MAX_UPLOAD_BYTES', defaults.maxUploadBytes, 1),
    maxPixels: int(env, 'MAX_PIXELS', defaults.maxPixels, 1),
    maxBatchFiles: int(env, 'MAX_BATCH_FILES', defaults.maxBatchFiles, 1),
    maxQueueSize: int(env, 'MAX_QUEUE_SIZE', defaults.maxQueueSize, 1),
    latencySloSeconds: int(env, 'LATENCY_SLO_SECONDS', defaults.latencySloSeconds, 0, 86_400),
    admissionPriorSecondsPerImage: num(env, 'ADMISSION_PRIOR_SECONDS_PER_IMAGE', defaults.admissionPriorSecondsPerImage, 0.001, 3600),
    admissionWaitFraction: num(env, 'ADMISSION_WAIT_FRACTION', defaults.admissionWaitFraction, 0.05, 1),
    poolThreads: int(env, 'POOL_THREADS', defaults.poolThreads, 1, 256),
    tasksPerThread: int(env, 'POOL_TASKS_PER_THREAD', defaults.tasksPerThread, 1, 64),
    ortIntraOpThreads: int(env, 'ORT_INTRA_OP_THREADS', defaults.ortIntraOpThreads, 1, 256),
    faceModel: str(env, 'FACE_MODEL', base.faceModel),
    objectModel: str(env, 'OBJECT_MODEL', base.objectModel),
    plateModel: str(env, 'PLATE_MODEL', base.plateModel),
    detection: detectionSettings(env, base.detection),
    keepMetadata: metadataPolicy(env, 'KEEP_METADATA', defaults.keepMetadata),
    jobTtlSeconds: int(env, 'JOB_TTL_SECONDS', defaults.jobTtlSeconds, 1),
    logLevel: oneOf(env, 'LOG_LEVEL', defaults.logLevel, ['debug', 'info', 'warn', 'error'] as const),
    maxAttempts: int(env, 'MAX_ATTEMPTS', defaults.maxAttempts, 1, 100),
    stalledMs: int(env, 'STALLED_MS', defaults.stalledMs, 100),
    retryBaseMs: int(env, 'RETRY_BASE_MS', defaults.retryBaseMs, 1, 3_600_000),
    storageRetryMs: int(env, 'STORAGE_RETRY_MS', defaults.storageRetryMs, 0, 3_600_000),
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
    apiKeys: str(env, 'API_KEYS', defaults.apiKeys),
    apiKeysFile: str(env, 'API_KEYS_FILE', defaults.apiKeysFile),
    jwtSecret: str(env, 'JWT_SECRET', defaults.jwtSecret),
    jwtJwksUrl: str(env, 'JWT_JWKS_URL', defaults.jwtJwksUrl),
    jwtIssuer: str(env, 'JWT_ISSUER', defaults.jwtIssuer),
    jwtAudience: str(env, 'JWT_AUDIENCE', defaults.jwtAudience),
    jwtTenantClaim: str(env, 'JWT_TENANT_CLAIM', defaults.jwtTenantClaim) || 'sub',
    jwtRequiredScope: str(env, 'JWT_REQUIRED_SCOPE', defaults.jwtRequiredScope),
    metricsToken: str(env, 'METRICS_TOKEN', defaults.metricsToken),
    rateLimitPerMinute: int(env, 'RATE_LIMIT_PER_MINUTE', defaults.rateLimitPerMinute, 0),
    rateLimitBurst: int(env, 'RATE_LIMIT_BURST', defaults.rateLimitBurst, 1),
    maxDimension: int(env, 'MAX_DIMENSION', defaults.maxDimension, 1, 1_000_000),
    maxConcurrentUploads: int(env, 'MAX_CONCURRENT_UPLOADS', defaults.maxConcurrentUploads, 1),
    wsMaxInFlight: int(env, 'WS_MAX_IN_FLIGHT', defaults.wsMaxInFlight, 1, 10_000),
    wsIdleTimeoutSeconds: int(env, 'WS_IDLE_TIMEOUT_S', defaults.wsIdleTimeoutSeconds, 8, 960),
    bodyTimeoutMs: int(env, 'BODY_TIMEOUT_MS', defaults.bodyTimeoutMs, 100),
    bodyMinBytesPerSecond: int(env, 'BODY_MIN_BYTES_PER_SECOND', defaults.bodyMinBytesPerSecond, 0),
    maxHeaderBytes: int(env, 'MAX_HEADER_BYTES', defaults.maxHeaderBytes, 1024),
    maxBatchBytes: int(env, 'MAX_BATCH_BYTES', defaults.maxBatchBytes, 1),
    uploadBudgetBytes: int(env, 'UPLOAD_BUDGET_BYTES', defaults.uploadBudgetBytes, 1),
    wsMaxBacklogBytes: int(env, 'WS_MAX_BACKLOG_BYTES', defaults.wsMaxBacklogBytes, 64 * 1024),
    jwtTenantPrefix: str(env, 'JWT_TENANT_PREFIX', defaults.jwtTenantPrefix),
    authFailuresPerMinute: int(env, 'AUTH_FAILURES_PER_MINUTE', defaults.authFailuresPerMinute, 0),
    adminTenants: list(env, 'ADMIN_TENANTS', defaults.adminTenants),
    adminScope: str(env, 'ADMIN_SCOPE', defaults.adminScope),
    allowVolatileRedis: bool(env, 'ALLOW_VOLATILE_REDIS', defaults.allowVolatileRedis),
    trustedProxies: list(env, 'TRUSTED_PROXIES', defaults.trustedProxies),
    webhookDefaults: pairs(env, 'WEBHOOK_DEFAULTS', defaults.webhookDefaults, 'url'),
    webhookSecret: str(env, 'WEBHOOK_SECRET', defaults.webhookSecret),
    webhookSecrets: pairs(env, 'WEBHOOK_SECRETS', defaults.webhookSecrets, 'secret'),
    webhookAllowPrivate: bool(env, 'WEBHOOK_ALLOW_PRIVATE', defaults.webhookAllowPrivate),
    webhookTimeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', defaults.webhookTimeoutMs, 100, 120_000),
    webhookMaxAttempts: int(env, 'WEBHOOK_MAX_ATTEMPTS', defaults.webhookMaxAttempts, 1, 100),
    webhookRetryBaseMs: int(env, 'WEBHOOK_RETRY_BASE_MS', defaults.webhookRetryBaseMs, 1, 3_600_000),
    webhookRetryMaxMs: int(env, 'WEBHOOK_RETRY_MAX_MS', defaults.webhookRetryMaxMs, 1, 24 * 3_600_000),
    ...overrides,
  };
  checkAuthConfig(config);
  checkWebhookConfig(config);
  return Object.freeze(config);
}
