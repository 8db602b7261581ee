import type { Config } from '../config/config.js';
import { LocalObjectStore } from './local.js';
import type { ObjectStore } from './storage.js';

/** S3_BUCKET set → S3; otherwise files under DATA_DIR. */
export async function createObjectStore(config: Config): Promise<ObjectStore> {
  if (config.s3Bucket) {
    const { S3ObjectStore } = await import('./s3.js');
    return S3ObjectStore.fromConfig(config);
  }
  return new LocalObjectStore(config.dataDir);
}
