import { randomBytes } from './hostile-files.js';
import type { Rand } from './fuzz-images.js';
import { rawExchange, wsExchange, wsFrame, wsMessages, type RawOutcome, type Step, type WsSession } from './raw-exchange.js';

// Protocol-level garbage on raw sockets: HTTP/1.1 framing, multipart bodies and WebSocket frames
// that a conforming client never sends. Each case says whether the server may end it by closing
// the connection without an answer (README, "Errors": framing the parser refuses).

export type Observation =
  | { kind: 'http'; outcome: RawOutcome; mayClose: boolean }
  | { kind: 'ws'; session: WsSession };

export interface ProtocolCase {
  family: string;
  run(port: number): Promise<Observation>;
}

export interface ProtocolLimits {
  /** The server's BODY_TIMEOUT_MS: how long a lying Content-Length may take to be answered. */
  bodyTimeoutMs: number;
  maxUploadBytes: number;
  /** A small valid JPEG, for requests that should otherwise succeed. */
  jpeg: Buffer;
}

const int = (rand: Rand, n: number) => Math.floor(rand() * n);
const pick = <T>(rand: Rand, items: readonly T[]): T => items[int(rand, items.length)];
/** uWS closes a connection that sent no complete request after about 10 s. */
const IDLE_CLOSE_MS = 15_000;

const PATHS = ['/v1/health', '/v1/images', '/v1/images:batch', '/upload', '/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA', '/v1/stats', '/v1/queue', '/metrics', '/', '/web/app.js', '/nope'];

function http(steps: Step[], mayClose: boolean, timeoutMs = IDLE_CLOSE_MS) {
  return async (port: number): Promise<Observation> => ({ kind: 'http', outcome: await rawExchange(port, steps, timeoutMs), mayClose });
}

function post(path: string, headers: string[], body: Buffer | string): string[] {
  return [`POST ${path} HTTP/1.1\r\nHost: x\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`, typeof body === 'string' ? body : body.toString('latin1')];
}

function latin1(steps: Array<string | Buffer>): Buffer[] {
  return steps.map((s) => (typeof s === 'string' ? Buffer.from(s, 'latin1') : s));
}

function requestLine(rand: Rand): ProtocolCase['run'] {
  const lines = [
    () => randomBytes(rand, 1 + int(rand, 200)).toString('latin1'),
    () => `GET ${pick(rand, PATHS)}`,
    () => `GET ${pick(rand, PATHS)} HTTP/${pick(rand, ['1.2', '2.0', '9.9', '0.9', '1', '', 'x.y'])}`,
    () => `GET  ${pick(rand, PATHS)}  HTTP/1.1`,
    () => `GET\t${pick(rand, PATHS)}\tHTTP/1.1`,
    () => `GET http://127.0.0.1${pick(rand, PATHS)} HTTP/1.1`,
    () => `GET * HTTP/1.1`,
    () => `GET HTTP/1.1`,
    () => ` GET ${pick(rand, PATHS)} HTTP/1.1`,
    () => `GET ${'/'.repeat(1 + int(rand, 5000))} HTTP/1.1`,
    () => `${'G'.repeat(1 + int(rand, 2000))} / HTTP/1.1`,
    () => `GET /v1/${'%'.repeat(1 + int(rand, 40))}jobs HTTP/1.1`,
    () => `GET ${pick(rand, ['/v1/jobs/%', '/v1/jobs/%G0', '/status/%E0%A4%A', '/v1/jobs/%C0%AF..%2F', '/v1/jobs/\u00ff\u00fe'])} HTTP/1.1`,
    () => `\r\n\r\nGET ${pick(rand, PATHS)} HTTP/1.1`,
  ];
  const line = pick(rand, lines)();
  return http(latin1([`${line}\r\nHost: x\r\n\r\n`]), true);
}

