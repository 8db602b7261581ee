import { errors } from '../../errors.js';
import { invalidOption } from '../../errors.js';
import { isJobId } from '../../job.js';
import { IMAGE_EXTS } from '../../image-format.js';
import { VIDEO_EXTS } from '../../video-format.js';
import { storageKeys } from '../../storage/keys.js';
import { deleteJobObjects } from '../../storage/expiry.js';
import { eraseSegmentJobs } from '../../video/segments/segment-jobs.js';
import { tenantOf, type Call } from '../access.js';
import type { IngestContext } from '../context.js';
import type { RequestInfo } from '../http.js';
import type { Job } from '../../job.js';

const MAX_WAIT_MS = 60_000;

function waitMs(info: RequestInfo): number {
  const raw = info.query.get('wait');
  if (raw === null) return 0;
  // Accept "10", "10s" and "2500ms".
  const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(raw.trim());
  if (!match) throw invalidOption('wait', 'a duration like 10, 10s or 2500ms (at most 60s)', raw);
  const ms = match[2] === 'ms' ? Number(match[1]) : Number(match[1]) * 1000;
  if (ms > MAX_WAIT_MS) throw invalidOption('wait', 'a duration of at most 60s', raw);
  return ms;
}

/**
 * Another tenant's job answers exactly like a missing one (404, checked before any wait), so
 * neither the status code nor the response time says that an id exists.
 */
async function findJob(ctx: IngestContext, call: Call, wait: number) {
  const id = call.info.params[0];
  if (!isJobId(id)) throw errors.jobNotFound(id.slice(0, 64));
  const owner = tenantOf(call.principal);
  const visible = (job: { tenant?: string } | undefined) => job && (!ctx.auth.required || job.tenant === owner);
  let job = await ctx.queue.get(id);
  if (!visible(job)) throw errors.jobNotFound(id);
  call.reply.jobIds.push(id);
  if (wait > 0 && job!.status !== 'completed' && job!.status !== 'failed') job = await ctx.queue.waitForFinish(id, wait);
  if (!visible(job)) throw errors.jobNotFound(id);
  return job!;
}

/** GET /v1/jobs/:id[?wait=10s] — long-polls until the job finishes when asked to. */
export async function getJob(ctx: IngestContext, call: Call, view: (job: Job) => object): Promise<void> {
  const job = await findJob(ctx, call, waitMs(call.info));
  call.reply.json(200, view(job));
}

/** GET /v1/jobs/:id/result — the anonymized image or video, streamed or as a presigned redirect. */
export async function getResult(ctx: IngestContext, call: Call): Promise<void> {
  const { reply } = call;
  const job = await findJob(ctx, call, waitMs(call.info));
  if (job.status !== 'completed' || !job.result) throw errors.resultNotReady(job.id, job.status);
  const key = job.result.processedKey;
  if (ctx.config.resultDelivery === 'presign' && ctx.store.presignedUrl) {
    const url = await ctx.store.presignedUrl(key, ctx.config.presignExpirySeconds);
    if (url) {
      reply.redirect(url);
      return;
    }
  }
  const { stream, contentType } = await ctx.store.getStream(key);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  reply.send(200, Buffer.concat(chunks), contentType, {
    'Content-Disposition': `inline; filename="${job.id}.${job.result.format}"`,
    'Cache-Control': 'private, max-age=3600',
  });
}

/**
 * DELETE /v1/jobs/:id — erases the original, the result, the metadata record and the job itself.
 * A queued or processing job is cancelled by the erasure: it is never claimed again, and a worker
 * still running it deletes its outputs instead of completing it (pool/job-runner.ts). Storage goes
 * first so a storage failure (503) leaves the job there to delete again; after the record, the
 * outputs are deleted once more in case a worker stored them in between.
 */
export async function deleteJob(ctx: IngestContext, call: Call): Promise<void> {
  const id = call.info.params[0];
  if (isJobId(id) && (await ctx.queue.get(id)) === undefined) {
    // No record (it expired, or an embedded node restarted), but objects may wait for the storage
    // sweep: erasing still works while any is left. Nobody can read them any more, so the id alone suffices.
    if ((await deleteJobObjects(ctx.store, id)) === 0) throw errors.jobNotFound(id);
    call.reply.jobIds.push(id);
    call.reply.empty(204);
    return;
  }
  const job = await findJob(ctx, call, 0);
  // Outputs are attempt-scoped (storage/keys.ts): every attempt that may have stored some.
  const attempts = Array.from({ length: Math.max(job.attempts, ctx.config.maxAttempts, 1) }, (_, i) => i + 1);
  const outputs = attempts.flatMap((n) => [storageKeys.metadata(job.id, n), ...[...IMAGE_EXTS, ...VIDEO_EXTS].map((ext) => storageKeys.processed(job.id, ext, n))]);
  const keys = [job.input.key, ...outputs];
  if (job.result) keys.push(job.result.processedKey, job.result.metadataKey);
  await Promise.all([...new Set(keys)].map((key) => ctx.store.delete(key)));
  if (!(await ctx.queue.erase(job.id))) throw errors.jobNotFound(job.id);
  await Promise.all(outputs.map((key) => ctx.store.delete(key)));
  // A long video's segment jobs go with it (the worker running it erases them too once it sees the erasure).
  if (job.kind === 'video' && !job.segment) await eraseSegmentJobs(ctx.queue, ctx.store, job.id);
  // The upload's Idempotency-Key would otherwise name a job that no longer exists (409 until it lapsed):
  // once erased, the key is free and a new upload with it makes a new job.
  if (job.idempotencyKey) await ctx.queue.releaseIdempotencyKey(job.idempotencyKey, job.id);
  call.reply.empty(204);
}
