import { errors } from '../../errors.js';
import type { Job } from '../../job.js';
import type { IngestContext } from '../context.js';
import { isMultipart, parseMultipart } from '../multipart.js';
import { parseJobOptions } from '../options.js';
import { acceptImage } from '../submit.js';
import type { Call } from '../server.js';

export function acceptedView(job: Job) {
  return { job_id: job.id, status: job.status, status_url: `/v1/jobs/${job.id}`, result_url: `/v1/jobs/${job.id}/result` };
}

/** Seed shape for /upload. */
function seedAcceptedView(job: Job) {
  return { job_id: job.id, filename: job.input.filename, file_size: job.input.bytes, status: job.status, message: 'Image queued for processing' };
}

/** Jobs are stamped with their tenant only when AUTH=on; anonymous jobs have none. */
export function tenantOf(call: Pick<Call, 'principal'>): string | undefined {
  return call.principal.method === 'none' ? undefined : call.principal.tenant;
}

function countOutcome(ctx: IngestContext, err: unknown): void {
  ctx.metrics.uploads.inc({ outcome: (err as { code?: string }).code ?? 'INTERNAL' });
}

/** POST /v1/images (and /upload): a raw image body, or multipart with a `file` field. */
export async function postImage(ctx: IngestContext, call: Call, seed: boolean): Promise<void> {
  const { reply, info } = call;
  try {
    const options = parseJobOptions(info.query, ctx.options);
    const contentType = info.headers['content-type'];
    const multipart = isMultipart(contentType);
    const body = await call.body!;
    let bytes = body;
    let filename: string | undefined = info.headers['x-filename'];
    if (multipart) {
      const files = await parseMultipart(contentType!, body, { maxFiles: 1, maxFileBytes: ctx.config.maxUploadBytes, fields: ['file', 'image'] });
      if (files.length === 0) throw errors.missingFile('file');
      bytes = files[0].data;
      filename = files[0].filename;
    }
    const job = await acceptImage(ctx, bytes, filename, options, tenantOf(call));
    reply.jobIds.push(job.id);
    ctx.metrics.uploads.inc({ outcome: 'accepted' });
    if (!reply.aborted) reply.json(202, seed ? seedAcceptedView(job) : acceptedView(job), { Location: `/v1/jobs/${job.id}` });
  } catch (err) {
    countOutcome(ctx, err);
    throw err;
  }
}

/** POST /v1/images:batch (and /batch-upload): multipart with many `files` (or `file`) parts, one job each. */
export async function postBatch(ctx: IngestContext, call: Call, seed: boolean): Promise<void> {
  const { reply, info } = call;
  const options = parseJobOptions(info.query, ctx.options);
  const contentType = info.headers['content-type'];
  if (!isMultipart(contentType)) throw errors.badMultipart('expected Content-Type multipart/form-data with "files" parts');
  const body = await call.body!;
  const files = await parseMultipart(contentType!, body, { maxFiles: ctx.config.maxBatchFiles, maxFileBytes: ctx.config.maxUploadBytes, fields: ['files', 'file', 'files[]'] });
  if (files.length === 0) throw errors.missingFile('files');
  const results = [];
  let accepted = 0;
  for (const file of files) {
    try {
      const job = await acceptImage(ctx, file.data, file.filename, options, tenantOf(call));
      reply.jobIds.push(job.id);
      accepted++;
      ctx.metrics.uploads.inc({ outcome: 'accepted' });
      results.push(seed ? seedAcceptedView(job) : { filename: job.input.filename, ...acceptedView(job) });
    } catch (err) {
      countOutcome(ctx, err);
      const e = err as { code?: string; message: string; status?: number };
      // A full queue or a dead backend refuses the rest of the batch the same way.
      if (e.status === 429 || e.status === 503) throw err;
      results.push({ filename: file.filename ?? null, status: 'rejected', error: { code: e.code ?? 'INTERNAL', message: e.message } });
    }
  }
  if (accepted === 0) {
    const first = results[0] as { error?: { code: string; message: string } };
    reply.json(first.error?.code === 'UNSUPPORTED_MEDIA_TYPE' ? 415 : 400, { error: { code: 'BATCH_REJECTED', message: 'No file in the batch was accepted' }, jobs: results });
    return;
  }
  reply.json(202, seed ? { jobs: results, total: results.length, accepted, message: `${accepted} image(s) queued for processing` } : { jobs: results, accepted, rejected: results.length - accepted });
}
