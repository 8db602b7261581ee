import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import * as jose from 'jose';
import { startNode } from '../src/commands/node.js';
import { loadConfig, type Config } from '../src/config/config.js';
import { createLogger } from '../src/observability/logger.js';
import { modelDir } from './fixtures.js';
import type { TestNode } from './server.js';

export interface LoggedNode extends TestNode {
  /** Every JSON log line the node wrote, raw. */
  logs: string[];
}

/** Like startTestNode, but with a real logger whose lines are kept for assertions (audit, secrets). */
export async function startLoggedNode(overrides: Partial<Config> = {}, env: Record<string, string> = {}): Promise<LoggedNode> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-auth-'));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const config = loadConfig({ MODEL_DIR: modelDir, DATA_DIR: dataDir, PORT: '0', MODEL_PULL_ON_START: 'false', POOL_THREADS: '1', ...env }, overrides);
  const node = await startNode(config, 'serve', createLogger('debug', {}, sink));
  return {
    node,
    logs,
    url: `http://127.0.0.1:${node.port}`,
    dataDir,
    close: async () => {
      await node.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export async function hsToken(claims: jose.JWTPayload, opts: { secret?: string; audience?: string; issuer?: string; expiresIn?: string | number } = {}): Promise<string> {
  let jwt = new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  if (opts.audience) jwt = jwt.setAudience(opts.audience);
  if (opts.issuer) jwt = jwt.setIssuer(opts.issuer);
  jwt = jwt.setExpirationTime(opts.expiresIn ?? '5m');
  return jwt.sign(new TextEncoder().encode(opts.secret ?? JWT_SECRET));
}

export interface JwksServer {
  url: string;
  sign(claims: jose.JWTPayload, audience?: string): Promise<string>;
  close(): Promise<void>;
}

/** A local JWKS endpoint with one RS256 key, as an identity provider would publish it. */
export async function startJwksServer(): Promise<JwksServer> {
  const { publicKey, privateKey } = await jose.generateKeyPair('RS256');
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    sign: (claims, audience) => {
      let jwt = new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'test-key' }).setIssuedAt().setExpirationTime('5m');
      if (audience) jwt = jwt.setAudience(audience);
      return jwt.sign(privateKey);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Upload with credentials: `auth` goes in as an Authorization header value, or X-API-Key when apiKey is true. */
export function authedUpload(url: string, bytes: Buffer, headers: Record<string, string>, route = '/v1/images'): Promise<Response> {
  return fetch(`${url}${route}`, { method: 'POST', body: new Uint8Array(bytes), headers: { 'content-type': 'image/jpeg', ...headers } });
}

export async function waitForJobAs(url: string, jobId: string, headers: Record<string, string>, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/v1/jobs/${jobId}?wait=5s`, { headers });
    const body = await res.json();
    if (res.status !== 200) throw new Error(`GET job ${jobId}: ${res.status} ${JSON.stringify(body)}`);
    if (body.status === 'completed' || body.status === 'failed') return body;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${body.status} after ${timeoutMs} ms`);
  }
}
