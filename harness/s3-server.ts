import { createRequire } from 'node:module';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { after, before } from 'node:test';
import { S3Client } from '@aws-sdk/client-s3';

// s3rver ships no types; this is the part of its API the helper uses.
interface S3rverInstance {
  run(): Promise<{ port: number }>;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  httpServer?: Server;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

export interface RecordedRequest {
  method: string;
  url: string;
}

/** Answers matching requests with an S3-style error instead of passing them to s3rver. */
export interface Fault {
  match: (req: RecordedRequest) => boolean;
  status: number;
  code: string;
  /** How many matching requests fail; Infinity for all of them. */
  times: number;
}

export interface TestS3Server {
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Every request the server received, oldest first. */
  requests: RecordedRequest[];
  inject(fault: Fault): void;
  /** Removes every injected fault, spent or not. */
  clearFaults(): void;
  /** Resolves when a request matching the predicate arrives (or has arrived). */
  waitForRequest(match: (req: RecordedRequest) => boolean): Promise<RecordedRequest>;
  /** Drops open connections, stops listening and removes the data directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts s3rver on a free loopback port with its data in a fresh temp directory and one bucket created. */
export async function startS3Server(opts: { bucket?: string } = {}): Promise<TestS3Server> {
  const bucket = opts.bucket ?? `pixveil-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'pixveil-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const http = server.httpServer!;

  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  const waiters: { match: (req: RecordedRequest) => boolean; resolve: (req: RecordedRequest) => void }[] = [];
  const handler = server.callback();
  http.removeAllListeners('request');
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const seen = { method: req.method ?? '', url: req.url ?? '' };
    requests.push(seen);
    for (const waiter of waiters.splice(0)) {
      if (waiter.match(seen)) waiter.resolve(seen);
      else waiters.push(waiter);
    }
    const fault = faults.find((f) => f.times > 0 && f.match(seen));
    if (!fault) return handler(req, res);
    fault.times -= 1;
    // Drain the body first so the client sees a clean error response, not a reset.
    req.resume();
    req.on('end', () => {
      res.writeHead(fault.status, { 'Content-Type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.code}</Code><Message>injected by test</Message></Error>`);
    });
  });

  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requests,
    inject: (fault) => faults.push(fault),
    clearFaults: () => faults.splice(0),
    waitForRequest: (match) => {
      const seen = requests.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * For one describe: s3rver started before its tests, with the AWS credential variables set to its
 * keys (the store reads the standard chain, as in production) and an S3 client on it; all undone after.
 * The fields are filled before the first test runs.
 */
export function s3ServerForSuite(): { s3: TestS3Server; client: S3Client } {
  const suite = {} as { s3: TestS3Server; client: S3Client };
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  before(async () => {
    suite.s3 = await startS3Server();
    process.env.AWS_ACCESS_KEY_ID = suite.s3.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = suite.s3.credentials.secretAccessKey;
    suite.client = new S3Client({ endpoint: suite.s3.endpoint, region: suite.s3.region, forcePathStyle: true, credentials: suite.s3.credentials });
  });
  after(async () => {
    suite.client?.destroy();
    await suite.s3?.stop();
    for (const [name, value] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  return suite;
}
