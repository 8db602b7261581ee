import { performance } from 'node:perf_hooks';
import type { Principal } from '../auth/authenticator.js';
import { isPixveilError, errors, type PixveilError } from '../errors.js';
import type { Job, JobCallback, JobOptions } from '../job.js';
import { limitKey, tenantOf, type Access } from './access.js';
import type { IngestContext } from './context.js';
import { guarded, guardHttp, unexpectedError } from './guard.js';
import { httpStatusOf } from './http-status.js';
import { framingProblem, Reply, readRequest } from './http.js';
import { callbackFor } from './callback.js';
import { parseJobOptions } from './options.js';
import { acceptImage } from './submit.js';
import type { UploadBudget } from './upload-budget.js';
import { readOfferedProtocols } from './ws-protocol.js';
import type { UploadSlots } from './upload-slots.js';
import type { TemplatedApp, WebSocket } from './uws.js';
import { jobView } from './views.js';

interface StreamUser {
  principal: Principal;
  remoteAddress: string;
  options: JobOptions;
  callback?: JobCallback;
  returnImage: boolean;
  /** Jobs of this connection not finished yet. */
  pending: Set<string>;
  /** Messages being stored and enqueued, not yet acked. */
  accepting: number;
  /** Frames held back while the socket's send buffer is over the high-water mark. */
  backlog: Array<{ data: string | Buffer; binary: boolean }>;
  /** Bytes in `backlog`. */
  backlogBytes: number;
  closed: boolean;
}

/** What the stream shares with the HTTP routes: upload slots, the node's upload budget, access. */
export interface StreamLimits {
  slots: UploadSlots;
  budget: UploadBudget;
  access: Access;
}

/** Past this much in uWS's own send buffer, frames wait in the connection's backlog instead. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** Bytes (a few JSON frames) that may wait before a frame larger than WS_MAX_BACKLOG_BYTES is still sent. */
const ALONE_BYTES = 64 * 1024;
/** WebSocket close code 1013: "try again later". */
const TRY_AGAIN_LATER = 1013;

type Socket = WebSocket<StreamUser>;

/** Everything waiting to go out on this connection: uWS's buffer plus our backlog. */
function queuedBytes(ws: Socket): number {
  return ws.getBufferedAmount() + ws.getUserData().backlogBytes;
}

function flush(ws: Socket, cap: number): void {
  const user = ws.getUserData();
  const highWater = Math.min(HIGH_WATER_BYTES, cap);
  while (user.backlog.length > 0 && ws.getBufferedAmount() <= highWater) {
    const frame = user.backlog.shift()!;
    user.backlogBytes -= frame.data.length;
    ws.send(frame.data, frame.binary);
  }
}

/**
 * WS /v1/stream: each binary message is one image. The server answers `{type:"ack",job_id}` at once
 * and `{type:"result",...}` when the job finishes (followed by the image as a binary message when
 * the connection was opened with ?return_image=true). A connection holds at most
 * WS_MAX_BACKLOG_BYTES waiting to be sent (or one larger result): past half of it new images
 * are refused, past all of it the connection is closed with 1013.
 */