function method(rand: Rand): ProtocolCase['run'] {
  const m = pick(rand, ['FOO', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD', 'CONNECT', 'TRACE', 'get', 'Post', 'G\u0000T', 'PRI', 'X'.repeat(300), 'GET\u00e9']);
  const body = rand() < 0.5 ? 'abc' : '';
  return http(latin1([`${m} ${pick(rand, PATHS)} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`]), true);
}

function headerLines(rand: Rand): ProtocolCase['run'] {
  const bad = pick(rand, [
    () => 'X-No-Colon',
    () => 'Host x',
    () => ': empty-name',
    () => ' folded: continuation',
    () => `X-Big: ${'a'.repeat(pick(rand, [8000, 17_000, 70_000]))}`,
    () => Array.from({ length: pick(rand, [60, 120, 300]) }, (_, i) => `X-H${i}: v`).join('\r\n'),
    () => `X-Bytes: ${randomBytes(rand, 40).toString('latin1').replace(/[\r\n]/g, '')}`,
    () => 'X-Bare-CR: a\rb',
    () => 'X-Bare-LF: a\nb',
    () => 'Host: a\r\nHost: b',
    () => `Content-Type: ${'multipart/form-data; boundary='.repeat(1 + int(rand, 100))}`,
    () => 'Connection: close, keep-alive, upgrade',
    () => 'Expect: 100-continue',
  ])();
  const path = pick(rand, PATHS);
  const m = path.includes('images') || path === '/upload' ? 'POST' : 'GET';
  return http(latin1([`${m} ${path} HTTP/1.1\r\nHost: x\r\n${bad}\r\nContent-Length: 0\r\n\r\n`]), true);
}

function nulBytes(rand: Rand): ProtocolCase['run'] {
  const head = `GET ${pick(rand, PATHS)} HTTP/1.1\r\nHost: x\r\nX-A: b\r\n\r\n`;
  const out = Buffer.from(head, 'latin1');
  const at = int(rand, out.length - 4);
  const nuls = Buffer.alloc(1 + int(rand, 4));
  return http([Buffer.concat([out.subarray(0, at), nuls, out.subarray(at)])], true);
}

function chunked(rand: Rand, limits: ProtocolLimits): ProtocolCase['run'] {
  const head = `POST ${pick(rand, ['/v1/images', '/v1/images:batch', '/upload', '/v1/health'])} HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n`;
  const data = limits.jpeg.subarray(0, 256).toString('latin1');
  const bodies = [
    () => `zz\r\n${data}\r\n0\r\n\r\n`,
    () => `-5\r\nabcde\r\n0\r\n\r\n`,
    () => `ffffffffffffffff\r\nabc\r\n0\r\n\r\n`,
    () => `  100\r\n${data}\r\n0\r\n\r\n`,
    () => `${(256).toString(16)}\r\n${data}0\r\n\r\n`,
    () => `${(256).toString(16)}\r\n${data}\r\n0\r\n`,
    () => `${(256).toString(16)};ext=1;q="x"\r\n${data}\r\n0\r\n\r\n`,
    () => `${(256).toString(16)}\r\n${data}\r\n0\r\nX-Trailer: yes\r\nContent-Length: 5\r\n\r\n`,
    () => `${(1000).toString(16)}\r\n${data}`,
    () => `${(256).toString(16)}\n${data}\n0\n\n`,
    () => `0\r\n\r\n`,
    () => `${(10).toString(16)}\r\n${'x'.repeat(10)}\r\n`.repeat(1 + int(rand, 500)) + '0\r\n\r\n',
    () => `${(256).toString(16)}\r\n${data}\r\n`,
  ];
  const steps: Step[] = [head, pick(rand, bodies)()];
  if (rand() < 0.1) {
    // Over MAX_UPLOAD_BYTES in chunks: refused as the bytes arrive, connection closed.
    const chunk = `${(65536).toString(16)}\r\n${'y'.repeat(65536)}\r\n`;
    steps.splice(1, 1, ...Array.from({ length: Math.ceil(limits.maxUploadBytes / 65536) + 2 }, () => chunk), '0\r\n\r\n');
  }
  return http(latin1(steps as string[]), true, limits.bodyTimeoutMs + IDLE_CLOSE_MS);
}

function contentLength(rand: Rand, limits: ProtocolLimits): ProtocolCase['run'] {
  const jpeg = limits.jpeg;
  const path = pick(rand, ['/v1/images', '/upload', '/v1/images:batch']);
  const variants: Array<() => Step[]> = [
    // Declares more than it sends: the body timeout answers 408 and closes.
    () => post(path, ['Content-Type: image/jpeg', `Content-Length: ${jpeg.length + 1 + int(rand, 100_000)}`], jpeg),
    // Declares less than it sends: the rest is read as the next request.
    () => post(path, ['Content-Type: image/jpeg', `Content-Length: ${int(rand, jpeg.length)}`], jpeg),
    () => post(path, ['Content-Type: image/jpeg', `Content-Length: ${pick(rand, ['-1', '+5', '0x10', '1e3', ' 12 ', '12abc', '99999999999999999999', ''])}`], jpeg.subarray(0, 12)),
    () => post(path, ['Content-Type: image/jpeg', 'Content-Length: 0'], jpeg.subarray(0, 100)),
    () => post(path, ['Content-Type: image/jpeg', `Content-Length: ${limits.maxUploadBytes * pick(rand, [2, 1000])}`], jpeg.subarray(0, 1000)),
    () => post(path, ['Content-Type: image/jpeg', `Content-Length: ${jpeg.length}`, 'Transfer-Encoding: chunked'], jpeg),
    () => post(path, ['Content-Type: image/jpeg', `Content-Length: ${jpeg.length}`, `Content-Length: ${jpeg.length + 1}`], jpeg),
    () => [`GET /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: ${5 + int(rand, 50)}\r\n\r\nabcde`],
  ];
  return http(latin1(pick(rand, variants)() as string[]), true, limits.bodyTimeoutMs + IDLE_CLOSE_MS);
}

function multipart(rand: Rand, limits: ProtocolLimits): ProtocolCase['run'] {
  const file = limits.jpeg;
  const b = pick(rand, ['b', 'xYz123', '----WebKitFormBoundary7MA4YWxkTrZu0gW', 'a'.repeat(71), 'a'.repeat(300), '"quoted"', 'sp ace']);
  const disposition = `Content-Disposition: form-data; name="${pick(rand, ['file', 'files', 'other', ''])}"; filename="${pick(rand, ['a.jpg', '../../etc/passwd', '', 'x'.repeat(1000)])}"`;
  const part = (headers: string, data: Buffer | string) => Buffer.concat([Buffer.from(`--${b}\r\n${headers}\r\n\r\n`, 'latin1'), Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1'), Buffer.from('\r\n')]);
  const close = Buffer.from(`--${b}--\r\n`);
  const bodies: Array<() => { type: string; body: Buffer }> = [
    () => ({ type: 'multipart/form-data', body: Buffer.concat([part(disposition, file), close]) }),
    () => ({ type: 'multipart/form-data; boundary=', body: Buffer.concat([part(disposition, file), close]) }),
    () => ({ type: `multipart/form-data; boundary=${b}-other`, body: Buffer.concat([part(disposition, file), close]) }),
    () => ({ type: `multipart/form-data; boundary=${b}`, body: part(disposition, file) }),
    () => ({ type: `multipart/form-data; boundary=${b}`, body: Buffer.concat([Buffer.from(`--${b}\r\n${disposition}\r\n`), file.subarray(0, 500)]) }),
    () => ({ type: `multipart/form-data; boundary=${b}`, body: Buffer.concat([part(`${disposition}\r\nX-Pad: ${'p'.repeat(pick(rand, [1000, 90_000, 300_000]))}`, file), close]) }),
    () => ({ type: `multipart/form-data; boundary=${b}`, body: Buffer.concat([part(Array.from({ length: pick(rand, [40, 60, 500]) }, (_, i) => `X-H${i}: v`).join('\r\n') + `\r\n${disposition}`, file), close]) }),
    () => ({ type: `multipart/form-data; boundary=${b}`, body: Buffer.concat([part('Content-Type: image/jpeg', file), close]) }),
    () => ({ type: `multipart/form-data; boundary=${b}`, body: Buffer.concat([Buffer.from(`preamble ${'z'.repeat(int(rand, 5000))}\r\n`), part(disposition, file), close, Buffer.from('epilogue')]) }),
    () => ({ type: `multipart/form-data; boundary=${b}`, body: Buffer.from(`--${b}\n${disposition}\n\n${file.toString('latin1')}\n--${b}--\n`, 'latin1') }),
    () => ({ type: `multipart/form-data; boundary=${b}`, body: Buffer.concat([...Array.from({ length: 1 + int(rand, 300) }, () => part(disposition, '')), close]) }),
    () => ({ type: `multipart/form-data; boundary=${b}`, body: Buffer.concat([part(disposition, randomBytes(rand, int(rand, 4000))), close]) }),
    () => ({ type: `multipart/form-data; boundary=${b}`, body: randomBytes(rand, 1 + int(rand, 3000)) }),
    () => ({ type: `multipart/mixed; boundary=${b}`, body: Buffer.concat([part(disposition, file), close]) }),
    () => ({ type: `multipart/form-data; boundary=${b}; charset=utf-16`, body: Buffer.concat([part(`Content-Disposition: form-data; name*=UTF-8''%FF%FE; filename*=UTF-8''%C0`, file), close]) }),
  ];
  const { type, body } = pick(rand, bodies)();
  const path = pick(rand, ['/v1/images', '/v1/images:batch', '/upload', '/batch-upload']);
  return http([Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n`, 'latin1'), body], false, limits.bodyTimeoutMs + IDLE_CLOSE_MS);
}

function halfClose(rand: Rand, limits: ProtocolLimits): ProtocolCase['run'] {
  const jpeg = limits.jpeg;
  const variants: Array<() => Step[]> = [
    // A complete request then FIN: the answer still comes.
    () => [`GET ${pick(rand, ['/v1/health', '/v1/stats', '/nope'])} HTTP/1.1\r\nHost: x\r\n\r\n`, 'end'],
    () => [...latin1(post('/v1/images', ['Content-Type: image/jpeg', `Content-Length: ${jpeg.length}`], jpeg)), 'end'],
    // An incomplete request or body then FIN.
    () => [`GET /v1/hea`, 'end'],
    () => [...latin1(post('/v1/images', ['Content-Type: image/jpeg', `Content-Length: ${jpeg.length}`], jpeg.subarray(0, int(rand, jpeg.length)))), 'end'],
    () => [`POST /v1/images HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n`, 'end'],
  ];
  // uWS closes a half-closed connection at once: only an answer written before the FIN arrives
  // (a GET, answered synchronously) gets out; an upload's reply is asynchronous (README, "Errors").
  const choice = int(rand, variants.length);
  return http(variants[choice]() as Step[], choice >= 1, limits.bodyTimeoutMs + IDLE_CLOSE_MS);
}

function idle(rand: Rand): ProtocolCase['run'] {
  const wait = 500 + int(rand, 3000);
  const variants: Array<() => [Step[], boolean]> = [
    // Idle, then a good request: it is served.
    () => [[{ wait }, `GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n`], false],
    // A request line split across TCP segments: uWS v20 answers its own 505 page and closes
    // (README, "Errors"); the rest of the request, in later segments, is answered.
    () => [[`GET /v1/health HT`, { wait }, `TP/1.1\r\nHost: x\r\n\r\n`], true],
    () => [[`GET /v1/health HTTP/1.1\r\nHo`, { wait }, `st: x\r\n\r\n`], false],
    // Idle for good, or a request that never completes: uWS closes it.
    () => [[], true],
    () => [[`GET /v1/health HTTP/1.1\r\nHost: x\r\n`], true],
  ];
  const [steps, mayClose] = rand() < 0.8 ? variants[int(rand, 3)]() : variants[3 + int(rand, 2)]();
  return http(steps, mayClose);
}

function mutatedRequest(rand: Rand, limits: ProtocolLimits): ProtocolCase['run'] {
  const jpeg = limits.jpeg.subarray(0, 2000);
  const requests = [
    `GET /v1/health HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n`,
    `GET /v1/jobs/AAAAAAAAAAAAAAAAAAAAAA?wait=1s HTTP/1.1\r\nHost: x\r\n\r\n`,
    `POST /v1/images?detect=faces&blur=pixelate HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`,
  ];
  const head = Buffer.from(pick(rand, requests), 'latin1');
  const flips = 1 + int(rand, 6);
  for (let i = 0; i < flips; i++) {
    const at = int(rand, head.length);
    if (rand() < 0.5) head[at] ^= 1 << int(rand, 8);
    else head[at] = pick(rand, [0x00, 0x0d, 0x0a, 0x20, 0x3a, 0x25, 0xff, 0x7f]);
  }
  const body = head.includes('POST') ? [jpeg] : [];
  return http([head, ...body], true, limits.bodyTimeoutMs + IDLE_CLOSE_MS);
}

function query(rand: Rand, limits: ProtocolLimits): ProtocolCase['run'] {
  const q = pick(rand, [
    'blur=nope', 'shape=star', 'detect=faces,cats', 'face_threshold=2', 'quality=0', 'quality=abc', 'format=gif', 'unknown=1',
    'blur=gaussian&blur=solid', 'blur_classes=' + 'person,'.repeat(200), `detect=${'%'.repeat(3)}`, 'wait=-1', 'quality=1e400', '&&&==', 'face_threshold=NaN',
  ]);
  const path = pick(rand, ['/v1/images', '/upload', '/v1/images:batch', '/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA', '/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA/result', '/status/AAAAAAAAAAAAAAAAAAAAAA']);
  if (!path.startsWith('/v1/images') && path !== '/upload') {
    const wait = pick(rand, ['wait=abc', 'wait=61s', 'wait=0.5s', 'wait=', 'wait=1ms', 'wait=-5s', 'wait=1e9', 'wait=2s&wait=3s', q]);
    return http([`GET ${path}?${wait} HTTP/1.1\r\nHost: x\r\n\r\n`], false);
  }
  // Now and then a good query with a hostile Idempotency-Key instead.
  const key = pick(rand, ['', ' ', 'k'.repeat(256), '\u00ff\u00fe', 'a\u0000b', 'ok-key-1', randomBytes(rand, 20).toString('latin1').replace(/[\r\n]/g, '')]);
  const withKey = rand() < 0.3;
  const headers = ['Content-Type: image/jpeg', `Content-Length: ${limits.jpeg.length}`, ...(withKey ? [`Idempotency-Key: ${key}`] : [])];
  return http(latin1(post(withKey ? path : `${path}?${q}`, headers, limits.jpeg)), withKey);
}

// ---- WebSocket ----

const CLOSE_CODES = [0, 1, 999, 1000, 1001, 1004, 1005, 1006, 1012, 1015, 1016, 2999, 3000, 4999, 5000, 65535];

function ws(target: string, steps: Step[], o: { timeoutMs?: number; headers?: string[]; untilResults?: number } = {}) {
  return async (port: number): Promise<Observation> => ({
    kind: 'ws',
    session: await wsExchange(port, {
      target,
      headers: o.headers,
      steps,
      timeoutMs: o.timeoutMs ?? 3000,
      until: o.untilResults ? (frames) => wsMessages(frames).filter((m) => m.type === 'result' || m.type === 'error').length >= o.untilResults! : undefined,
    }),
  });
}

function wsFrames(rand: Rand, limits: ProtocolLimits): { family: string; run: ProtocolCase['run'] } {
  const jpeg = limits.jpeg;
  const small = randomBytes(rand, int(rand, 64));
  const kinds: Array<[string, () => ProtocolCase['run']]> = [
    ['ws:opcode', () => ws('/v1/stream', [wsFrame(pick(rand, [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]), small)])],
    ['ws:reserved-bits', () => ws('/v1/stream', [wsFrame(pick(rand, [1, 2, 8]), small, { rsv: 1 + int(rand, 7) })])],
    ['ws:unmasked', () => ws('/v1/stream', [wsFrame(pick(rand, [1, 2, 9, 8]), small, { mask: false })])],
    ['ws:length', () => {
      const length = pick(rand, [2n ** 63n - 1n, 2n ** 32n, BigInt(limits.maxUploadBytes + 1), 70_000n, 200n]);
      return ws('/v1/stream', [wsFrame(2, small, { length }), { wait: 200 }, small]);
    }],
    ['ws:control', () => {
      const frames = [
        () => wsFrame(9, small, { fin: false }),
        () => wsFrame(9, Buffer.alloc(126 + int(rand, 1000)), { length: undefined }),
        () => wsFrame(8, Buffer.from([0x03])),
        () => {
          const p = Buffer.alloc(2 + int(rand, 20), 0x41);
          p.writeUInt16BE(pick(rand, CLOSE_CODES), 0);
          return wsFrame(8, p);
        },
        () => wsFrame(8, Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from([0xc3, 0x28, 0xff])])),
        () => wsFrame(10, small),
        () => wsFrame(8, Buffer.alloc(0), { fin: false }),
      ];
      return ws('/v1/stream', [pick(rand, frames)()]);
    }],
    ['ws:fragmentation', () => {
      const half = jpeg.length >> 1;
      const seqs: Array<() => Step[]> = [
        () => [wsFrame(0, small)],
        () => [wsFrame(2, jpeg.subarray(0, half), { fin: false }), wsFrame(2, jpeg.subarray(half))],
        () => [wsFrame(2, jpeg.subarray(0, half), { fin: false }), wsFrame(9, small), wsFrame(0, jpeg.subarray(half))],
        () => [wsFrame(1, Buffer.from([0xc3, 0x28, 0xa0, 0xa1]))],
        () => [wsFrame(1, Buffer.from('{"hello"'))],
        () => [wsFrame(2, jpeg.subarray(0, half), { fin: false })],
      ];
      const pickIndex = int(rand, seqs.length);
      return ws('/v1/stream', seqs[pickIndex](), pickIndex === 1 || pickIndex === 2 ? { untilResults: 1, timeoutMs: 60_000 } : {});
    }],
    ['ws:upgrade', () => {
      const headerSets = [
        ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13'],
        ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: short', 'Sec-WebSocket-Version: 13'],
        ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 8'],
        ['Upgrade: h2c', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='],
        ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', `Sec-WebSocket-Protocol: pixveil, pixveil.bearer.${'%'.repeat(20)}`],
        ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=1'],
      ];
      const target = pick(rand, ['/v1/stream', '/v1/stream?blur=nope', '/v1/stream?return_image=maybe&detect=faces', '/v1/stream?%ZZ=1', '/v1/streamx']);
      return ws(target, [wsFrame(2, jpeg)], { headers: pick(rand, headerSets), untilResults: 1, timeoutMs: 30_000 });
    }],
    ['ws:messages', () => {
      const seqs: Array<() => Step[]> = [
        () => [wsFrame(1, Buffer.from('not an image'))],
        () => [wsFrame(2, Buffer.alloc(0))],
        () => [wsFrame(2, randomBytes(rand, 1 + int(rand, 5000)))],
        () => [wsFrame(2, jpeg.subarray(0, int(rand, jpeg.length)))],
        () => [wsFrame(2, jpeg)],
      ];
      const target = pick(rand, ['/v1/stream', '/v1/stream?return_image=true&format=png', '/v1/stream?detect=faces']);
      return ws(target, pick(rand, seqs)(), { untilResults: 1, timeoutMs: 60_000 });
    }],
  ];
  const [family, make] = pick(rand, kinds);
  return { family, run: make() };
}

const HTTP_FAMILIES: Array<[string, (rand: Rand, limits: ProtocolLimits) => ProtocolCase['run']]> = [
  ['http:request-line', requestLine],
  ['http:method', method],
  ['http:header-lines', headerLines],
  ['http:nul-bytes', nulBytes],
  ['http:chunked', chunked],
  ['http:content-length', contentLength],
  ['http:multipart', multipart],
  ['http:half-closed', halfClose],
  ['http:idle', idle],
  ['http:mutated-request', mutatedRequest],
  ['http:query', query],
];

/** One protocol case; about a third are WebSocket sessions. */
export function protocolCase(rand: Rand, limits: ProtocolLimits): ProtocolCase {
  if (rand() < 0.3) return wsFrames(rand, limits);
  const [family, make] = pick(rand, HTTP_FAMILIES);
  return { family, run: make(rand, limits) };
}
