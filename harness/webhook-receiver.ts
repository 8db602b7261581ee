import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: http.IncomingHttpHeaders;
  /** The raw body, as a receiver must verify it. */
  raw: string;
  body: any;
  at: number;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly received: Received[];
  /** Status to answer the n-th request (0-based) with; 200 unless set. `hang` never answers. */
  answer: (n: number, req: Received) => number | 'hang';
  close(): Promise<void>;
}

/** A local webhook receiver (node:http on a free port) that records every request. */
export async function startReceiver(): Promise<WebhookReceiver> {
  const received: Received[] = [];
  const hanging = new Set<http.ServerResponse>();
  const receiver: WebhookReceiver = { url: '', received, answer: () => 200, close: async () => {} };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: any;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const entry: Received = { headers: req.headers, raw, body, at: Date.now() };
      const n = received.push(entry) - 1;
      const status = receiver.answer(n, entry);
      if (status === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(status, status >= 300 && status < 400 ? { Location: 'http://127.0.0.1:1/' } : {}).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/hook`,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
  return receiver;
}

export async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
