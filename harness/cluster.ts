import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { packageRoot } from '../src/paths.js';
import { queueKeys, type QueueKeys } from '../src/redis/keys.js';
import { facesDir, modelDir, platesDir, readFixture } from './fixtures.js';
import { startRedisServer, type RedisServer } from './redis-server.js';
import { freePort } from './free-port.js';

// Real `pixveil api` / `pixveil worker` processes sharing one Redis and one DATA_DIR.
export const cliPath = path.join(packageRoot, 'dist', 'src', 'cli.js');


export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeProcess {
  readonly role: 'serve' | 'api' | 'worker';
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly pid: number;
  output(): string;
  readonly exited: Promise<Exit>;
  /** SIGTERM, then SIGKILL if still running after `graceMs`. */
  stop(graceMs?: number): Promise<Exit>;
}

/** Runs the compiled CLI with `args`; output is collected for assertion messages. */
export function runCli(args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<Exit> } {
  const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => output, exited };
}

export async function waitReady(url: string, timeoutMs = 60_000, exited?: Promise<Exit>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void exited?.then(() => (gone = true));
  while (Date.now() < deadline && !gone) {
    const ok = await fetch(`${url}/v1/ready`, { signal: AbortSignal.timeout(3000) }).then((r) => r.ok, () => false);
    if (ok) return;
    await sleep(200);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms${gone ? ' (process exited)' : ''}`);
}

/** A real `pixveil <role>` process on a free loopback port, returned once it answers /v1/ready. */
export async function spawnNode(role: 'serve' | 'api' | 'worker', env: Record<string, string>, readyTimeoutMs = 60_000): Promise<NodeProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = runCli([role], { ...env, PORT: String(port), HOST: '127.0.0.1' });
  const node: NodeProcess = {
    role,
    url,
    port,
    child: proc.child,
    pid: proc.child.pid!,
    output: proc.output,
    exited: proc.exited,
    async stop(graceMs = 10_000) {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.exited;
      proc.child.kill('SIGTERM');
      const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
      const exit = await proc.exited;
      clearTimeout(timer);
      return exit;
    },
  };
  try {
    await waitReady(url, readyTimeoutMs, proc.exited);
  } catch (err) {
    proc.child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${proc.output()}`);
  }
  return node;
}

export interface ClusterOptions {
  workers?: number;
  /** Extra environment for every node (STALLED_MS, SHUTDOWN_GRACE_MS, MAX_ATTEMPTS, ...). */
  env?: Record<string, string>;
  /** Redis with AOF, so it can be restarted without losing jobs. */
  aof?: boolean;
  /** false: start no API node. */
  api?: boolean;
}

