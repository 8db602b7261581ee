import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { IngestContext } from './context.js';
import { errors, isPixveilError } from '../errors.js';
import { Access, limitKey } from './access.js';
import { allowedMethods, httpMethodOf, type BodyRule, type RouteSpec } from './route.js';
import { guardHttp } from './guard.js';
import { framingProblem, readBody, readBodyInto, readRequest, Reply, type BodyTiming, type RequestInfo } from './http.js';
import { isMultipart } from './multipart.js';
import { postBatch, postImage } from './routes/images.js';
import { postVideo } from './routes/videos.js';
import { deleteJob, getJob, getResult } from './routes/jobs.js';
import { docsRoutes } from './routes/docs.js';
import { buildOpenApiDocument } from './openapi.js';
import { ROUTE_DOCS, SITE_PATHS } from './route-docs.js';
import { registerSite } from './routes/site.js';
import { getHealth, getMetrics, getQueue, getReady, getStats } from './routes/status.js';
import { UploadBudget, type BodyAllowance } from './upload-budget.js';
import { UPLOAD_FILE_WINDOW_BYTES, UploadFile, type SpooledBody } from './upload-file.js';
import { UploadSlots } from './upload-slots.js';
import { closeListenSocket, createApp, listenPort, type HttpRequest, type HttpResponse, type TemplatedApp, type us_listen_socket } from './uws.js';
import { acceptedView, batchView, queueView, unversionedAcceptedView, unversionedBatchView, unversionedQueueView, unversionedStatsView, unversionedStatusView, statsView, jobView } from './views.js';
import { registerStream } from './websocket.js';

export interface HttpServer {
  port: number;
  close(): void;
}

function ingestRoutes(ctx: IngestContext): RouteSpec[] {
  const max = ctx.config.maxUploadBytes;
  const single: BodyRule = { limit: (info) => (isMultipart(info.headers['content-type']) ? max + 64 * 1024 : max), setting: 'MAX_UPLOAD_BYTES' };
  const batch: BodyRule = { limit: () => ctx.config.maxBatchBytes, setting: 'MAX_BATCH_BYTES' };
  const videoMax = ctx.config.maxVideoBytes;
  const video: BodyRule = { limit: (info) => (isMultipart(info.headers['content-type']) ? videoMax + 64 * 1024 : videoMax), setting: 'MAX_VIDEO_BYTES', onDisk: true };
  return [
    { method: 'post', patterns: ['/v1/images'], name: 'images', params: 0, access: 'tenant', body: single, handler: (c) => postImage(ctx, c, acceptedView) },
    { method: 'post', patterns: ['/upload'], name: 'upload', params: 0, access: 'tenant', body: single, handler: (c) => postImage(ctx, c, unversionedAcceptedView) },
    { method: 'post', patterns: ['/v1/images:batch'], name: 'images_batch', params: 0, access: 'tenant', body: batch, handler: (c) => postBatch(ctx, c, batchView) },
    { method: 'post', patterns: ['/batch-upload'], name: 'batch_upload', params: 0, access: 'tenant', body: batch, handler: (c) => postBatch(ctx, c, unversionedBatchView) },
    { method: 'post', patterns: ['/v1/videos'], name: 'videos', params: 0, access: 'tenant', body: video, handler: (c) => postVideo(ctx, c, acceptedView) },
    { method: 'get', patterns: ['/v1/jobs/:id'], name: 'job', params: 1, access: 'tenant', handler: (c) => getJob(ctx, c, jobView) },
    { method: 'get', patterns: ['/status/:id'], name: 'status', params: 1, access: 'tenant', handler: (c) => getJob(ctx, c, unversionedStatusView) },
    { method: 'del', patterns: ['/v1/jobs/:id'], name: 'job_delete', params: 1, access: 'tenant', handler: (c) => deleteJob(ctx, c) },
    { method: 'get', patterns: ['/v1/jobs/:id/result'], name: 'job_result', params: 1, access: 'tenant', handler: (c) => getResult(ctx, c) },
  ];
}

