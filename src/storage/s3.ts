import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Config } from '../config/config.js';
import { errors } from '../errors.js';
import { createS3Client, describeBucketFailure, httpStatusOf, type S3ClientOptions } from './s3-client.js';
import type { ObjectStore, StoredObject } from './storage.js';

export interface S3StoreOptions extends S3ClientOptions {
  bucket: string;
  /** Prepended to every key, e.g. `pixveil/` → `pixveil/original/<job>.jpg`. */
  prefix: string;
  /** Bodies of this size or more go up as a multipart upload. */
  multipartThresholdBytes: number;
  /** Parts of one multipart upload in flight at once. */
  partConcurrency: number;
  /** Multipart part size; raised when a body would need more than 10,000 parts. */
  partSizeBytes: number;
  cacheControl: string;
}

const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** Settings pixveil's Config does not carry; each can be overridden in fromConfig. */
export const s3StoreDefaults = Object.freeze({
  maxAttempts: 4,
  connectionTimeoutMs: 5_000,
  requestTimeoutMs: 120_000,
  socketTimeoutMs: 30_000,
  partSizeBytes: 8 * 1024 * 1024,
  // Objects hold faces and plates before anonymization: never in shared caches.
  cacheControl: 'private, max-age=3600',
});

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (trimmed.split('/').includes('..')) throw new Error(`S3_PREFIX must not contain "..": ${JSON.stringify(prefix)}`);
  return trimmed ? `${trimmed}/` : '';
}

