import path from 'node:path';
import { errors } from '../../errors.js';
import { tenantOf, type Call } from '../access.js';
import { callbackFor } from '../callback.js';
import type { IngestContext } from '../context.js';
import { isMultipart, multipartFileToDisk } from '../multipart.js';
import { wantedBy } from './images.js';
import { acceptVideo, idempotencyKeyOf, type UploadedVideo } from '../submit.js';
import type { SpooledBody } from '../upload-file.js';
import { parseVideoJobOptions } from '../video-options.js';
import type { AcceptedView } from '../views.js';

/**
 * The video of an upload whose body is on disk: the body itself, or the `file` (or `video`) part of
 * a multipart body, written beside it. Both lie in the body's folder, which the server removes.
 */
async function videoOf(body: SpooledBody, contentType: string | undefined, headerName: string | undefined, maxBytes: number): Promise<UploadedVideo & { filename: string | undefined }> {
  if (!isMultipart(contentType)) return { file: body.file, size: body.size, filename: headerName };
  const file = path.join(body.dir, 'file');
  const part = await multipartFileToDisk(contentType!, body.file, file, { maxFileBytes: maxBytes, fields: ['file', 'video'], setting: 'MAX_VIDEO_BYTES' });
  if (!part) throw errors.missingFile('file');
  return { file, size: part.size, filename: part.filename };
}

/**
 * POST /v1/videos: a raw video body, or multipart with a `file` field. The same options, auth,
 * idempotency, admission and webhooks as an image; the video is probed before it is queued. The
 * body arrives in a temporary file (BodyRule.onDisk) and goes from there to storage.
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
    const body = await call.upload!;
    release = ctx.admission.admit(1);
    const { filename, ...upload } = await videoOf(body, info.headers['content-type'], info.headers['x-filename'], ctx.config.maxVideoBytes);
    const { job, replayed } = await acceptVideo(ctx, upload, filename, options, (file) => video.check(file), tenantOf(call.principal), idempotencyKey, callback, wantedBy(call, idempotencyKey));
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
