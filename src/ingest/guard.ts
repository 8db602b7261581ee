import crypto from 'node:crypto';
import { errors, isPixveilError, type PixveilError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { httpStatusOf } from './http-status.js';
import { replyFor, statusLine } from './http.js';
import type { HttpRequest, HttpResponse } from './uws.js';

// An exception escaping a uWS callback ends the process; every callback uWS calls goes through here.

/** Logs a bug with its stack under a fresh request id and returns the error the client may see. */
export function unexpectedError(log: Logger, where: string, err: unknown): PixveilError {
  const requestId = crypto.randomBytes(8).toString('hex');
  log.error('unexpected error in a handler', {
    request_id: requestId,
    where,
    error: err instanceof Error ? err.message : String(err),
    stack: err instanceof Error ? err.stack : undefined,
  });
  return errors.unexpected(requestId);
}

/** Calls `fn`, sending a sync throw or a rejected promise to `onFailure`; never throws itself. */
export function guarded<A extends unknown[]>(fn: (...args: A) => unknown, onFailure: (err: unknown, ...args: A) => void): (...args: A) => void {
  const fail = (err: unknown, args: A) => {
    try {
      onFailure(err, ...args);
    } catch {
      // The failure handler writes to a socket that may be gone; nothing more can be done for it.
    }
  };
  return (...args: A) => {
    try {
      const result = fn(...args);
      if (result instanceof Promise) result.catch((err) => fail(err, args));
    } catch (err) {
      fail(err, args);
    }
  };
}

/**
 * An HTTP handler (or WebSocket upgrade) behind the guard: a PixveilError is answered as itself,
 * anything else as 500 INTERNAL naming the request id it was logged under.
 */
export function guardHttp<R extends unknown[]>(log: Logger, where: string, handler: (res: HttpResponse, req: HttpRequest, ...rest: R) => unknown) {
  return guarded(handler, (err, res: HttpResponse, ..._rest: unknown[]) => {
    const e = isPixveilError(err) ? err : unexpectedError(log, where, err);
    const reply = replyFor(res);
    if (reply) {
      reply.error(e);
      return;
    }
    res.cork(() => {
      res.writeStatus(statusLine(httpStatusOf(e)));
      for (const [k, v] of Object.entries(e.headers)) res.writeHeader(k, v);
      res.writeHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(e.toJSON()), true);
    });
  });
}
