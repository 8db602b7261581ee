import { errors, isPixveilError, type PixveilError } from '../../errors.js';
import { unexpectedError } from '../guard.js';
import { httpStatusOf } from '../http-status.js';
import { tenantOf, type Call } from '../access.js';
import type { IngestContext } from '../context.js';
import type { JobCallback, JobOptions } from '../../job.js';
import { isMultipart, parseMultipart, singleUpload, type UploadedFile } from '../multipart.js';
import { callbackFor } from '../callback.js';
import { parseJobOptions } from '../options.js';
import { acceptImage, batchFileKey, idempotencyKeyOf } from '../submit.js';
import type { AcceptedView, BatchView } from '../views.js';

function countOutcome(ctx: IngestContext, err: unknown): void {
  ctx.metrics.uploads.inc({ outcome: (err as { code?: string }).code ?? 'INTERNAL' });
}

/**
 * Whether an upload is still worth accepting: not once its connection closed (nobody would learn
 * the job's id), unless it carries an Idempotency-Key, whose retry gets the job.
 */
export function wantedBy(call: Call, idempotencyKey: string | undefined): () => boolean {
  return () => idempotencyKey !== undefined || !call.reply.aborted;
}

/** POST /v1/images (and /upload): a raw image body, or multipart with a `file` field. */
export async function postImage(ctx: IngestContext, call: Call, view: AcceptedView): Promise<void> {
  const { reply, info } = call;
  let release: (() => void) | undefined;
  try {
    const options = parseJobOptions(info.query, ctx.options);
    const idempotencyKey = idempotencyKeyOf(info.headers);
    const callback = await callbackFor(ctx, info.query, tenantOf(call.principal));
    const contentType = info.headers['content-type'];
    const body = await call.body!;
    release = ctx.admission.admit(1);
    const { bytes, filename } = await singleUpload(contentType, body, info.headers['x-filename'], { maxFileBytes: ctx.config.maxUploadBytes, fields: ['file', 'image'] });
    const { job, replayed } = await acceptImage(ctx, bytes, filename, options, tenantOf(call.principal), idempotencyKey, callback, wantedBy(call, idempotencyKey));
    reply.jobIds.push(job.id);
    ctx.metrics.uploads.inc({ outcome: replayed ? 'replayed' : 'accepted' });
    reply.json(202, view(job), { Location: `/v1/jobs/${job.id}`, ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}) });
  } catch (err) {
    countOutcome(ctx, err);
    throw err;
  } finally {
    release?.();
  }
}

/** POST /v1/images:batch (and /batch-upload): multipart with many `files` (or `file`) parts, one job each. */
export async function postBatch(ctx: IngestContext, call: Call, view: BatchView): Promise<void> {
  const { reply, info } = call;
  const options = parseJobOptions(info.query, ctx.options);
  const idempotencyKey = idempotencyKeyOf(info.headers);
  const callback = await callbackFor(ctx, info.query, tenantOf(call.principal));
  const contentType = info.headers['content-type'];
  if (!isMultipart(contentType)) throw errors.badMultipart('expected Content-Type multipart/form-data with "files" parts');
  const body = await call.body!;
  const files = await parseMultipart(contentType!, body, { maxFiles: ctx.config.maxBatchFiles, maxFileBytes: ctx.config.maxUploadBytes, fields: ['files', 'file', 'files[]'] });
  if (files.length === 0) throw errors.missingFile('files');
  let release: () => void;
  try {
    // The whole batch or none of it: a half-accepted batch would leave the client guessing.
    release = ctx.admission.admit(files.length);
  } catch (err) {
    countOutcome(ctx, err);
    throw err;
  }
  try {
    await acceptBatch(ctx, call, view, files, options, idempotencyKey, callback);
  } finally {
    release();
  }
}

async function acceptBatch(ctx: IngestContext, call: Call, view: BatchView, files: UploadedFile[], options: JobOptions, idempotencyKey: string | undefined, callback: JobCallback | undefined): Promise<void> {
  const { reply } = call;
  const results = [];
  let accepted = 0;
  let firstRejection: PixveilError | undefined;
  for (const [index, file] of files.entries()) {
    try {
      // One key per batch: each file's job is remembered under the key and its position.
      const key = idempotencyKey === undefined ? undefined : batchFileKey(idempotencyKey, index);
      const { job } = await acceptImage(ctx, file.data, file.filename, options, tenantOf(call.principal), key, callback, wantedBy(call, idempotencyKey));
      reply.jobIds.push(job.id);
      accepted++;
      ctx.metrics.uploads.inc({ outcome: 'accepted' });
      results.push(view.entry(job));
    } catch (caught) {
      // A bug is logged with its stack under a request id; the file's entry names only the id.
      const err = isPixveilError(caught) ? caught : unexpectedError(ctx.log, 'batch file', caught);
      countOutcome(ctx, err);
      // A full queue or a dead backend refuses the rest of the batch the same way.
      const status = httpStatusOf(err);
      if (status === 429 || status === 503) throw err;
      firstRejection ??= err;
      results.push({ filename: file.filename ?? null, status: 'rejected', error: { code: err.code, message: err.message } });
    }
  }
  if (accepted === 0 && firstRejection) {
    // Answered as the first file's own error (a documented code at its status), with every file's verdict.
    const e = firstRejection;
    reply.errorCode = e.code;
    reply.json(httpStatusOf(e), { error: { code: e.code, message: `No file in the batch was accepted; the first: ${e.message}` }, jobs: results }, e.headers);
    return;
  }
  reply.json(202, view.body(results, accepted));
}
