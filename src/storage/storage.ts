import type { Readable } from 'node:stream';

/** One stored object as a listing returns it. */
export interface StoredObject {
  key: string;
  /** When it was last written (ms since the epoch): local mtime, S3 LastModified. */
  modifiedAt: number;
}

/** Where originals, anonymized images and metadata records live: a local directory or an S3 bucket. */
export interface ObjectStore {
  /** Human-readable location for logs and /v1/health, e.g. `local:/srv/data` or `s3://bucket/prefix`. */
  readonly description: string;
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /**
   * Stores the file at `file` under `key` without reading it into memory whole (videos): the
   * caller keeps the file and removes it when it likes. A file, not a stream, so a store can read
   * it twice (S3 hashes it before the upload starts) and a retry can start it again.
   */
  putFile(key: string, file: string, contentType: string): Promise<void>;
  get(key: string): Promise<Buffer>;
  /** Streams an object for GET /v1/jobs/:id/result; size lets the server set Content-Length. */
  getStream(key: string): Promise<{ stream: Readable; size: number; contentType: string }>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix` (e.g. `original/` or `original/<id>.`), in pages; no order promised. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /** A URL a client can fetch directly (S3 presign), or undefined when the store cannot hand one out. */
  presignedUrl?(key: string, expiresSeconds: number): Promise<string | undefined>;
  /** Throws when the store is unreachable or misconfigured; used by /v1/ready and at start-up. */
  check(): Promise<void>;
  close?(): Promise<void>;
}