function sha256Hex(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

type PutParams = { Bucket: string; Key: string; ContentType: string; CacheControl: string; Metadata: Record<string, string> };

/** Objects in one S3 (or S3-compatible) bucket under an optional key prefix. */
export class S3ObjectStore implements ObjectStore {
  readonly description: string;
  private readonly client: S3Client;
  private readonly opts: S3StoreOptions;
  private readonly prefix: string;
  private readonly endpointName: string;

  constructor(opts: S3StoreOptions) {
    if (!opts.bucket) throw new Error('S3ObjectStore needs a bucket (S3_BUCKET)');
    this.opts = opts;
    this.prefix = normalizePrefix(opts.prefix);
    this.endpointName = opts.endpoint || `AWS S3 (${opts.region})`;
    this.description = `s3://${opts.bucket}/${this.prefix}${opts.endpoint ? ` at ${opts.endpoint}` : ''}`;
    this.client = createS3Client(opts);
  }

  /** Builds the store from Config and, unless verifyBucket is false, fails fast when the bucket is missing or unreachable. */
  static async fromConfig(config: Config, overrides: Partial<S3StoreOptions> & { verifyBucket?: boolean } = {}): Promise<S3ObjectStore> {
    const { verifyBucket = true, ...rest } = overrides;
    const store = new S3ObjectStore({
      ...s3StoreDefaults,
      bucket: config.s3Bucket,
      endpoint: config.s3Endpoint,
      region: config.s3Region,
      forcePathStyle: config.s3ForcePathStyle,
      prefix: config.s3Prefix,
      multipartThresholdBytes: config.s3MultipartThresholdBytes,
      partConcurrency: config.s3PartConcurrency,
      ...rest,
    });
    if (verifyBucket) {
      try {
        await store.check();
      } catch (err) {
        await store.close();
        throw err;
      }
    }
    return store;
  }

  /** Only keys from keys.ts should arrive here; this guards against a future caller passing something else. */
  private objectKey(key: string): string {
    if (!key || key.startsWith('/') || key.split('/').includes('..')) {
      throw errors.internal(`Refusing storage key ${JSON.stringify(key)}: keys must be relative and must not contain ".."`);
    }
    return this.prefix + key;
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    const Key = this.objectKey(key);
    // Stored with the object so readers can verify it (get() does), whichever upload path wrote it.
    const common = {
      Bucket: this.opts.bucket,
      Key,
      ContentType: contentType,
      CacheControl: this.opts.cacheControl,
      Metadata: { sha256: sha256Hex(body) },
    };
    try {
      if (body.length < this.opts.multipartThresholdBytes) {
        await this.client.send(
          new PutObjectCommand({
            ...common,
            Body: body,
            ContentLength: body.length,
            // Every S3-compatible store checks Content-MD5 and rejects a body that changed on the way.
            ContentMD5: createHash('md5').update(body).digest('base64'),
          }),
        );
      } else {
        await this.putMultipart(common, body, body.length);
      }
    } catch (err) {
      throw errors.storage('put', Key, err);
    }
  }

  /**
   * Under the multipart threshold the file is read whole (at most S3_MULTIPART_THRESHOLD_BYTES):
   * as a Buffer the SDK retries it, where it never retries a stream body. From the threshold up it
   * streams through a multipart upload, holding about S3_PART_CONCURRENCY + 1 parts at a time.
   */
  async putFile(key: string, file: string, contentType: string): Promise<void> {
    const Key = this.objectKey(key);
    let size: number;
    let small: Buffer | undefined;
    try {
      size = (await fs.stat(file)).size;
      if (size < this.opts.multipartThresholdBytes) small = await fs.readFile(file);
    } catch (err) {
      throw errors.storage('put', Key, err);
    }
    if (small) return this.put(key, small, contentType);
    try {
      // A first pass over the file: its digest goes in the upload's metadata, sent before any part.
      const sha256 = await sha256OfFile(file);
      const common = { Bucket: this.opts.bucket, Key, ContentType: contentType, CacheControl: this.opts.cacheControl, Metadata: { sha256 } };
      await this.putMultipart(common, createReadStream(file), size);
    } catch (err) {
      throw errors.storage('put', Key, err);
    }
  }

  private async putMultipart(params: PutParams, body: Buffer | Readable, size: number): Promise<void> {
    const partSize = Math.max(MIN_PART_BYTES, this.opts.partSizeBytes, Math.ceil(size / MAX_PARTS));
    // A Buffer's parts are subarrays of it, so memory stays at one copy of the object whatever its
    // size; a stream is cut into parts as it is read, about queueSize + 1 of them held at once.
    // Each part carries x-amz-checksum-sha256 (Content-MD5 cannot be set per part through Upload).
    const upload = new Upload({
      client: this.client,
      params: { ...params, Body: body, ChecksumAlgorithm: 'SHA256' },
      queueSize: this.opts.partConcurrency,
      partSize,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async get(key: string): Promise<Buffer> {
    const Key = this.objectKey(key);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key }));
      if (!res.Body) throw new Error('the response has no body');
      const bytes = await res.Body.transformToByteArray();
      const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const expected = res.Metadata?.sha256;
      if (expected && sha256Hex(body) !== expected) {
        throw new Error(`the ${body.length} bytes read do not match the sha256 stored with the object`);
      }
      return body;
    } catch (err) {
      throw errors.storage('get', Key, err);
    }
  }

  async getStream(key: string): Promise<{ stream: Readable; size: number; contentType: string }> {
    const Key = this.objectKey(key);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key }));
      if (!res.Body || res.ContentLength === undefined) throw new Error('the response has no body or no Content-Length');
      // In Node the SDK's body is an http.IncomingMessage with helper methods mixed in.
      return { stream: res.Body as Readable, size: res.ContentLength, contentType: res.ContentType ?? 'application/octet-stream' };
    } catch (err) {
      throw errors.storage('get', Key, err);
    }
  }

  async exists(key: string): Promise<boolean> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.opts.bucket, Key }));
      return true;
    } catch (err) {
      if (httpStatusOf(err) === 404) return false;
      throw errors.storage('exists', Key, err);
    }
  }

  /** Deleting a missing key succeeds, as S3 does. */
  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key }));
    } catch (err) {
      throw errors.storage('delete', Key, err);
    }
  }

  /** ListObjectsV2 pages of up to 1000 keys; the store's S3_PREFIX is stripped from what comes back. */
  async *list(prefix: string): AsyncIterable<StoredObject> {
    const Prefix = this.objectKey(prefix);
    let ContinuationToken: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix, ContinuationToken }));
      } catch (err) {
        throw errors.storage('list', Prefix, err);
      }
      for (const object of page.Contents ?? []) {
        if (!object.Key?.startsWith(this.prefix)) continue;
        yield { key: object.Key.slice(this.prefix.length), modifiedAt: object.LastModified?.getTime() ?? 0 };
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  /** Signed locally: needs no request, and does not check that the object exists. */
  async presignedUrl(key: string, expiresSeconds: number): Promise<string> {
    const Key = this.objectKey(key);
    if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > MAX_PRESIGN_SECONDS) {
      throw errors.invalidOption('expiresSeconds', `an integer between 1 and ${MAX_PRESIGN_SECONDS}`, expiresSeconds);
    }
    try {
      return await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.opts.bucket, Key }), { expiresIn: expiresSeconds });
    } catch (err) {
      throw errors.storage('presign', Key, err);
    }
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.opts.bucket }));
    } catch (err) {
      const message = describeBucketFailure(err, this.opts.bucket, this.endpointName);
      throw errors.storage('check', `s3://${this.opts.bucket}`, new Error(message, { cause: err }));
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
