import { errors } from '../../errors.js';
import { tenantOf, type Call } from '../access.js';
import { callbackFor } from '../callback.js';
import type { IngestContext } from '../context.js';
import { singleUpload } from '../multipart.js';
import { wantedBy } from './images.js';
import { acceptVideo, idempotencyKeyOf } from '../submit.js';
import { parseVideoJobOptions } from '../video-options.js';
import type { AcceptedView } from '../views.js';

/**
 * POST /v1/videos: a raw video body, or multipart with a `file` field. The same options, auth,
 * idempotency, admission and webhooks as an image; the video is probed before it is queued.
 */
export async function postVideo(ctx: IngestContext, call: Call, view: AcceptedView): Promise<void> {
  const { reply, info } = call;
  let release: (() => void) | undefined;
  try {
    // Said before anything else: without ffmpeg no option or body could make the request work.
    if (!ctx.video || ctx.video.problem) throw errors.videoUnavailable(ctx.video?.problem ?? 'this node takes no uploads');
    const video = ctx.video;
    const options = parseVideoJobOptions(info.query, ctx.options);
    const idempotencyKey = idempotencyKeyOf(info.headers);
    const callback = await callbackFor(ctx, info.query, tenantOf(call.principal));
    const contentType = info.headers['content-type'];
    const body = await call.body!;
    release = ctx.admission.admit(1);
    const { bytes, filename } = await singleUpload(contentType, body, info.headers['x-filename'], { maxFileBytes: ctx.config.maxVideoBytes, fields: ['file', 'video'] });
    const { job, replayed } = await acceptVideo(ctx, bytes, filename, options, (b, f) => video.check(b, f), tenantOf(call.principal), idempotencyKey, callback, wantedBy(call, idempotencyKey));
    reply.jobIds.push(job.id);
    ctx.metrics.uploads.inc({ outcome: replayed ? 'replayed' : 'accepted' });
    reply.json(202, view(job), { Location: `/v1/jobs/${job.id}`, ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}) });
  } catch (err) {
    ctx.metrics.uploads.inc({ outcome: (err as { code?: string }).code ?? 'INTERNAL' });
    throw err;
  } finally {
    release?.();
  }
}
