import type { Principal } from '../../auth/authenticator.js';
import type { Call } from '../access.js';
import type { IngestContext } from '../context.js';
import type { Reply } from '../http.js';
import type { QueueBody, StatsBody } from '../views.js';

/** Queue gauges are refreshed here and before each /metrics scrape, from cluster-wide queue stats. */
export async function queueSnapshot(ctx: IngestContext) {
  const stats = await ctx.queue.stats();
  ctx.metrics.queueJobs.set({ state: 'waiting' }, stats.waiting);
  ctx.metrics.queueJobs.set({ state: 'processing' }, stats.processing);
  ctx.metrics.queueJobs.set({ state: 'dead_letter' }, stats.deadLetter);
  ctx.metrics.queueConsumers.set(stats.consumers);
  if (ctx.pool) ctx.metrics.poolUtilization.set(ctx.pool.utilization);
  return {
    backend: ctx.queue.kind,
    depth: stats.waiting + stats.processing,
    waiting: stats.waiting,
    processing: stats.processing,
    completed: stats.completed,
    failed: stats.failed,
    dead_letter: stats.deadLetter,
    consumers: stats.consumers,
    max_queue_size: ctx.config.maxQueueSize,
    admission: ctx.admission.view(),
  };
}

function admits(ctx: IngestContext): boolean {
  try {
    ctx.admission.check(1);
    return true;
  } catch {
    return false;
  }
}

function poolView(ctx: IngestContext) {
  return ctx.pool ? { threads: ctx.pool.threads, capacity: ctx.pool.capacity, in_flight: ctx.pool.inFlight, utilization: Math.round(ctx.pool.utilization * 1000) / 1000 } : null;
}

/**
 * What a tenant without the admin scope may see: its own finished jobs (counted by this node
 * from every finish event since it started) and whether the queue takes uploads, never other
 * tenants' volumes.
 */
async function tenantQueue(ctx: IngestContext, principal: Principal) {
  const stats = await ctx.queue.stats();
  const own = ctx.tenantThroughput.of(principal.tenant);
  return {
    backend: ctx.queue.kind,
    tenant: principal.tenant,
    completed: own.total - own.failed,
    failed: own.failed,
    max_queue_size: ctx.config.maxQueueSize,
    accepting: stats.waiting + stats.processing < ctx.config.maxQueueSize && admits(ctx),
  };
}

export async function getStats(ctx: IngestContext, call: Call, view: (body: StatsBody) => object): Promise<void> {
  const { principal } = call;
  const uptime_seconds = Math.round((Date.now() - ctx.startedAt) / 1000);
  if (!principal.admin) {
    const own = ctx.tenantThroughput.of(principal.tenant);
    const body = { tenant: principal.tenant, uptime_seconds, jobs_finished: own.total, jobs_failed: own.failed, ...own.snapshot(), queue: await tenantQueue(ctx, principal), pool: null };
    call.reply.json(200, view(body));
    return;
  }
  const queue = await queueSnapshot(ctx);
  const body = { uptime_seconds, jobs_finished: ctx.throughput.total, jobs_failed: ctx.throughput.failed, ...ctx.throughput.snapshot(), queue, pool: poolView(ctx) };
  call.reply.json(200, view(body));
}

export async function getQueue(ctx: IngestContext, call: Call, view: (body: QueueBody) => object): Promise<void> {
  const body = call.principal.admin ? { ...(await queueSnapshot(ctx)), pool: poolView(ctx) } : await tenantQueue(ctx, call.principal);
  call.reply.json(200, view(body));
}

export function getHealth(ctx: IngestContext, reply: Reply): void {
  reply.json(200, {
    status: 'ok',
    role: ctx.role,
    uptime_seconds: Math.round((Date.now() - ctx.startedAt) / 1000),
    queue: ctx.queue.kind,
    // Open to anyone: with AUTH=on the store's kind only, never its path, bucket or endpoint.
    storage: ctx.auth.required ? ctx.store.description.split(':')[0] : ctx.store.description,
    pixel_ops: ctx.pixelOps,
    models: ctx.modelProviders,
    ...(ctx.plateModel ? { plate_model: { model: ctx.plateModel.model, precision: ctx.plateModel.precision, setting: ctx.plateModel.setting, cpu: ctx.plateModel.cpu, reason: ctx.plateModel.reason } } : {}),
    ...(ctx.jpegBlocks ? { jpeg_blocks: ctx.jpegBlocks } : {}),
    // The reason names binary paths: like the store's, shown only where the route is not open to anyone.
    ...(ctx.video ? { video: { available: !ctx.video.problem, ...(ctx.video.problem && !ctx.auth.required ? { detail: ctx.video.problem } : {}) } } : {}),
    timestamp: new Date().toISOString(),
  });
}

/** 200 only when the queue backend and the store answer and (on serve nodes) the models are loaded. */
export async function getReady(ctx: IngestContext, reply: Reply): Promise<void> {
  const checks: Record<string, string> = {};
  const probe = async (name: string, check: () => Promise<unknown>) => {
    try {
      await Promise.race([check(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 2s')), 2000).unref())]);
      checks[name] = 'ok';
    } catch (err) {
      checks[name] = (err as Error).message;
    }
  };
  await Promise.all([probe('queue', () => ctx.queue.check()), probe('storage', () => ctx.store.check())]);
  Object.assign(checks, await ctx.extraReadiness());
  const ready = Object.values(checks).every((v) => v === 'ok');
  reply.json(ready ? 200 : 503, { ready, checks });
}

export async function getMetrics(ctx: IngestContext, reply: Reply): Promise<void> {
  await queueSnapshot(ctx).catch(() => {});
  reply.send(200, await ctx.metrics.registry.metrics(), ctx.metrics.registry.contentType);
}
