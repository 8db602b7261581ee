import { errors, isPixveilError, PixveilError } from '../errors.js';
import type { HttpRequest, HttpResponse } from './uws.js';
import { UploadBuffer } from './upload-buffer.js';

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 302: 'Found', 304: 'Not Modified',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 409: 'Conflict', 411: 'Length Required', 413: 'Payload Too Large', 415: 'Unsupported Media Type',
  422: 'Unprocessable Entity', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 503: 'Service Unavailable',
};

export interface RequestInfo {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  params: string[];
  remoteAddress: string;
}

/** uWS request objects die at the first await: copy everything a handler needs up front. */
export function readRequest(req: HttpRequest, res: HttpResponse, paramCount = 0): RequestInfo {
  const headers: Record<string, string> = {};
  req.forEach((k, v) => (headers[k] = v));
  const params: string[] = [];
  for (let i = 0; i < paramCount; i++) params.push(decodeURIComponent(req.getParameter(i) ?? ''));
  return {
    method: req.getMethod().toUpperCase(),
    path: req.getUrl(),
    query: new URLSearchParams(req.getQuery() ?? ''),
    headers,
    params,
    remoteAddress: Buffer.from(res.getRemoteAddressAsText()).toString(),
  };
}

/** One response, guarding every write against a client that went away. */
export class Reply {
  aborted = false;
  done = false;
  status = 0;

  constructor(readonly res: HttpResponse, private readonly onFinish?: (status: number) => void) {
    res.onAborted(() => {
      this.aborted = true;
      this.finish(499);
    });
  }

  private finish(status: number): void {
    if (this.done) return;
    this.done = true;
    this.status = status;
    this.onFinish?.(status);
  }

  private writeHead(status: number, contentType: string, headers: Record<string, string>): void {
    this.res.writeStatus(`${status} ${STATUS_TEXT[status] ?? ''}`.trim());
    this.res.writeHeader('Content-Type', contentType);
    for (const [k, v] of Object.entries(headers)) this.res.writeHeader(k, v);
  }

  json(status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.send(status, JSON.stringify(body), 'application/json', headers);
  }

  error(err: unknown): void {
    const e = isPixveilError(err) ? err : errors.internal((err as Error)?.message ?? String(err));
    this.json(e.status, e.toJSON(), e.headers);
  }

  /** Sends a whole body, honouring backpressure with tryEnd/onWritable for large ones. */
  send(status: number, body: string | Buffer, contentType: string, headers: Record<string, string> = {}): void {
    if (this.aborted || this.done) return;
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const total = bytes.length;
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

  redirect(location: string): void {
    this.send(302, '', 'text/plain', { Location: location });
  }
}

/**
 * Reads the body into one buffer, refusing it past `limit` (413) as soon as the
 * Content-Length or the bytes received say so.
 */
export function readBody(res: HttpResponse, reply: Reply, info: RequestInfo, limit: number): Promise<Buffer> {
  const declared = info.headers['content-length'] === undefined ? undefined : Number(info.headers['content-length']);
  return new Promise((resolve, reject) => {
    if (declared !== undefined && declared > limit) {
      reject(errors.payloadTooLarge(limit));
      return;
    }
    const body = new UploadBuffer(limit, declared);
    let failed = false;
    res.onData((chunk, isLast) => {
      if (failed) return;
      if (!body.append(chunk)) {
        failed = true;
        reject(errors.payloadTooLarge(limit));
        return;
      }
      if (isLast) resolve(body.bytes());
    });
    // The promise never settles if the client disconnects; the Reply's aborted flag covers that path.
    void reply;
  });
}

/** Runs an async handler, turning thrown errors into JSON error replies. */
export function respondWithErrors(reply: Reply, work: () => Promise<void>): void {
  work().catch((err) => {
    if (!(err instanceof PixveilError)) console.error(err);
    reply.error(err);
  });
}
