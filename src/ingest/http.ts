import { errors, isPixveilError } from '../errors.js';
import { httpStatusOf } from './http-status.js';
import type { HttpRequest, HttpResponse } from './uws.js';
import { UploadBuffer } from './upload-buffer.js';
import type { BodyAllowance } from './upload-budget.js';
import type { Principal } from '../auth/authenticator.js';

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 302: 'Found', 304: 'Not Modified',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 409: 'Conflict', 411: 'Length Required', 413: 'Payload Too Large', 415: 'Unsupported Media Type',
  422: 'Unprocessable Entity', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 503: 'Service Unavailable',
};

/** `404 Not Found`: what uWS's writeStatus wants. */
export function statusLine(status: number): string {
  return `${status} ${STATUS_TEXT[status] ?? ''}`.trim();
}

export interface RequestInfo {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  params: string[];
  /** The socket's peer; the route replaces it with the client behind a trusted proxy (access.ts). */
  remoteAddress: string;
  /** Sum of the request line's URL and every header name and value, for MAX_HEADER_BYTES. */
  headerBytes: number;
  /** Header names sent more than once (uWS's forEach reports each copy; `headers` keeps the last). */
  repeated: string[];
}

function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw errors.badRequest(`the path segment ${JSON.stringify(raw.slice(0, 64))} has an invalid percent escape`);
  }
}

/** uWS request objects die at the first await: copy everything a handler needs up front. */
export function readRequest(req: HttpRequest, res: HttpResponse, paramCount = 0): RequestInfo {
  const headers: Record<string, string> = {};
  const repeated: string[] = [];
  const path = req.getUrl();
  const rawQuery = req.getQuery() ?? '';
  let headerBytes = path.length + rawQuery.length;
  req.forEach((k, v) => {
    if (k in headers && !repeated.includes(k)) repeated.push(k);
    headers[k] = v;
    headerBytes += k.length + v.length + 4;
  });
  const rawParams: string[] = [];
  for (let i = 0; i < paramCount; i++) rawParams.push(req.getParameter(i) ?? '');
  return {
    method: req.getMethod().toUpperCase(),
    path,
    query: new URLSearchParams(rawQuery),
    headers,
    params: rawParams.map(decodeParam),
    remoteAddress: Buffer.from(res.getRemoteAddressAsText()).toString(),
    headerBytes,
    repeated,
  };
}

/**
 * Framing that a proxy in front could read differently from uWS (request smuggling): several
 * Content-Length or Transfer-Encoding headers, or a Transfer-Encoding other than exactly "chunked".
 */
export function framingProblem(info: RequestInfo): string | undefined {
  for (const name of ['content-length', 'transfer-encoding']) {
    if (info.repeated.includes(name)) return `several ${name} headers`;
  }
  const te = info.headers['transfer-encoding'];
  if (te !== undefined && te.trim().toLowerCase() !== 'chunked') return `Transfer-Encoding ${JSON.stringify(te.slice(0, 64))} (only "chunked" is accepted)`;
  if (te !== undefined && info.headers['content-length'] !== undefined) return 'both Content-Length and Transfer-Encoding';
  return undefined;
}

const replies = new WeakMap<HttpResponse, Reply>();

/** The Reply answering on `res`, for the handler guard. */
export function replyFor(res: HttpResponse): Reply | undefined {
  return replies.get(res);
}

/** How a request body is arriving; a reply sent before it is complete may close the connection. */
export interface BodyProgress {
  received: number;
  declared?: number;
  done: boolean;
}

/** A refused body with more than this still to come is not drained: the connection is closed instead. */
const DRAIN_LIMIT_BYTES = 1024 * 1024;

/** One response, guarding every write against a client that went away; also what the audit line reports. */
export class Reply {
  aborted = false;
  done = false;
  status = 0;
  /** Set on slowloris timeouts: answer, then close the connection. */
  forceClose = false;
  /** A HEAD request: the GET route's status and headers, no body. */
  headOnly = false;
  body?: BodyProgress;
  principal?: Principal;
  errorCode?: string;
  readonly jobIds: string[] = [];
  private readonly abortHandlers: Array<() => void> = [];

