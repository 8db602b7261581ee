import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import { errors, invalidOption } from '../errors.js';
import { contentTypes, type ImageExt } from '../image-format.js';
import { newJobId, type Job, type JobCallback, type JobKind, type JobOptions } from '../job.js';
import { videoContentTypes, type VideoExt } from '../video-format.js';
import { storageKeys } from '../storage/keys.js';
import type { IngestContext } from './context.js';
import { describeNonVideo, describeUnsupported, sniffImageType, sniffVideoType } from './sniff.js';

/** Only printable, short, path-free names are kept; the name never reaches a storage key. */
export function cleanFilename(name: string | undefined, fallback: string): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const cleaned = base.replace(/[^\w.\- ]+/g, '_').slice(0, 200).trim();
  return cleaned || fallback;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The request's Idempotency-Key header, checked; undefined when absent. */
export function idempotencyKeyOf(headers: Record<string, string>): string | undefined {
  const raw = headers['idempotency-key'];
  if (raw === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(raw)) throw invalidOption('Idempotency-Key', '1 to 255 printable ASCII characters without spaces', raw);
  return raw;
}

/**
 * The connection closed before the job existed (a pipelined request behind this upload, or the
 * client went away): nobody could learn its id, so the upload is dropped. No answer can be sent.
 */
function clientGone() {
  return errors.requestTimeout('the connection closed before the upload was accepted');
}

export interface Accepted {
  job: Job;
  /** The job an earlier upload with the same Idempotency-Key created. */
  replayed: boolean;
}

/**
 * The key of file `index` of a batch sent with `key`. A space cannot occur in an Idempotency-Key,
 * so no single upload's key (`k#1`, `k 1`) can name a batch file's job.
 */
export function batchFileKey(key: string, index: number): string {
  return `${key} ${index}`;
}

/** Keys are per tenant, hashed so any header value makes a safe storage key. */
function scopedKey(tenant: string | undefined, key: string): string {
  return crypto.createHash('sha256').update(`${tenant ?? ''}\n${key}`).digest('hex');
}

/** What is stored as the job's original: its size, and how it gets to storage (from memory or from a file). */
interface Body {
  size: number;
  put(key: string, contentType: string): Promise<void>;
}

/**
 * Accepts one image: sniff, store the original, enqueue. If enqueue fails, or `wanted` turns
 * false before it (the client went away), the original is deleted again, so a refused upload
 * leaves nothing behind. With an idempotency key, an upload
 * the same tenant made with that key within JOB_TTL_SECONDS answers with its job instead.
 */
export async function acceptImage(ctx: IngestContext, bytes: Buffer, filename: string | undefined, options: JobOptions, tenant?: string, idempotencyKey?: string, callback?: JobCallback, wanted: () => boolean = () => true): Promise<Accepted> {
  if (bytes.length === 0) throw errors.emptyBody();
  if (!wanted()) throw clientGone();
  const format = sniffImageType(bytes);
  if (!format) throw errors.unsupportedMediaType(describeUnsupported(bytes));
  const body: Body = { size: bytes.length, put: (key, contentType) => ctx.store.put(key, bytes, contentType) };
  return accept(ctx, body, { kind: 'image', format, contentType: contentTypes[format] }, filename, options, tenant, idempotencyKey, callback, wanted);
}

/** Enough of a file's start for sniffVideoType (three MPEG-TS packets) and describeNonVideo. */
const VIDEO_HEAD_BYTES = 4096;

async function headOf(file: string): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(VIDEO_HEAD_BYTES), 0, VIDEO_HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** A video upload as ingest holds it: a temporary file the route removes when the request ends. */
export interface UploadedVideo {
  file: string;
  size: number;
}

/**
 * Accepts one video as acceptImage does an image (same idempotency, storage and queue), once its
 * container is recognised by its first bytes and `check` (ffprobe and the limits, ingest's video
 * context) found a video stream with frames within MAX_VIDEO_SECONDS and MAX_VIDEO_PIXELS. The
 * video goes from its file to storage (ObjectStore.putFile), never read into memory whole.
 */
export async function acceptVideo(ctx: IngestContext, upload: UploadedVideo, filename: string | undefined, options: JobOptions, check: (file: string) => Promise<unknown>, tenant?: string, idempotencyKey?: string, callback?: JobCallback, wanted: () => boolean = () => true): Promise<Accepted> {
  if (upload.size === 0) throw errors.emptyBody();
  if (!wanted()) throw clientGone();
  const head = await headOf(upload.file);
  const format = sniffVideoType(head);
  if (!format) throw errors.unsupportedVideoType(describeNonVideo(head));
  await check(upload.file);
  const body: Body = { size: upload.size, put: (key, contentType) => ctx.store.putFile(key, upload.file, contentType) };
  return accept(ctx, body, { kind: 'video', format, contentType: videoContentTypes[format] }, filename, options, tenant, idempotencyKey, callback, wanted);
}

interface Sniffed {
  kind: JobKind;
  format: ImageExt | VideoExt;
  contentType: string;
}

async function accept(ctx: IngestContext, body: Body, sniffed: Sniffed, filename: string | undefined, options: JobOptions, tenant: string | undefined, idempotencyKey: string | undefined, callback: JobCallback | undefined, wanted: () => boolean): Promise<Accepted> {
  const id = newJobId();
  const scoped = idempotencyKey === undefined ? undefined : scopedKey(tenant, idempotencyKey);
  if (scoped !== undefined) {
    const holder = await ctx.queue.reserveIdempotencyKey(scoped, id, ctx.config.jobTtlSeconds);
    if (holder !== id) {
      const first = await ctx.queue.get(holder);
      if (!first) throw errors.idempotencyInProgress(idempotencyKey!);
      return { job: first, replayed: true };
    }
  }
  try {
    return { job: await storeAndEnqueue(ctx, id, body, sniffed, filename, options, tenant, callback, wanted, scoped), replayed: false };
  } catch (err) {
    if (scoped !== undefined) await ctx.queue.releaseIdempotencyKey(scoped, id).catch(() => {});
    throw err;
  }
}

async function storeAndEnqueue(ctx: IngestContext, id: string, body: Body, sniffed: Sniffed, filename: string | undefined, options: JobOptions, tenant: string | undefined, callback: JobCallback | undefined, wanted: () => boolean, idempotencyKey: string | undefined): Promise<Job> {
  const { format } = sniffed;
  const key = storageKeys.original(id, format);
  const now = Date.now();
  const job: Job = {
    id,
    // Images leave the kind out, so their records read as they did before videos.
    ...(sniffed.kind === 'video' ? { kind: 'video' as const } : {}),
    status: 'queued',
    tenant,
    createdAt: now,
    updatedAt: now,
    attempts: 0,
    options,
    input: { key, filename: cleanFilename(filename, `upload.${format}`), bytes: body.size, format },
    ...(callback ? { callback } : {}),
    ...(idempotencyKey ? { idempotencyKey } : {}),
  };
  await body.put(key, sniffed.contentType);
  try {
    if (!wanted()) throw clientGone();
    await ctx.queue.enqueue(job);
    ctx.admission.noteEnqueued();
  } catch (err) {
    await ctx.store.delete(key).catch(() => {});
    throw err;
  }
  ctx.metrics.uploadBytes.observe(body.size);
  return job;
}
