import net from 'node:net';

export interface RawResult {
  /** Status line of the first response. */
  head: string;
  /** Everything the server sent. */
  text: string;
  /** The server closed the connection before the timeout. */
  closed: boolean;
  ms: number;
}

/** Talks HTTP over a bare socket, for what fetch will not send (bad escapes, duplicate framing headers, truncated bodies). */
export function rawRequest(port: number, write: (socket: net.Socket) => void, timeoutMs = 10_000): Promise<RawResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ head: data.split('\r\n')[0] ?? '', text: data, closed, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (c) => (data += c.toString('latin1')));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => write(socket));
  });
}

/** The JSON error body of a raw response, or undefined. */
export function rawErrorCode(result: RawResult): string | undefined {
  const body = result.text.split('\r\n\r\n').slice(1).join('\r\n\r\n');
  try {
    return JSON.parse(body).error?.code;
  } catch {
    return undefined;
  }
}
