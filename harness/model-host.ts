import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { modelDir } from './fixtures.js';

/** A local stand-in for the upstream host: serves the real model files, or misbehaves on request. */
export function startModelHost(): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const name = path.basename(req.url ?? '');
    if (req.url?.startsWith('/corrupt/')) {
      res.end(Buffer.alloc(1000, 1));
      return;
    }
    const file = path.join(modelDir, name);
    if (req.url?.startsWith('/nowhere/') || !fs.existsSync(file)) {
      res.statusCode = 404;
      res.end('missing');
      return;
    }
    res.setHeader('content-length', fs.statSync(file).size);
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) });
    }),
  );
}

