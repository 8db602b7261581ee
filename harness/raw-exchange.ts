import net from 'node:net';

// A client for bytes no HTTP library sends: it writes a script of chunks (with pauses and an
// optional half-close) and reads back the first HTTP response, or WebSocket frames after an upgrade.

export type Step = Buffer | string | { wait: number } | 'end';

export interface HttpAnswer {
  kind: 'answer';
  status: number;
  headers: Record<string, string>;
  body: string;
  /** uWS's own HTML page for requests its parser refuses (400, 505), sent with Connection: close. */
  parserPage: boolean;
}

export type RawOutcome = HttpAnswer | { kind: 'closed' } | { kind: 'timeout' };

export interface WsFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

function parseHead(text: string): { status: number; headers: Record<string, string>; bodyAt: number } | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = text.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1] ?? NaN);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers, bodyAt: end + 4 };
}

/** The first HTTP response in `data`, once complete (Content-Length), or what a close left. */
function answerIn(data: Buffer, closed: boolean): HttpAnswer | undefined {
  // Interim answers (100 Continue after `Expect: 100-continue`) come before the real one.
  const text = data.toString('latin1').replace(/^(HTTP\/1\.[01] 1\d\d[^\r]*\r\n(?:[^\r]+\r\n)*\r\n)+/, '');
  const head = parseHead(text);
  if (!head) return undefined;
  const length = head.headers['content-length'];
  const body = text.slice(head.bodyAt);
  if (length !== undefined && Buffer.byteLength(body, 'latin1') < Number(length) && !closed) return undefined;
  if (length === undefined && !closed) return undefined;
  const text2 = length !== undefined ? body.slice(0, Number(length)) : body;
  return { kind: 'answer', status: head.status, headers: head.headers, body: text2, parserPage: text2.includes('uWebSockets') && text2.startsWith('<h1>') };
}

async function play(socket: net.Socket, steps: Step[], stopped: () => boolean): Promise<void> {
  for (const step of steps) {
    if (stopped() || socket.destroyed) return;
    if (step === 'end') socket.end();
    else if (typeof step === 'object' && !Buffer.isBuffer(step)) await new Promise((r) => setTimeout(r, step.wait));
    else if (!socket.write(step)) await new Promise((r) => socket.once('drain', r).once('close', r));
  }
}

/** Plays `steps` on a fresh connection; resolves at the first complete response, a close, or `timeoutMs`. */
export function rawExchange(port: number, steps: Step[], timeoutMs: number): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data: Buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (outcome: RawOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish(answerIn(data, true) ?? { kind: 'timeout' }), timeoutMs);
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      const answer = answerIn(data, false);
      if (answer) finish(answer);
    });
    socket.on('close', () => finish(answerIn(data, true) ?? { kind: 'closed' }));
    socket.on('error', () => {});
    socket.on('connect', () => void play(socket, steps, () => settled).catch(() => {}));
  });
}

/** One client frame; `mask: false` sends it unmasked (a protocol error), `length` lies about the size. */
export function wsFrame(opcode: number, payload: Buffer, o: { fin?: boolean; rsv?: number; mask?: boolean; length?: bigint | number } = {}): Buffer {
  const fin = o.fin ?? true;
  const masked = o.mask ?? true;
  const len = BigInt(o.length ?? payload.length);
  const first = (fin ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | (opcode & 0x0f);
  let head: Buffer;
  if (len < 126n) head = Buffer.from([first, (masked ? 0x80 : 0) | Number(len)]);
  else if (len < 65536n) {
    head = Buffer.from([first, (masked ? 0x80 : 0) | 126, 0, 0]);
    head.writeUInt16BE(Number(len), 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = first;
    head[1] = (masked ? 0x80 : 0) | 127;
    head.writeBigUInt64BE(len, 2);
  }
  if (!masked) return Buffer.concat([head, payload]);
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([head, key, body]);
}

/** Server frames (never masked) parsed from `data`; a partial frame at the end stays unread. */
function parseFrames(data: Buffer): { frames: WsFrame[]; rest: Buffer } {
  const frames: WsFrame[] = [];
  let i = 0;
  for (;;) {
    if (i + 2 > data.length) break;
    let len = data[i + 1] & 0x7f;
    let at = i + 2;
    if (len === 126) {
      if (at + 2 > data.length) break;
      len = data.readUInt16BE(at);
      at += 2;
    } else if (len === 127) {
      if (at + 8 > data.length) break;
      len = Number(data.readBigUInt64BE(at));
      at += 8;
    }
    if (at + len > data.length) break;
    frames.push({ fin: (data[i] & 0x80) !== 0, opcode: data[i] & 0x0f, payload: data.subarray(at, at + len) });
    i = at + len;
  }
  return { frames, rest: data.subarray(i) };
}

export interface WsSession {
  /** The upgrade's answer when it was not 101. */
  refused?: RawOutcome;
  frames: WsFrame[];
  /** The server closed the TCP connection. */
  closed: boolean;
  /** Code of the server's close frame, if it sent one. */
  closeCode?: number;
}

export interface WsScript {
  /** Request line target, e.g. `/v1/stream?detect=faces`. */
  target: string;
  /** Extra or replacement handshake header lines. */
  headers?: string[];
  /** Sent after the 101. */
  steps: Step[];
  /** Stop reading once a frame satisfies this (or at timeoutMs, or the close). */
  until?: (frames: WsFrame[]) => boolean;
  timeoutMs: number;
}

/** Upgrades to a WebSocket over a bare socket, plays the script, collects the server's frames. */
export function wsExchange(port: number, script: WsScript): Promise<WsSession> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data: Buffer = Buffer.alloc(0);
    let upgraded = false;
    let settled = false;
    const session: WsSession = { frames: [], closed: false };
    const finish = (extra: Partial<WsSession> = {}) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...session, ...extra });
    };
    const timer = setTimeout(() => finish(upgraded ? {} : { refused: answerIn(data, true) ?? { kind: 'timeout' } }), script.timeoutMs);
    const read = () => {
      if (!upgraded) {
        const text = data.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!/^HTTP\/1\.1 101/.test(text)) {
          const answer = answerIn(data, false);
          if (answer) finish({ refused: answer });
          return;
        }
        upgraded = true;
        data = data.subarray(end + 4);
        void play(socket, script.steps, () => settled).catch(() => {});
      }
      const { frames, rest } = parseFrames(data);
      data = rest;
      for (const frame of frames) {
        session.frames.push(frame);
        if (frame.opcode === 8) session.closeCode = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
      }
      if (session.closeCode !== undefined || script.until?.(session.frames)) finish();
    };
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      read();
    });
    socket.on('close', () => finish(upgraded ? { closed: true } : { refused: answerIn(data, true) ?? { kind: 'closed' } }));
    socket.on('error', () => {});
    socket.on('connect', () => {
      const headers = script.headers ?? ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'];
      socket.write(`GET ${script.target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`);
    });
  });
}

/** The JSON text messages among `frames`. */
export function wsMessages(frames: WsFrame[]): any[] {
  return frames.filter((f) => f.opcode === 1).map((f) => {
    try {
      return JSON.parse(f.payload.toString('utf8'));
    } catch {
      return { type: 'unparsable' };
    }
  });
}