function commonRoutes(ctx: IngestContext): RouteSpec[] {
  return [
    { method: 'get', patterns: ['/v1/stats'], name: 'stats', params: 0, access: 'tenant', handler: (c) => getStats(ctx, c, statsView) },
    { method: 'get', patterns: ['/stats'], name: 'stats_unversioned', params: 0, access: 'tenant', handler: (c) => getStats(ctx, c, unversionedStatsView) },
    { method: 'get', patterns: ['/v1/queue'], name: 'queue', params: 0, access: 'tenant', handler: (c) => getQueue(ctx, c, queueView) },
    { method: 'get', patterns: ['/queue-status'], name: 'queue_unversioned', params: 0, access: 'tenant', handler: (c) => getQueue(ctx, c, unversionedQueueView) },
    { method: 'get', patterns: ['/v1/health', '/health'], name: 'health', params: 0, access: 'open', handler: (c) => getHealth(ctx, c.reply) },
    { method: 'get', patterns: ['/v1/ready'], name: 'ready', params: 0, access: 'open', handler: (c) => getReady(ctx, c.reply) },
    { method: 'get', patterns: ['/metrics'], name: 'metrics', params: 0, access: 'metrics', handler: (c) => getMetrics(ctx, c.reply) },
  ];
}

/**
 * Every HTTP route a node of this role answers through the route table (the demo page's / and
 * /web/* and the WebSocket upgrade are registered beside it). The 405 answer and the OpenAPI
 * document's coverage test both read this list.
 */
export function routeTable(ctx: IngestContext): RouteSpec[] {
  const routes: RouteSpec[] = [...(ctx.role !== 'worker' ? ingestRoutes(ctx) : []), ...commonRoutes(ctx)];
  routes.push(...docsRoutes(ctx, () => openApiDocument(routes, ctx.role !== 'worker')));
  return routes;
}

/** The OpenAPI document of exactly these routes (route-docs.ts says what each does). */
export function openApiDocument(routes: readonly RouteSpec[], site: boolean): object {
  const documented = routes.flatMap((spec) =>
    spec.patterns.map((pattern) => {
      const doc = ROUTE_DOCS[spec.name];
      if (!doc) throw new Error(`Route ${spec.name} (${pattern}) has no entry in ingest/route-docs.ts`);
      return { method: httpMethodOf(spec.method), pattern, name: spec.name, doc };
    }),
  );
  return buildOpenApiDocument(documented, site ? SITE_PATHS : {});
}

/** Checks every request must pass before its route runs: header size (URL included) and unambiguous framing. */
function refuseEarly(ctx: IngestContext, reply: Reply, info: RequestInfo): boolean {
  const problem = info.headerBytes > ctx.config.maxHeaderBytes ? errors.headersTooLarge(info.headerBytes, ctx.config.maxHeaderBytes) : undefined;
  const framing = framingProblem(info);
  const refusal = problem ?? (framing ? errors.badRequest(framing) : undefined);
  if (!refusal) return false;
  reply.forceClose = true;
  reply.error(refusal);
  return true;
}

