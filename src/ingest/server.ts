import { performance } from 'node:perf_hooks';
import { ANONYMOUS, type Principal } from '../auth/authenticator.js';
import { writeAudit } from '../auth/audit.js';
import type { IngestContext } from './context.js';
import { errors } from '../errors.js';
import { readBody, readRequest, Reply, respondWithErrors, type BodyTiming, type RequestInfo } from './http.js';
import { isMultipart } from './multipart.js';
import { postBatch, postImage } from './routes/images.js';
import { getJob, getResult } from './routes/jobs.js';
import { registerSite } from './routes/site.js';
import { getHealth, getMetrics, getQueue, getReady, getStats } from './routes/status.js';
import { UploadSlots } from './upload-slots.js';
import { closeListenSocket, createApp, listenPort, type HttpResponse, type TemplatedApp, type us_listen_socket } from './uws.js';
import { registerStream } from './websocket.js';

export interface Call {
  reply: Reply;
  info: RequestInfo;
  res: HttpResponse;
  principal: Principal;
  /** Started before authentication (uWS drops body bytes not claimed at once); present on upload routes. */
  body?: Promise<Buffer>;
}

type Handler = (call: Call) => Promise<void> | void;

/** open: health, readiness; metrics: open unless METRICS_TOKEN; tenant: needs credentials when AUTH=on. */
type Access = 'open' | 'metrics' | 'tenant';

interface RouteSpec {
  method: 'get' | 'post';
  patterns: string[];
  name: string;
  params: number;
  access: Access;
  /** Upload routes: the body limit for this request; counts against MAX_CONCURRENT_UPLOADS. */
  bodyLimit?: (info: RequestInfo) => number;
  handler: Handler;
}

export interface HttpServer {
  port: number;
  close(): void;
}

/** Tenant when authenticated, client address with AUTH=off. */
export function limitKey(principal: Principal, remoteAddress: string): string {
  return principal.method === 'none' ? `ip:${remoteAddress}` : `tenant:${principal.tenant}`;
}

function ingestRoutes(ctx: IngestContext): RouteSpec[] {
  const max = ctx.config.maxUploadBytes;
  const single = (info: RequestInfo) => (isMultipart(info.headers['content-type']) ? max + 64 * 1024 : max);
  const batch = () => max * ctx.config.maxBatchFiles;
  return [
    { method: 'post', patterns: ['/v1/images'], name: 'images', params: 0, access: 'tenant', bodyLimit: single, handler: (c) => postImage(ctx, c, false) },
    { method: 'post', patterns: ['/upload'], name: 'upload', params: 0, access: 'tenant', bodyLimit: single, handler: (c) => postImage(ctx, c, true) },
    { method: 'post', patterns: ['/v1/images:batch'], name: 'images_batch', params: 0, access: 'tenant', bodyLimit: batch, handler: (c) => postBatch(ctx, c, false) },
    { method: 'post', patterns: ['/batch-upload'], name: 'batch_upload', params: 0, access: 'tenant', bodyLimit: batch, handler: (c) => postBatch(ctx, c, true) },
    { method: 'get', patterns: ['/v1/jobs/:id'], name: 'job', params: 1, access: 'tenant', handler: (c) => getJob(ctx, c, false) },
    { method: 'get', patterns: ['/status/:id'], name: 'status', params: 1, access: 'tenant', handler: (c) => getJob(ctx, c, true) },
    { method: 'get', patterns: ['/v1/jobs/:id/result'], name: 'job_result', params: 1, access: 'tenant', handler: (c) => getResult(ctx, c) },
  ];
}

function commonRoutes(ctx: IngestContext): RouteSpec[] {
  return [
    { method: 'get', patterns: ['/v1/stats'], name: 'stats', params: 0, access: 'tenant', handler: (c) => getStats(ctx, c.reply, false) },
    { method: 'get', patterns: ['/stats'], name: 'stats_seed', params: 0, access: 'tenant', handler: (c) => getStats(ctx, c.reply, true) },
    { method: 'get', patterns: ['/v1/queue'], name: 'queue', params: 0, access: 'tenant', handler: (c) => getQueue(ctx, c.reply, false) },
    { method: 'get', patterns: ['/queue-status'], name: 'queue_seed', params: 0, access: 'tenant', handler: (c) => getQueue(ctx, c.reply, true) },
    { method: 'get', patterns: ['/v1/health', '/health'], name: 'health', params: 0, access: 'open', handler: (c) => getHealth(ctx, c.reply) },
    { method: 'get', patterns: ['/v1/ready'], name: 'ready', params: 0, access: 'open', handler: (c) => getReady(ctx, c.reply) },
    { method: 'get', patterns: ['/metrics'], name: 'metrics', params: 0, access: 'metrics', handler: (c) => getMetrics(ctx, c.reply) },
  ];
}

