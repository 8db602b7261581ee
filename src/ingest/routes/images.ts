import { errors, isPixveilError } from '../../errors.js';
import { httpStatusOf } from '../http-status.js';
import { tenantOf, type Call } from '../access.js';
import type { IngestContext } from '../context.js';
import { isMultipart, parseMultipart } from '../multipart.js';
import { callbackFor } from '../callback.js';
import { parseJobOptions } from '../options.js';
import { acceptImage, idempotencyKeyOf } from '../submit.js';
import type { AcceptedView, BatchView } from '../views.js';

function countOutcome(ctx: IngestContext, err: unknown): void {
  ctx.metrics.uploads.inc({ outcome: (err as { code?: string }).code ?? 'INTERNAL' });
}

/** POST /v1/images (and /upload): a raw image body, or multipart with a `file` field. */
export async function postImage(ctx: IngestContext, call: Call, view: AcceptedView): Promise<void> {
  const { reply, info } = call;
  try {
    const options = parseJobOptions(info.query, ctx.options);
    const idempotencyKey = idempotencyKeyOf(info.headers);
    const callback = await callbackFor(ctx, info.query, tenantOf(call.principal));
    const contentType = info.headers['content-type'];
    const body = await call.body!;
    let bytes = body;
    let filename: string | undefined = info.headers['x-filename'];
    if (isMultipart(contentType)) {
      const files = await parseMultipart(contentType!, body, { maxFiles: 1, maxFileBytes: ctx.config.maxUploadBytes, fields: ['file', 'image'] });
      if (files.length === 0) throw errors.missingFile('file');
      bytes = files[0].data;
      filename = files[0].filename;
    }
    const { job, replayed } = await acceptImage(ctx, bytes, filename, options, tenantOf(call.principal), idempotencyKey, callback);
    reply.jobIds.push(job.id);
    ctx.metrics.uploads.inc({ outcome: replayed ? 'replayed' : 'accepted' });
    reply.json(202, view(job), { Location: `/v1/jobs/${job.id}`, ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}) });
  } catch (err) {
    countOutcome(ctx, err);
    throw err;
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
  const results = [];
  let accepted = 0;
  for (const [index, file] of files.entries()) {
    try {
      // One key per batch: each file's job is remembered under the key and its position.
      const key = idempotencyKey === undefined ? undefined : `${idempotencyKey}#${index}`;
      const { job } = await acceptImage(ctx, file.data, file.filename, options, tenantOf(call.principal), key, callback);
      reply.jobIds.push(job.id);
      accepted++;
      ctx.metrics.uploads.inc({ outcome: 'accepted' });
      results.push(view.entry(job));
    } catch (err) {
      countOutcome(ctx, err);
      const e = err as { code?: string; message: string };
      // A full queue or a dead backend refuses the rest of the batch the same way.
      const status = isPixveilError(err) ? httpStatusOf(err) : 500;
      if (status === 429 || status === 503) throw err;
      results.push({ filename: file.filename ?? null, status: 'rejected', error: { code: e.code ?? 'INTERNAL', message: e.message } });
    }
  }
  if (accepted === 0) {
    const first = results[0] as { error?: { code: string; message: string } };
    reply.json(first.error?.code === 'UNSUPPORTED_MEDIA_TYPE' ? 415 : 400, { error: { code: 'BATCH_REJECTED', message: 'No file in the batch was accepted' }, jobs: results });
    return;
  }
  reply.json(202, view.body(results, accepted));
}
