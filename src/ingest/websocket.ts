import { isPixveilError, errors } from '../errors.js';
import type { Job, JobOptions } from '../queue/job.js';
import type { IngestContext } from './context.js';
import { Reply, readRequest } from './http.js';
import { parseJobOptions } from './options.js';
import { acceptImage } from './submit.js';
import type { TemplatedApp, WebSocket } from './uws.js';
import { jobView } from './views.js';

interface StreamUser {
  options: JobOptions;
  returnImage: boolean;
  /** Jobs of this connection not finished yet. */
  pending: Set<string>;
  /** Frames held back while the socket's send buffer is over the high-water mark. */
  backlog: Array<{ data: string | Buffer; binary: boolean }>;
  closed: boolean;
}

const HIGH_WATER_BYTES = 4 * 1024 * 1024;
const MAX_IN_FLIGHT = 64;

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
export function registerStream(app: TemplatedApp, ctx: IngestContext): void {
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

  app.ws<StreamUser>('/v1/stream', {
    maxPayloadLength: ctx.config.maxUploadBytes,
    idleTimeout: 120,
    maxBackpressure: 64 * 1024 * 1024,
    upgrade: (res, req, context) => {
      const info = readRequest(req, res);
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      try {
        const params = new URLSearchParams(info.query);
        const returnImage = ['1', 'true', 'yes'].includes((params.get('return_image') ?? '').toLowerCase());
        params.delete('return_image');
        const options = parseJobOptions(params, ctx.options);
        res.upgrade<StreamUser>({ options, returnImage, pending: new Set(), backlog: [], closed: false }, key, protocol, extensions, context);
      } catch (err) {
        new Reply(res).error(err);
      }
    },
    message: (ws, message, isBinary) => {
      const user = ws.getUserData();
      if (!isBinary) {
        send(ws, JSON.stringify({ type: 'error', ...errors.unsupportedMediaType('text message; send each image as one binary message').toJSON() }), false);
        return;
      }
      if (user.pending.size >= MAX_IN_FLIGHT) {
        send(ws, JSON.stringify({ type: 'error', error: { code: 'TOO_MANY_IN_FLIGHT', message: `At most ${MAX_IN_FLIGHT} images per connection may be in flight; wait for results` } }), false);
        return;
      }
      // The message memory is reused by uWS after this callback returns.
      const bytes = Buffer.from(new Uint8Array(message).slice());
      acceptImage(ctx, bytes, undefined, user.options)
        .then((job) => {
          if (user.closed) return;
          user.pending.add(job.id);
          sockets.set(job.id, ws);
          send(ws, JSON.stringify({ type: 'ack', job_id: job.id, status: job.status }), false);
          ctx.metrics.uploads.inc({ outcome: 'accepted' });
        })
        .catch((err) => {
          const e = isPixveilError(err) ? err : errors.internal((err as Error).message);
          ctx.metrics.uploads.inc({ outcome: e.code });
          if (!user.closed) send(ws, JSON.stringify({ type: 'error', ...e.toJSON() }), false);
        });
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
