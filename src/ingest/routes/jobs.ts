import { errors } from '../../errors.js';
import { invalidOption } from '../../errors.js';
import type { IngestContext } from '../context.js';
import type { Reply, RequestInfo } from '../http.js';
import { jobView, seedStatusView } from '../views.js';

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

async function findJob(ctx: IngestContext, id: string, wait: number) {
  const job = wait > 0 ? await ctx.queue.waitForFinish(id, wait) : await ctx.queue.get(id);
  if (!job) throw errors.jobNotFound(id);
  return job;
}

/** GET /v1/jobs/:id[?wait=10s] — long-polls until the job finishes when asked to. */
export async function getJob(ctx: IngestContext, reply: Reply, info: RequestInfo, seed: boolean): Promise<void> {
  const job = await findJob(ctx, info.params[0], waitMs(info));
  reply.json(200, seed ? seedStatusView(job) : jobView(job));
}

/** GET /v1/jobs/:id/result — the anonymized image, streamed or as a presigned redirect. */
export async function getResult(ctx: IngestContext, reply: Reply, info: RequestInfo): Promise<void> {
  const job = await findJob(ctx, info.params[0], waitMs(info));
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
