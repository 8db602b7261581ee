import { performance } from 'node:perf_hooks';
import { writeAudit } from '../auth/audit.js';
import type { Principal } from '../auth/authenticator.js';
import { isPixveilError, errors, type PixveilError } from '../errors.js';
import type { Job, JobOptions } from '../job.js';
import type { IngestContext } from './context.js';
import { httpStatusOf } from './http-status.js';
import { Reply, readRequest } from './http.js';
import { parseJobOptions } from './options.js';
import { acceptImage } from './submit.js';
import { readOfferedProtocols } from './ws-protocol.js';
import { limitKey } from './server.js';
import type { UploadSlots } from './upload-slots.js';
import type { TemplatedApp, WebSocket } from './uws.js';
import { jobView } from './views.js';

interface StreamUser {
  principal: Principal;
  remoteAddress: string;
  options: JobOptions;
  returnImage: boolean;
  /** Jobs of this connection not finished yet. */
  pending: Set<string>;
  /** Messages being stored and enqueued, not yet acked. */
  accepting: number;
  /** Frames held back while the socket's send buffer is over the high-water mark. */
  backlog: Array<{ data: string | Buffer; binary: boolean }>;
  closed: boolean;
}

const HIGH_WATER_BYTES = 4 * 1024 * 1024;

function send(ws: WebSocket<StreamUser>, data: string | Buffer, binary: boolean): void {
  const user = ws.getUserData();
  if (user.closed) return;
  if (user.backlog.length > 0 || ws.getBufferedAmount() > HIGH_WATER_BYTES) {
    user.backlog.push({ data, binary });
    return;
  }
  ws.send(data, binary);
}

function flush(ws: WebSocket<StreamUser>): void {
  const user = ws.getUserData();
  while (user.backlog.length > 0 && ws.getBufferedAmount() <= HIGH_WATER_BYTES) {
    const frame = user.backlog.shift()!;
    ws.send(frame.data, frame.binary);
  }
}

/**
 * WS /v1/stream: each binary message is one image. The server answers `{type:"ack",job_id}` at once
 * and `{type:"result",...}` when the job finishes (followed by the image as a binary message when
 * the connection was opened with ?return_image=true).
 */
