import os from 'node:os';
import path from 'node:path';

// Every setting pixveil reads, with the value used when its variable is unset.
// The README's configuration table is written from this list.
export const defaults = Object.freeze({
  host: '127.0.0.1',
  port: 8000,
  dataDir: './data',
  modelDir: path.join(os.homedir(), '.cache', 'pixveil', 'models'),
  modelPullOnStart: true,
  maxUploadBytes: 50 * 1024 * 1024,
  maxPixels: 100_000_000,
  maxBatchFiles: 100,
  maxQueueSize: 1000,
  workers: Math.max(1, os.availableParallelism()),
  workerConcurrency: 2,
  ortIntraOpThreads: 1,
  faceModel: 'ultraface-rfb-320',
  objectModel: 'yolox-nano',
  plateModel: 'hyperlpr-y5fu-320',
  keepMetadata: false,
  jobTtlSeconds: 24 * 3600,
  logLevel: 'info' as 'debug' | 'info' | 'warn' | 'error',
  maxAttempts: 3,
  stalledMs: 30_000,
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
});

export type Defaults = typeof defaults;