  constructor(readonly res: HttpResponse, private readonly onFinish?: (status: number) => void) {
    replies.set(res, this);
    res.onAborted(() => {
      this.aborted = true;
      for (const handler of this.abortHandlers) handler();
      this.finish(499);
    });
  }

  onAbort(handler: () => void): void {
    this.abortHandlers.push(handler);
  }

  private finish(status: number): void {
    if (this.done) return;
    this.done = true;
    this.status = status;
    this.onFinish?.(status);
  }

  private shouldClose(): boolean {
    if (this.forceClose) return true;
    const body = this.body;
    if (!body || body.done) return false;
    return body.declared === undefined || body.declared - body.received > DRAIN_LIMIT_BYTES;
  }

  private writeHead(status: number, contentType: string, headers: Record<string, string>): void {
    this.res.writeStatus(statusLine(status));
    this.res.writeHeader('Content-Type', contentType);
    for (const [k, v] of Object.entries(headers)) this.res.writeHeader(k, v);
  }

  json(status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.send(status, JSON.stringify(body), 'application/json', headers);
  }

  /** A PixveilError as its JSON; anything else should have gone through the handler guard (guard.ts). */
  error(err: unknown): void {
    const e = isPixveilError(err) ? err : errors.internal('An unexpected error occurred on the server');
    this.errorCode = e.code;
    this.json(httpStatusOf(e), e.toJSON(), e.headers);
  }

  /** Sends a whole body, honouring backpressure with tryEnd/onWritable for large ones. */
  send(status: number, body: string | Buffer, contentType: string, headers: Record<string, string> = {}): void {
    if (this.aborted || this.done) return;
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const total = bytes.length;
    if (this.headOnly) {
      // Content-Length as the GET would send it. This uWS build leaves the response pending after
      // endWithoutBody (the next request on the connection would be refused), so the connection closes.
      this.res.cork(() => {
        this.writeHead(status, contentType, headers);
        this.res.endWithoutBody(total, true);
      });
      this.finish(status);
      return;
    }
    if (this.shouldClose()) {
      // Small error bodies only: end() with closeConnection stops the rest of the upload.
      this.res.cork(() => {
        this.writeHead(status, contentType, headers);
        this.res.end(bytes, true);
      });
      this.finish(status);
      return;
    }
    let ended = false;
    this.res.cork(() => {
      this.writeHead(status, contentType, headers);
      const [ok, finished] = this.res.tryEnd(bytes, total);
      ended = finished;
      if (!ok && !finished) {
        const base = this.res.getWriteOffset();
        this.res.onWritable((offset) => {
          const [ok2, done2] = this.res.tryEnd(bytes.subarray(offset - base + 0), total);
          if (done2) this.finish(status);
          return ok2;
        });
      }
    });
    if (ended) this.finish(status);
  }

  /** A status without a body (204). */
  empty(status: number): void {
    if (this.aborted || this.done) return;
    this.res.cork(() => {
      this.res.writeStatus(statusLine(status));
      this.res.end(undefined, this.shouldClose());
    });
    this.finish(status);
  }

  redirect(location: string): void {
    this.send(302, '', 'text/plain', { Location: location });
  }
}

export interface BodyTiming {
  /** The whole body must arrive within this. */
  timeoutMs: number;
  /** After GRACE_MS, the average rate must stay above this (0: no rate check). */
  minBytesPerSecond: number;
}

const RATE_GRACE_MS = 5000;

/** The body's flow, for a sink that writes somewhere slower than the network (a file). */
export interface BodyFlow {
  /** Stops uWS reading the body (backpressure) until resume(). */
  pause(): void;
  resume(): void;
  /** Ends the read with this error (the connection is closed: the rest of the body is not read). */
  fail(err: Error): void;
}

/** Where a body's bytes go as they arrive: memory (UploadBuffer) or a temporary file (upload-file.ts). */
export interface BodySink<T> {
  /** false when the body would exceed the limit (nothing is kept then); may throw to refuse it (SERVER_BUSY). */
  append(chunk: ArrayBuffer): boolean;
  /** The whole body, once every byte is kept. */
  finish(): Promise<T>;
}

/**
 * Reads the body into one buffer, charging the buffer to `allowance` as it grows with the bytes
 * that arrive (503 SERVER_BUSY, connection closed, when the node's upload budget is full).
 * readBodyInto says the rest.
 */