export function registerStream(app: TemplatedApp, ctx: IngestContext, slots: UploadSlots): void {
  const sockets = new Map<string, WebSocket<StreamUser>>();

  ctx.queue.onFinished((job: Job) => {
    const ws = sockets.get(job.id);
    if (!ws) return;
    sockets.delete(job.id);
    const user = ws.getUserData();
    user.pending.delete(job.id);
    void deliver(ws, job);
  });

  async function deliver(ws: WebSocket<StreamUser>, job: Job): Promise<void> {
    const user = ws.getUserData();
    let image: Buffer | undefined;
    if (user.returnImage && job.status === 'completed' && job.result) {
      image = await ctx.store.get(job.result.processedKey).catch(() => undefined);
    }
    if (user.closed) return;
    ws.cork(() => {
      send(ws, JSON.stringify({ type: 'result', ...jobView(job), image_bytes: image?.length ?? 0 }), false);
      if (image) send(ws, image, true);
    });
  }

  const sendError = (ws: WebSocket<StreamUser>, e: PixveilError) => {
    const retry = e.headers['Retry-After'];
    send(ws, JSON.stringify({ type: 'error', status: httpStatusOf(e), ...e.toJSON(), ...(retry ? { retry_after_seconds: Number(retry) } : {}) }), false);
  };

  async function accept(ws: WebSocket<StreamUser>, bytes: Buffer): Promise<void> {
    const user = ws.getUserData();
    const started = performance.now();
    let jobId: string | undefined;
    let failure: PixveilError | undefined;
    try {
      if (user.principal.method !== 'none') {
        const decision = await ctx.rateLimiter.take(user.principal.tenant);
        if (!decision.allowed) throw errors.rateLimited(ctx.rateLimiter.perMinute, decision.retryAfterSeconds);
      }
      const release = slots.acquire(limitKey(user.principal, user.remoteAddress));
      let job: Job;
      try {
        job = await acceptImage(ctx, bytes, undefined, user.options, user.principal.method === 'none' ? undefined : user.principal.tenant);
      } finally {
        release();
      }
      jobId = job.id;
      ctx.metrics.uploads.inc({ outcome: 'accepted' });
      if (user.closed) return;
      user.pending.add(job.id);
      sockets.set(job.id, ws);
      ws.cork(() => send(ws, JSON.stringify({ type: 'ack', job_id: job.id, status: job.status }), false));
    } catch (err) {
      failure = isPixveilError(err) ? err : errors.internal((err as Error).message);
      ctx.metrics.uploads.inc({ outcome: failure.code });
      const e = failure;
      if (!user.closed) ws.cork(() => sendError(ws, e));
    } finally {
      writeAudit(ctx.log, {
        principal: user.principal,
        method: 'WS',
        route: '/v1/stream',
        jobIds: jobId ? [jobId] : [],
        status: failure ? httpStatusOf(failure) : 202,
        code: failure?.code,
        bytesIn: bytes.length,
        durationMs: performance.now() - started,
        remote: user.remoteAddress,
      });
    }
  }

  app.ws<StreamUser>('/v1/stream', {
    maxPayloadLength: ctx.config.maxUploadBytes,
    idleTimeout: ctx.config.wsIdleTimeoutSeconds,
    maxBackpressure: 64 * 1024 * 1024,
    upgrade: (res, req, context) => {
      // Everything from req is read now: it is gone after the first await.
      const started = performance.now();
      const info = readRequest(req, res);
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const reply = new Reply(res, (status) => {
        if (status === 101) return;
        writeAudit(ctx.log, { principal: reply.principal, method: 'GET', route: '/v1/stream', jobIds: [], status, code: reply.errorCode, bytesIn: 0, durationMs: performance.now() - started, remote: info.remoteAddress });
      });
      const params = new URLSearchParams(info.query);
      const queryToken = params.get('access_token') ?? undefined;
      params.delete('access_token');
      const returnImage = ['1', 'true', 'yes'].includes((params.get('return_image') ?? '').toLowerCase());
      params.delete('return_image');
      (async () => {
        const offered = readOfferedProtocols(protocol);
        const principal = await ctx.auth.authenticate({ headers: info.headers, queryToken: offered.token ?? queryToken });
        reply.principal = principal;
        const options = parseJobOptions(params, ctx.options);
        if (reply.aborted) return;
        const user: StreamUser = { principal, remoteAddress: info.remoteAddress, options, returnImage, pending: new Set(), accepting: 0, backlog: [], closed: false };
        res.cork(() => res.upgrade<StreamUser>(user, key, offered.selected, extensions, context));
        reply.done = true;
        writeAudit(ctx.log, { principal, method: 'GET', route: '/v1/stream', jobIds: [], status: 101, bytesIn: 0, durationMs: performance.now() - started, remote: info.remoteAddress });
      })().catch((err) => reply.error(err));
    },
    message: (ws, message, isBinary) => {
      const user = ws.getUserData();
      if (!isBinary) {
        sendError(ws, errors.unsupportedMediaType('text message; send each image as one binary message'));
        return;
      }
      if (user.pending.size + user.accepting >= ctx.config.wsMaxInFlight) {
        sendError(ws, errors.tooManyInFlight(ctx.config.wsMaxInFlight));
        return;
      }
      // The message memory is reused by uWS after this callback returns.
      const bytes = Buffer.from(new Uint8Array(message).slice());
      user.accepting++;
      void accept(ws, bytes).finally(() => user.accepting--);
    },
    drain: (ws) => flush(ws),
    close: (ws) => {
      const user = ws.getUserData();
      user.closed = true;
      // Jobs keep running; their results stay available over GET /v1/jobs/:id.
      for (const id of user.pending) sockets.delete(id);
    },
  });
}