export function registerStream(app: TemplatedApp, ctx: IngestContext, limits: StreamLimits): void {
  const { slots, budget, access } = limits;
  const cap = ctx.config.wsMaxBacklogBytes;
  const sockets = new Map<string, Socket>();

  const send = (ws: Socket, data: string | Buffer, binary: boolean): void => {
    const user = ws.getUserData();
    if (user.closed) return;
    // A frame larger than the cap goes out when (almost) nothing waits before it: one result of
    // any size the API accepts (a PNG can be far larger than the cap) reaches a client that
    // reads as it comes. Otherwise the close frame stays behind at most the cap.
    const waiting = queuedBytes(ws);
    if (waiting + data.length > cap && waiting > ALONE_BYTES) {
      // A reader this far behind would make the server hold its results without bound. What is
      // still queued is dropped (the jobs stay readable over GET /v1/jobs/:id) so the close frame
      // follows right behind what uWS already buffered.
      user.closed = true;
      user.backlog = [];
      user.backlogBytes = 0;
      ws.end(TRY_AGAIN_LATER, `more than ${cap} bytes waiting to be sent (WS_MAX_BACKLOG_BYTES): read results as they come`);
      return;
    }
    if (user.backlog.length > 0 || ws.getBufferedAmount() > Math.min(HIGH_WATER_BYTES, cap)) {
      user.backlog.push({ data, binary });
      user.backlogBytes += data.length;
      return;
    }
    ws.send(data, binary);
  };

  ctx.queue.onFinished((job: Job) => {
    const ws = sockets.get(job.id);
    if (!ws) return;
    sockets.delete(job.id);
    const user = ws.getUserData();
    user.pending.delete(job.id);
    deliver(ws, job).catch((err) => unexpectedError(ctx.log, 'WS result delivery', err));
  });

  async function deliver(ws: Socket, job: Job): Promise<void> {
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

  const sendError = (ws: Socket, e: PixveilError) => {
    const retry = e.headers['Retry-After'];
    send(ws, JSON.stringify({ type: 'error', status: httpStatusOf(e), ...e.toJSON(), ...(retry ? { retry_after_seconds: Number(retry) } : {}) }), false);
  };

  async function accept(ws: Socket, bytes: Buffer, releaseBudget: () => void): Promise<void> {
    const user = ws.getUserData();
    const startedAt = performance.now();
    let jobId: string | undefined;
    let failure: PixveilError | undefined;
    try {
      await access.spend(user.principal);
      const admitted = ctx.admission.admit(1);
      let job: Job;
      try {
        const release = slots.acquire(limitKey(user.principal, user.remoteAddress));
        try {
          ({ job } = await acceptImage(ctx, bytes, undefined, user.options, tenantOf(user.principal), undefined, user.callback));
        } finally {
          release();
        }
      } finally {
        admitted();
      }
      jobId = job.id;
      ctx.metrics.uploads.inc({ outcome: 'accepted' });
      if (user.closed) return;
      user.pending.add(job.id);
      sockets.set(job.id, ws);
      ws.cork(() => send(ws, JSON.stringify({ type: 'ack', job_id: job.id, status: job.status }), false));
    } catch (err) {
      failure = isPixveilError(err) ? err : unexpectedError(ctx.log, 'WS message', err);
      ctx.metrics.uploads.inc({ outcome: failure.code });
      const e = failure;
      if (!user.closed) ws.cork(() => sendError(ws, e));
    } finally {
      releaseBudget();
      access.audit({ principal: user.principal, method: 'WS', route: '/v1/stream', jobIds: jobId ? [jobId] : [], status: failure ? httpStatusOf(failure) : 202, code: failure?.code, bytesIn: bytes.length, startedAt, remote: user.remoteAddress });
    }
  }

  const onMessage = (ws: Socket, message: ArrayBuffer, isBinary: boolean) => {
    const user = ws.getUserData();
    if (!isBinary) {
      sendError(ws, errors.unsupportedMediaType('text message; send each image as one binary message'));
      return;
    }
    if (user.pending.size + user.accepting >= ctx.config.wsMaxInFlight) {
      sendError(ws, errors.tooManyInFlight(ctx.config.wsMaxInFlight));
      return;
    }
    if (queuedBytes(ws) > cap / 2) {
      sendError(ws, errors.slowReader(queuedBytes(ws), cap));
      return;
    }
    let releaseBudget: () => void;
    try {
      releaseBudget = budget.reserve(message.byteLength);
    } catch (err) {
      sendError(ws, err as PixveilError);
      return;
    }
    // The message memory is reused by uWS after this callback returns.
    const bytes = Buffer.from(new Uint8Array(message).slice());
    user.accepting++;
    void accept(ws, bytes, releaseBudget).finally(() => user.accepting--);
  };

  /** A bug in a socket callback is logged and answered with an error frame; the process lives on. */
  const guardSocket = <A extends unknown[]>(where: string, fn: (ws: Socket, ...rest: A) => void) =>
    guarded(fn, (err, ws: Socket, ..._rest: unknown[]) => {
      const e = unexpectedError(ctx.log, where, err);
      if (!ws.getUserData().closed) sendError(ws, e);
    });

  app.ws<StreamUser>('/v1/stream', {
    maxPayloadLength: ctx.config.maxUploadBytes,
    idleTimeout: ctx.config.wsIdleTimeoutSeconds,
    // No uWS limit (0): send() and flush() bound what uWS holds (the cap, or one larger result),
    // and a uWS limit would drop the frames behind a large result, the close frame included.
    maxBackpressure: 0,
    upgrade: guardHttp(ctx.log, 'WS upgrade', (res, req, context) => {
      // Everything from req is read now: it is gone after the first await.
      const startedAt = performance.now();
      let remote = '';
      const reply = new Reply(res, (status) => {
        if (status === 101) return;
        access.audit({ principal: reply.principal, method: 'GET', route: '/v1/stream', jobIds: [], status, code: reply.errorCode, bytesIn: 0, startedAt, remote });
      });
      const info = readRequest(req, res);
      info.remoteAddress = access.clientAddress(info.remoteAddress, info.headers);
      remote = info.remoteAddress;
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const framing = framingProblem(info);
      if (info.headerBytes > ctx.config.maxHeaderBytes || framing) {
        reply.forceClose = true;
        throw framing ? errors.badRequest(framing) : errors.headersTooLarge(info.headerBytes, ctx.config.maxHeaderBytes);
      }
      const params = new URLSearchParams(info.query);
      const queryToken = params.get('access_token') ?? undefined;
      params.delete('access_token');
      const returnImage = ['1', 'true', 'yes'].includes((params.get('return_image') ?? '').toLowerCase());
      params.delete('return_image');
      return (async () => {
        const offered = readOfferedProtocols(protocol);
        const principal = await access.admit('tenant', info.headers, info.remoteAddress, { queryToken: offered.token ?? queryToken, spend: false });
        reply.principal = principal;
        const options = parseJobOptions(params, ctx.options);
        const callback = await callbackFor(ctx, params, tenantOf(principal));
        if (reply.aborted) return;
        const user: StreamUser = { principal, remoteAddress: info.remoteAddress, options, callback, returnImage, pending: new Set(), accepting: 0, backlog: [], backlogBytes: 0, closed: false };
        res.cork(() => res.upgrade<StreamUser>(user, key, offered.selected, extensions, context));
        reply.done = true;
        access.audit({ principal, method: 'GET', route: '/v1/stream', jobIds: [], status: 101, bytesIn: 0, startedAt, remote: info.remoteAddress });
      })();
    }),
    message: guardSocket('WS message', onMessage),
    drain: guardSocket('WS drain', (ws: Socket) => flush(ws, cap)),
    close: guarded(
      (ws: Socket) => {
        const user = ws.getUserData();
        user.closed = true;
        user.backlog = [];
        user.backlogBytes = 0;
        // Jobs keep running; their results stay available over GET /v1/jobs/:id.
        for (const id of user.pending) sockets.delete(id);
      },
      (err) => unexpectedError(ctx.log, 'WS close', err),
    ),
  });
}
