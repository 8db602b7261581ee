import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { newJobId, type Job, type JobResult } from '../src/job.js';
import { RedisStreamQueue, type RedisQueueOptions } from '../src/queue/redis-streams.js';
import { freePort } from './free-port.js';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Working directory (AOF files live here). */
  readonly dir: string;
  /** Graceful shutdown (SIGTERM: Redis flushes the AOF); the directory is kept. */
  stop(): Promise<void>;
  /** Starts again on the same port and directory. */
  start(): Promise<void>;
  /** Stops the server and removes its directory. */
  destroy(): Promise<void>;
}


function launch(port: number, dir: string, aof: boolean): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no', '--loglevel', 'warning'];
  args.push(...(aof ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`redis-server did not start on port ${port}: ${output}`)), 10_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const probe = () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.write('PING\r\n');
        socket.once('data', (data) => {
          socket.destroy();
          // -LOADING while the AOF is replayed; only +PONG means ready.
          if (data.toString().startsWith('+PONG')) {
            clearTimeout(timer);
            resolve(child);
          } else setTimeout(probe, 20);
        });
      });
      socket.once('error', () => {
        socket.destroy();
        if (child.exitCode === null) setTimeout(probe, 20);
      });
    };
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => fail(new Error(`redis-server exited with ${code}: ${output}`)));
    child.once('error', fail);
    probe();
  }).then((started) => {
    child.removeAllListeners('exit');
    return started as ChildProcess;
  });
}

/** A private redis-server on a free port in a temp dir; `aof: true` makes data survive restarts. */
export async function startRedisServer(options: { aof?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pixveil-redis-'));
  let child: ChildProcess | undefined = await launch(port, dir, options.aof ?? false);

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGTERM');
    });
  };

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    stop,
    async start() {
      if (!child) child = await launch(port, dir, options.aof ?? false);
    },
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// Fixtures for the queue tests.
export function makeJob(overrides: Partial<Job> = {}): Job {
  const now = Date.now();
  const id = overrides.id ?? newJobId();
  return {
    id,
    status: 'queued',
    createdAt: now,
    updatedAt: now,
    attempts: 0,
    options: {
      blur: 'gaussian',
      shape: 'ellipse',
      detect: { faces: true, plates: true, objects: false },
      thresholds: { face: 0.6, plate: 0.5, object: 0.4 },
      blurClasses: [],
      format: 'same',
      quality: 85,
    },
    input: { key: `originals/${id}.jpg`, filename: 'street.jpg', bytes: 1234, format: 'jpg' },
    ...overrides,
  };
}

export function makeResult(id: string): JobResult {
  return {
    processedKey: `processed/${id}.jpg`,
    metadataKey: `metadata/${id}.json`,
    format: 'jpg',
    width: 640,
    height: 480,
    detections: [],
    timings: { decode: 3, encode: 4 },
    totalMs: 12,
    models: { face: 'ultraface-rfb-320' },
  };
}

/** A random queue name per test, so tests never see each other's jobs. */
export function randomQueueOptions(url: string, overrides: Partial<RedisQueueOptions> = {}): Partial<RedisQueueOptions> {
  return { url, prefix: 'pixveil-test', queueName: `q${crypto.randomBytes(6).toString('hex')}`, stalledMs: 300, retryBaseMs: 50, ...overrides };
}

/** Deletes every key of a queue. */
export async function deleteQueueKeys(url: string, pattern: string): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export async function connectQueue(url: string, options: Partial<RedisQueueOptions>): Promise<RedisStreamQueue> {
  return RedisStreamQueue.connect({ url, ...options });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
