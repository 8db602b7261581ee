import type { IngestContext } from './context.js';
import { errors } from '../errors.js';
import { readRequest, Reply, respondWithErrors, type RequestInfo } from './http.js';
import { postBatch, postImage } from './routes/images.js';
import { getJob, getResult } from './routes/jobs.js';
import { getHealth, getMetrics, getQueue, getReady, getStats } from './routes/status.js';
import { closeListenSocket, createApp, listenPort, type HttpResponse, type TemplatedApp, type us_listen_socket } from './uws.js';
import { registerStream } from './websocket.js';

type Handler = (reply: Reply, info: RequestInfo, res: HttpResponse) => Promise<void> | void;

export interface HttpServer {
  port: number;
  close(): void;
}

type Route = (method: 'get' | 'post', patterns: string[], name: string, paramCount: number, handler: Handler) => void;

function registerIngestRoutes(ctx: IngestContext, app: TemplatedApp, route: Route): void {
  route('post', ['/v1/images'], 'images', 0, (reply, info, res) => postImage(ctx, res, reply, info, false));
  route('post', ['/upload'], 'upload', 0, (reply, info, res) => postImage(ctx, res, reply, info, true));
  route('post', ['/v1/images:batch'], 'images_batch', 0, (reply, info, res) => postBatch(ctx, res, reply, info, false));
  route('post', ['/batch-upload'], 'batch_upload', 0, (reply, info, res) => postBatch(ctx, res, reply, info, true));
  route('get', ['/v1/jobs/:id'], 'job', 1, (reply, info) => getJob(ctx, reply, info, false));
  route('get', ['/status/:id'], 'status', 1, (reply, info) => getJob(ctx, reply, info, true));
  route('get', ['/v1/jobs/:id/result'], 'job_result', 1, (reply, info) => getResult(ctx, reply, info));
  registerStream(app, ctx);
}

function buildApp(ctx: IngestContext): TemplatedApp {
  const app = createApp();
  const route: Route = (method, patterns, name, paramCount, handler) => {
    for (const pattern of patterns) {
      app[method](pattern, (res, req) => {
        const reply = new Reply(res, (status) => ctx.metrics.httpRequests.inc({ route: name, status: String(status) }));
        const info = readRequest(req, res, paramCount);
        respondWithErrors(reply, async () => handler(reply, info, res));
      });
    }
  };

  // v1 API; the seed service's paths (/upload, /status/:id, ...) stay as aliases for its clients.
  if (ctx.role !== 'worker') registerIngestRoutes(ctx, app, route);
  route('get', ['/v1/stats'], 'stats', 0, (reply) => getStats(ctx, reply, false));
  route('get', ['/stats'], 'stats_seed', 0, (reply) => getStats(ctx, reply, true));
  route('get', ['/v1/queue'], 'queue', 0, (reply) => getQueue(ctx, reply, false));
  route('get', ['/queue-status'], 'queue_seed', 0, (reply) => getQueue(ctx, reply, true));
  route('get', ['/v1/health', '/health'], 'health', 0, (reply) => getHealth(ctx, reply));
  route('get', ['/v1/ready'], 'ready', 0, (reply) => getReady(ctx, reply));
  route('get', ['/metrics'], 'metrics', 0, (reply) => getMetrics(ctx, reply));

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
        },
      });
    });
  });
}