function buildApp(ctx: IngestContext): TemplatedApp {
  const app = createApp();
  const slots = new UploadSlots(ctx.config.maxConcurrentUploads, ctx.config.auth === 'on' ? 'tenant' : 'client address');
  const timing: BodyTiming = { timeoutMs: ctx.config.bodyTimeoutMs, minBytesPerSecond: ctx.config.bodyMinBytesPerSecond };

  const authorize = async (access: Access, info: RequestInfo): Promise<Principal> => {
    if (access === 'open') return ANONYMOUS;
    if (access === 'metrics') {
      ctx.auth.checkMetrics(info.headers);
      return ANONYMOUS;
    }
    const principal = await ctx.auth.authenticate({ headers: info.headers });
    // With AUTH=off there is no tenant to budget; the laptop mode stays unthrottled.
    if (principal.method !== 'none') {
      const decision = await ctx.rateLimiter.take(principal.tenant);
      if (!decision.allowed) throw errors.rateLimited(ctx.rateLimiter.perMinute, decision.retryAfterSeconds);
    }
    return principal;
  };

  const register = (spec: RouteSpec) => {
    for (const pattern of spec.patterns) {
      app[spec.method](pattern, (res, req) => {
        const started = performance.now();
        let info: RequestInfo | undefined;
        const reply = new Reply(res, (status) => {
          ctx.metrics.httpRequests.inc({ route: spec.name, status: String(status) });
          writeAudit(ctx.log, {
            principal: reply.principal,
            method: spec.method.toUpperCase(),
            route: pattern,
            jobIds: reply.jobIds,
            status,
            code: reply.errorCode,
            bytesIn: reply.body?.received ?? 0,
            durationMs: performance.now() - started,
            remote: info?.remoteAddress ?? '',
          });
        });
        info = readRequest(req, res, spec.params);
        const request = info;
        if (request.headerBytes > ctx.config.maxHeaderBytes) {
          reply.forceClose = true;
          reply.error(errors.headersTooLarge(request.headerBytes, ctx.config.maxHeaderBytes));
          return;
        }
        const body = spec.bodyLimit ? readBody(res, reply, request, spec.bodyLimit(request), timing) : undefined;
        body?.catch(() => {});
        respondWithErrors(reply, async () => {
          const principal = await authorize(spec.access, request);
          reply.principal = principal;
          const release = spec.bodyLimit ? slots.acquire(limitKey(principal, request.remoteAddress)) : undefined;
          try {
            await spec.handler({ reply, info: request, res, principal, body });
          } finally {
            release?.();
          }
        });
      });
    }
  };

  // v1 API; the seed service's paths (/upload, /status/:id, ...) stay as aliases for its clients.
  if (ctx.role !== 'worker') {
    for (const spec of ingestRoutes(ctx)) register(spec);
    registerStream(app, ctx, slots);
    registerSite(app, ctx);
  }
  for (const spec of commonRoutes(ctx)) register(spec);

  app.any('/*', (res, req) => {
    const reply = new Reply(res, (status) => ctx.metrics.httpRequests.inc({ route: 'unmatched', status: String(status) }));
    const info = readRequest(req, res);
    // Drain any body so the connection stays usable, then answer.
    res.onData(() => {});
    const known = ['/v1/images', '/upload', '/v1/images:batch', '/batch-upload', '/v1/stats', '/stats', '/v1/queue', '/queue-status', '/v1/health', '/health', '/v1/ready', '/metrics'];
    reply.error(known.includes(info.path) ? errors.methodNotAllowed(info.method, info.path) : errors.notFound(info.path));
  });
  return app;
}

export function startHttpServer(ctx: IngestContext): Promise<HttpServer> {
  const app = buildApp(ctx);
  return new Promise((resolve, reject) => {
    app.listen(ctx.config.host, ctx.config.port, (socket: us_listen_socket | false) => {
      if (!socket) {
        reject(new Error(`Could not listen on ${ctx.config.host}:${ctx.config.port} (in use, or not permitted)`));
        return;
      }
      resolve({
        port: listenPort(socket),
        close: () => {
          closeListenSocket(socket);
          app.close?.();
          void ctx.rateLimiter.close();
        },
      });
    });
  });
}