function buildApp(ctx: IngestContext): TemplatedApp {
  const app = createApp();
  const slots = new UploadSlots(ctx.config.maxConcurrentUploads, ctx.config.auth === 'on' ? 'tenant' : 'client address');
  const budget = new UploadBudget(ctx.config.uploadBudgetBytes);
  const access = new Access(ctx.auth, ctx.rateLimiter, ctx.log, ctx.config);
  const timing: BodyTiming = { timeoutMs: ctx.config.bodyTimeoutMs, minBytesPerSecond: ctx.config.bodyMinBytesPerSecond };

  const handle = (spec: RouteSpec, pattern: string, res: HttpResponse, req: HttpRequest, head = false): Promise<void> | undefined => {
    const startedAt = performance.now();
    let info: RequestInfo | undefined;
    // A connection that closes while the route still runs (499) is audited when the route ends,
    // so the line names the job an upload created although its answer was lost.
    let running = false;
    let lateStatus: number | undefined;
    const audit = (status: number) => access.audit({ principal: reply.principal, method: head ? 'HEAD' : httpMethodOf(spec.method), route: pattern, jobIds: reply.jobIds, status, code: reply.errorCode, bytesIn: reply.body?.received ?? 0, startedAt, remote: info?.remoteAddress ?? '' });
    const reply = new Reply(res, (status) => {
      ctx.metrics.httpRequests.inc({ route: spec.name, status: String(status) });
      if (running && reply.aborted) lateStatus = status;
      else audit(status);
    });
    reply.headOnly = head;
    try {
      info = readRequest(req, res, spec.params);
    } catch (err) {
      if (!isPixveilError(err)) throw err;
      res.onData(() => {});
      reply.error(err);
      return undefined;
    }
    info.remoteAddress = access.clientAddress(info.remoteAddress, info.headers);
    const request = info;
    if (refuseEarly(ctx, reply, request)) return undefined;
    let allowance: BodyAllowance | undefined;
    let body: Promise<Buffer> | undefined;
    let file: UploadFile | undefined;
    let upload: Promise<SpooledBody> | undefined;
    if (spec.body) {
      const limit = spec.body.limit(request);
      const onDisk = spec.body.onDisk === true;
      // A body going to disk holds a fixed window of memory, whatever it declares.
      const declared = onDisk ? UPLOAD_FILE_WINDOW_BYTES : Number(request.headers['content-length']);
      try {
        // An overloaded cluster refuses before the body is read: reading images only to turn
        // them away would take CPU from the work that drains the backlog. The route checks again.
        try {
          ctx.admission.check(1);
        } catch (err) {
          ctx.metrics.uploads.inc({ outcome: (err as { code?: string }).code ?? 'INTERNAL' });
          throw err;
        }
        // Charged as bytes arrive; refused at once only when the declared size does not fit beside
        // the bytes already held (a chunked body declares nothing).
        allowance = budget.open(Number.isInteger(declared) && declared >= 0 ? Math.min(declared, limit) : 0);
        if (onDisk) file = new UploadFile(ctx.config.videoTempDir || os.tmpdir(), limit, allowance);
      } catch (err) {
        // The body is not read, so the connection cannot carry another request.
        allowance?.release();
        reply.forceClose = true;
        reply.error(err);
        return undefined;
      }
      if (file) {
        const sinkOf = file;
        upload = readBodyInto(res, reply, request, limit, timing, spec.body.setting, (_, flow) => sinkOf.sink(flow));
        upload.catch(() => {});
      } else {
        body = readBody(res, reply, request, limit, timing, spec.body.setting, allowance);
        body.catch(() => {});
      }
    }
    running = true;
    return (async () => {
      try {
        const principal = await access.admit(spec.access, request.headers, request.remoteAddress);
        reply.principal = principal;
        const release = spec.body ? slots.acquire(limitKey(principal, request.remoteAddress)) : undefined;
        try {
          await spec.handler({ reply, info: request, res, principal, body, upload });
        } finally {
          release?.();
        }
      } catch (err) {
        // Anything else is a bug: the guard logs it under a request id and answers 500.
        if (!isPixveilError(err)) throw err;
        reply.error(err);
      } finally {
        allowance?.release();
        await file?.remove().catch((err) => ctx.log.warn('could not remove an upload\'s temporary file', { path: file?.dir, error: (err as Error).message }));
        running = false;
        if (lateStatus !== undefined) audit(lateStatus);
      }
    })();
  };

  const register = (spec: RouteSpec) => {
    for (const pattern of spec.patterns) {
      app[spec.method](pattern, guardHttp(ctx.log, `${httpMethodOf(spec.method)} ${pattern}`, (res, req) => handle(spec, pattern, res, req)));
      // HEAD runs the GET route and sends its status and headers without the body.
      if (spec.method === 'get') app.head(pattern, guardHttp(ctx.log, `HEAD ${pattern}`, (res, req) => handle(spec, pattern, res, req, true)));
    }
  };

  // v1 API; the seed service's paths (/upload, /status/:id, ...) stay as aliases for its clients.
  const routes = routeTable(ctx);
  if (ctx.role !== 'worker') {
    registerStream(app, ctx, { slots, budget, access });
    registerSite(app, ctx);
  }
  for (const spec of routes) register(spec);

  const allowed = allowedMethods(routes);
  app.any(
    '/*',
    guardHttp(ctx.log, 'unmatched route', (res, req) => {
      const reply = new Reply(res, (status) => ctx.metrics.httpRequests.inc({ route: 'unmatched', status: String(status) }));
      const info = readRequest(req, res);
      if (refuseEarly(ctx, reply, info)) return;
      // Drain any body so the connection stays usable, then answer.
      res.onData(() => {});
      const methods = allowed(info.path);
      reply.error(methods.length > 0 ? errors.methodNotAllowed(info.method, info.path, methods) : errors.notFound(info.path));
    }),
  );
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
