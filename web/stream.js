// A browser client of WS /v1/stream: one connection per batch, opened with that batch's options.
// Each binary message is one image; the server answers {type:"ack"} (or {type:"error"}) in order,
// later {type:"result"} followed by the anonymized image as a binary message (return_image=true).

const STATUS_TEXT = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout',
  413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 429: 'Too Many Requests',
  500: 'Internal Server Error', 503: 'Service Unavailable',
};

/** A refusal as the API states it: HTTP status, stable code, message (and Retry-After for 429/503). */
export class ApiError extends Error {
  constructor(status, code, message, retryAfterSeconds) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** "413 Payload Too Large — PAYLOAD_TOO_LARGE: …" */
  describe() {
    const head = this.status ? `${this.status} ${STATUS_TEXT[this.status] ?? ''}`.trim() : 'Connection error';
    const retry = this.retryAfterSeconds && !/retry after/i.test(this.message) ? ` Retry after ${this.retryAfterSeconds} s.` : '';
    return `${head} — ${this.code}: ${this.message}${retry}`;
  }
}

function base64url(text) {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Headers for plain HTTP calls with the same credential. */
export function authHeaders(key) {
  return key ? { authorization: `Bearer ${key}` } : {};
}

/**
 * A browser is never told why a WebSocket upgrade was refused (it sees only close code 1006), so ask
 * an authenticated HTTP route with the same credential and report what it says.
 */
async function explainRefusal(key) {
  try {
    const res = await fetch('/v1/stats', { headers: authHeaders(key) });
    if (!res.ok) {
      const body = await res.json().catch(() => null);
      const retry = Number(res.headers.get('retry-after')) || undefined;
      return new ApiError(res.status, body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? res.statusText, retry);
    }
  } catch {
    // Server unreachable: the generic message below says so.
  }
  return new ApiError(0, 'CONNECTION_FAILED', 'The server refused or dropped the WebSocket connection to /v1/stream.');
}

export class StreamSession {
  /** Opens WS /v1/stream with these job options; the key travels as a subprotocol, not in the URL. */
  static open(options, key) {
    const query = new URLSearchParams({ return_image: 'true', blur: options.blur, shape: options.shape, detect: options.detect.join(',') });
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const protocols = key ? ['pixveil', `pixveil.bearer.${base64url(key)}`] : [];
    const ws = new WebSocket(`${scheme}//${location.host}/v1/stream?${query}`, protocols);
    ws.binaryType = 'blob';
    return new Promise((resolve, reject) => {
      const refused = () => explainRefusal(key).then(reject);
      ws.addEventListener('close', refused, { once: true });
      ws.addEventListener('open', () => {
        ws.removeEventListener('close', refused);
        resolve(new StreamSession(ws));
      }, { once: true });
    });
  }

  constructor(ws) {
    this.ws = ws;
    /** Senders waiting for their ack or error frame, oldest first (the server answers in order). */
    this.awaitingAck = [];
    /** job id → {resolve, reject} for its result. */
    this.awaitingResult = new Map();
    /** Results that arrived before anyone asked for them. */
    this.early = new Map();
    /** A result frame whose image is the next binary message. */
    this.imageFor = null;
    ws.addEventListener('message', (event) => this.onMessage(event));
    ws.addEventListener('close', (event) => this.onClose(event));
  }

  /** Sends one image; resolves with the job id once the server acked it, rejects with its ApiError. */
  submit(bytes) {
    return new Promise((resolve, reject) => {
      this.awaitingAck.push({ resolve, reject });
      this.ws.send(bytes);
    });
  }

  /** Resolves with {job, image} (image: a Blob, or null when the job failed). */
  result(jobId) {
    const early = this.early.get(jobId);
    this.early.delete(jobId);
    if (early) return Promise.resolve(early);
    return new Promise((resolve, reject) => this.awaitingResult.set(jobId, { resolve, reject }));
  }

  close() {
    this.ws.close(1000, 'done');
  }

  onMessage(event) {
    if (typeof event.data !== 'string') {
      const frame = this.imageFor;
      this.imageFor = null;
      if (frame) this.settle(frame, event.data);
      return;
    }
    const frame = JSON.parse(event.data);
    if (frame.type === 'ack') this.awaitingAck.shift()?.resolve(frame.job_id);
    else if (frame.type === 'error') {
      const err = new ApiError(frame.status, frame.error.code, frame.error.message, frame.retry_after_seconds);
      this.awaitingAck.shift()?.reject(err);
    } else if (frame.type === 'result') {
      if (frame.image_bytes > 0) this.imageFor = frame;
      else this.settle(frame, null);
    }
  }

  settle(frame, image) {
    const { type: _type, image_bytes: _bytes, ...job } = frame;
    const waiter = this.awaitingResult.get(job.job_id);
    this.awaitingResult.delete(job.job_id);
    if (waiter) waiter.resolve({ job, image });
    else this.early.set(job.job_id, { job, image });
  }

  onClose(event) {
    const err = new ApiError(0, 'CONNECTION_CLOSED', `The connection closed (code ${event.code}) before every image was answered.`);
    for (const waiter of this.awaitingAck.splice(0)) waiter.reject(err);
    for (const waiter of this.awaitingResult.values()) waiter.reject(err);
    this.awaitingResult.clear();
  }
}