export interface Cluster {
  readonly redis: RedisServer;
  readonly dataDir: string;
  readonly prefix: string;
  readonly keys: QueueKeys;
  readonly env: Record<string, string>;
  /** Undefined only with `api: false`. */
  api: NodeProcess;
  readonly workers: NodeProcess[];
  startWorker(extraEnv?: Record<string, string>): Promise<NodeProcess>;
  /** Output of every node, for failure messages. */
  logs(): string;
  /** Kills every process, stops Redis, removes DATA_DIR. Safe to call twice. */
  close(): Promise<void>;
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const redis = await startRedisServer({ aof: options.aof ?? false });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-cluster-'));
  const prefix = `pixveil-test-${crypto.randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = {
    REDIS_URL: redis.url,
    REDIS_PREFIX: prefix,
    DATA_DIR: dataDir,
    MODEL_DIR: modelDir,
    MODEL_PULL_ON_START: 'false',
    POOL_THREADS: '1',
    // The tests upload hundreds of images from one address.
    RATE_LIMIT_PER_MINUTE: '0',
    MAX_CONCURRENT_UPLOADS: '256',
    // Latency admission would refuse bursts before the drain rate is measured; its own tests turn it on.
    LATENCY_SLO_SECONDS: '0',
    LOG_LEVEL: 'warn',
    // Without AOF the test Redis keeps nothing across restarts; nodes refuse that unless told.
    ...(options.aof ? {} : { ALLOW_VOLATILE_REDIS: 'true' }),
    ...options.env,
  };
  const all: NodeProcess[] = [];
  const workers: NodeProcess[] = [];
  let closed = false;
  const cluster: Cluster = {
    redis,
    dataDir,
    prefix,
    keys: queueKeys(prefix, 'images'),
    env,
    api: undefined as unknown as NodeProcess,
    workers,
    async startWorker(extraEnv = {}) {
      const worker = await spawnNode('worker', { ...env, ...extraEnv });
      all.push(worker);
      workers.push(worker);
      return worker;
    },
    logs: () => all.map((n) => `--- ${n.role} pid ${n.pid}\n${n.output().slice(-4000)}`).join('\n'),
    async close() {
      if (closed) return;
      closed = true;
      for (const n of all) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
      await Promise.all(all.map((n) => n.exited));
      await redis.destroy();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    const starting: Array<Promise<unknown>> = [];
    if (options.api !== false) {
      starting.push(
        spawnNode('api', env).then((api) => {
          all.push(api);
          cluster.api = api;
        }),
      );
    }
    for (let i = 0; i < (options.workers ?? 2); i++) starting.push(cluster.startWorker());
    await Promise.all(starting);
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}

/** Real photos (faces, plates) shrunk to `width` px JPEGs: small enough for hundreds of jobs on two cores. */
export async function smallPhotos(width = 320, count = 12): Promise<Buffer[]> {
  const sources = [
    ...fs.readdirSync(facesDir).map((f) => path.join(facesDir, f)),
    ...fs.readdirSync(platesDir).map((f) => path.join(platesDir, f)),
  ].slice(0, count);
  return Promise.all(sources.map((file) => sharp(readFixture(file)).rotate().resize({ width, withoutEnlargement: false }).jpeg({ quality: 85 }).toBuffer()));
}

export interface Accepted {
  id: string;
  status: number;
}

/** POST one image as a raw body; resolves with the HTTP status and job id (if accepted) and the error body otherwise. */
export async function postImage(url: string, bytes: Buffer, timeoutMs = 15_000): Promise<{ status: number; id?: string; body: any; retryAfter: string | null }> {
  const res = await fetch(`${url}/v1/images`, { method: 'POST', body: new Uint8Array(bytes), headers: { 'content-type': 'image/jpeg' }, signal: AbortSignal.timeout(timeoutMs) });
  const body = await res.json().catch(() => ({}));
  return { status: res.status, id: body.job_id, body, retryAfter: res.headers.get('retry-after') };
}

/** Uploads `count` images, `concurrency` at a time; every upload must be accepted (202). Returns the job ids in order. */
export async function uploadMany(url: string, images: Buffer[], count: number, concurrency = 8): Promise<string[]> {
  const ids: string[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const res = await postImage(url, images[i % images.length]);
        if (res.status !== 202 || !res.id) throw new Error(`upload ${i} answered ${res.status}: ${JSON.stringify(res.body)}`);
        ids[i] = res.id;
      }
    }),
  );
  return ids;
}

/** Long-polls each job on `url` until it finished; returns the job views by id. */
export async function waitForAll(url: string, ids: string[], timeoutMs: number, concurrency = 16): Promise<Map<string, any>> {
  const deadline = Date.now() + timeoutMs;
  const done = new Map<string, any>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ids.length) {
        const id = ids[next++];
        for (;;) {
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`job ${id} not finished in ${timeoutMs} ms (${done.size}/${ids.length} done)`);
          const wait = Math.max(1, Math.min(10, Math.floor(left / 1000)));
          const res = await fetch(`${url}/v1/jobs/${id}?wait=${wait}s`, { signal: AbortSignal.timeout(wait * 1000 + 5000) }).catch(() => undefined);
          const body = res ? await res.json().catch(() => undefined) : undefined;
          if (body && (body.status === 'completed' || body.status === 'failed')) {
            done.set(id, body);
            break;
          }
          // 503 while Redis is away: the API answered quickly; wait a little before asking again.
          if (!res || res.status !== 200) await sleep(250);
        }
      }
    }),
  );
  return done;
}

/** A Prometheus counter/gauge value from /metrics text (0 when absent). */
export async function metricValue(url: string, name: string, labels = ''): Promise<number> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Files under DATA_DIR/<dir>, names only. */
export function listData(dataDir: string, dir: string): string[] {
  const full = path.join(dataDir, dir);
  return fs.existsSync(full) ? fs.readdirSync(full).sort() : [];
}

/**
 * Asserts-by-return: for every job id, exactly one processed/<id>.<attempt>.* and one metadata/<id>.<attempt>.json;
 * returns what is wrong (empty when all is well) and the leftover temp files of interrupted writes.
 */
export function checkOutputs(dataDir: string, ids: string[]): { problems: string[]; tempFiles: string[]; stray: string[] } {
  const problems: string[] = [];
  const tempFiles: string[] = [];
  const stray: string[] = [];
  const wanted = new Set(ids);
  for (const dir of ['processed', 'metadata']) {
    const seen = new Map<string, number>();
    for (const name of listData(dataDir, dir)) {
      if (name.endsWith('.tmp')) {
        tempFiles.push(`${dir}/${name}`);
        continue;
      }
      const id = name.slice(0, name.indexOf('.'));
      if (!wanted.has(id)) stray.push(`${dir}/${name}`);
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    for (const id of ids) {
      const n = seen.get(id) ?? 0;
      if (n !== 1) problems.push(`${dir}: ${n} objects for job ${id}`);
    }
  }
  const unexpected = fs.readdirSync(dataDir).filter((d) => !['original', 'processed', 'metadata', 'segments'].includes(d));
  if (unexpected.length > 0) problems.push(`unexpected entries in DATA_DIR: ${unexpected.join(', ')}`);
  return { problems, tempFiles, stray };
}