export function readBody(res: HttpResponse, reply: Reply, info: RequestInfo, limit: number, timing?: BodyTiming, limitSetting = 'MAX_UPLOAD_BYTES', allowance?: BodyAllowance): Promise<Buffer> {
  return readBodyInto(res, reply, info, limit, timing, limitSetting, (declared) => {
    const body = new UploadBuffer(limit, declared, (bytes) => allowance?.take(bytes));
    return { append: (chunk) => body.append(chunk), finish: async () => body.bytes() };
  });
}

/**
 * Reads the body into the sink `open` makes, refusing it past `limit` (413) as soon as the
 * Content-Length or the bytes received say so, and cutting off a body that trickles (408,
 * connection closed). Call it synchronously in the route handler: uWS drops body bytes that
 * arrive before onData is registered.
 */
export function readBodyInto<T>(res: HttpResponse, reply: Reply, info: RequestInfo, limit: number, timing: BodyTiming | undefined, limitSetting: string, open: (declared: number | undefined, flow: BodyFlow) => BodySink<T>): Promise<T> {
  const raw = info.headers['content-length'];
  const declared = raw === undefined ? undefined : /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  const progress: BodyProgress = (reply.body = { received: 0, declared: Number.isNaN(declared) ? undefined : declared, done: false });
  return new Promise((resolve, reject) => {
    if (declared !== undefined && Number.isNaN(declared)) {
      reject(errors.invalidOption('Content-Length', 'a non-negative integer', raw));
      return;
    }
    if (declared !== undefined && declared > limit) {
      reject(errors.payloadTooLarge(limit, limitSetting));
      return;
    }
    let settled = false;
    let paused = false;
    let timer: NodeJS.Timeout | undefined;
    const started = Date.now();
    // A response that was answered or aborted is gone in uWS: touching it would throw.
    const usable = () => !reply.aborted && !reply.done;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      // Paused by the last chunk's write: the connection must be read again for its next request.
      flow.resume();
      if (err) reject(err);
      else sink.finish().then(resolve, reject);
    };
    const flow: BodyFlow = {
      pause: () => {
        if (paused || !usable()) return;
        paused = true;
        res.pause();
      },
      resume: () => {
        if (!paused || !usable()) return;
        paused = false;
        res.resume();
      },
      fail: (err) => {
        reply.forceClose = true;
        settle(err);
      },
    };
    let sink: BodySink<T>;
    try {
      sink = open(declared, flow);
    } catch (err) {
      reply.forceClose = true;
      reject(err);
      return;
    }
    reply.onAbort(() => settle(errors.requestTimeout('the client went away')));
    if (timing) {
      const every = Math.min(1000, Math.max(50, Math.floor(timing.timeoutMs / 10)));
      timer = setInterval(() => {
        if (reply.done) return settle(errors.requestTimeout('reply already sent'));
        const elapsed = Date.now() - started;
        let detail: string | undefined;
        if (elapsed > timing.timeoutMs) detail = `not complete after ${timing.timeoutMs} ms (BODY_TIMEOUT_MS)`;
        else if (timing.minBytesPerSecond > 0 && elapsed > RATE_GRACE_MS && (progress.received * 1000) / elapsed < timing.minBytesPerSecond) {
          detail = `${progress.received} bytes in ${Math.round(elapsed / 1000)} s, under ${timing.minBytesPerSecond} bytes/s (BODY_MIN_BYTES_PER_SECOND)`;
        }
        if (detail) {
          reply.forceClose = true;
          settle(errors.requestTimeout(detail));
        }
      }, every);
      timer.unref();
    }
    res.onData((chunk, isLast) => {
      if (settled || reply.done) return;
      progress.received += chunk.byteLength;
      let appended: boolean;
      try {
        appended = sink.append(chunk);
      } catch (err) {
        // The upload budget is full (SERVER_BUSY): the rest of the body is not read.
        reply.forceClose = true;
        settle(err as Error);
        return;
      }
      if (!appended) {
        settle(errors.payloadTooLarge(limit, limitSetting));
        return;
      }
      if (isLast) {
        progress.done = true;
        settle();
      }
    });
  });
}
