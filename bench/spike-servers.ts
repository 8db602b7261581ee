// The servers a spike run offers load to, and the faults it can inject into them:
// embedded (one `pixveil serve` process) or distributed (`pixveil api` + worker processes on a
// private Redis with AOF, local storage or, with s3, an s3rver in this process).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { spawnNode, startCluster, type Cluster, type Exit } from '../harness/cluster.js';
import { modelDir } from '../harness/fixtures.js';
import { startS3Server, type TestS3Server } from '../harness/s3-server.js';

export type Mode = 'embedded' | 'distributed';
export type FaultKind = 'none' | 'kill-worker' | 'redis-restart' | 's3-outage';

export interface SpikeServers {
  url: string;
  /** Every pixveil process now running (RSS is summed over them). */
  pids(): number[];
  /** URLs whose /metrics count finished jobs (worker or serve nodes still alive). */
  metricUrls(): string[];
  /** Finish events from Redis pub/sub, per job id (distributed mode only). */
  finishEvents?: Map<string, number>;
  /** Injects the fault; resolves when it is over (the outage lasted `seconds`). */
  fault(kind: FaultKind, seconds: number, restartWorker: boolean): Promise<string>;
  logs(): string;
  close(): Promise<void>;
}

export interface ServerOptions {
  mode: Mode;
  s3: boolean;
  env: Record<string, string>;
  workers: number;
}

const BASE_ENV = {
  MODEL_DIR: modelDir,
  MODEL_PULL_ON_START: 'false',
  RATE_LIMIT_PER_MINUTE: '0',
  MAX_CONCURRENT_UPLOADS: '512',
  LOG_LEVEL: 'warn',
};

function s3Env(s3: TestS3Server): Record<string, string> {
  return {
    S3_BUCKET: s3.bucket,
    S3_ENDPOINT: s3.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
  };
}

async function s3Outage(s3: TestS3Server | undefined, seconds: number): Promise<string> {
  if (!s3) throw new Error('--fault=s3-outage needs --s3');
  s3.inject({ match: () => true, status: 503, code: 'ServiceUnavailable', times: Infinity });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  s3.clearFaults();
  return `s3rver answered every request with 503 ServiceUnavailable for ${seconds} s`;
}

async function startEmbedded(options: ServerOptions, s3?: TestS3Server): Promise<SpikeServers> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-spike-'));
  const node = await spawnNode('serve', { ...BASE_ENV, DATA_DIR: dataDir, ...(s3 ? s3Env(s3) : {}), ...options.env }, 120_000);
  const { url } = node;
  return {
    url,
    pids: () => (node.child.exitCode === null ? [node.pid] : []),
    metricUrls: () => [url],
    async fault(kind, seconds) {
      if (kind === 's3-outage') return s3Outage(s3, seconds);
      throw new Error(`--fault=${kind} needs --mode=distributed (embedded mode keeps its queue in the one process)`);
    },
    logs: () => node.output().slice(-4000),
    async close() {
      await node.stop(20_000);
      await s3?.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function subscribeFinishes(cluster: Cluster): Promise<{ events: Map<string, number>; close: () => void }> {
  const events = new Map<string, number>();
  const sub = new Redis(cluster.redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 200 });
  sub.on('error', () => {});
  sub.on('message', (_channel: string, message: string) => {
    try {
      const fields = JSON.parse(message) as { job?: string };
      const id = fields.job ? (JSON.parse(fields.job) as { id?: string }).id : undefined;
      if (id) events.set(id, (events.get(id) ?? 0) + 1);
    } catch {
      // Not ours to judge: only the count per id matters.
    }
  });
  await sub.subscribe(cluster.keys.finishedChannel);
  return { events, close: () => sub.disconnect() };
}

async function startDistributed(options: ServerOptions, s3?: TestS3Server): Promise<SpikeServers> {
  const cluster = await startCluster({ workers: options.workers, aof: true, env: { ...BASE_ENV, ...(s3 ? s3Env(s3) : {}), ...options.env } });
  const finishes = await subscribeFinishes(cluster).catch(async (err) => {
    await cluster.close();
    throw err;
  });
  const exits: Array<Promise<Exit>> = [];
  return {
    url: cluster.api.url,
    pids: () => [cluster.api, ...cluster.workers].filter((n) => n.child.exitCode === null && n.child.signalCode === null).map((n) => n.pid),
    metricUrls: () => cluster.workers.filter((n) => n.child.exitCode === null && n.child.signalCode === null).map((n) => n.url),
    finishEvents: finishes.events,
    async fault(kind, seconds, restartWorker) {
      if (kind === 's3-outage') return s3Outage(s3, seconds);
      if (kind === 'redis-restart') {
        await cluster.redis.stop();
        await new Promise((r) => setTimeout(r, seconds * 1000));
        await cluster.redis.start();
        return `redis-server stopped (SIGTERM, AOF appendfsync always) and started again after ${seconds} s`;
      }
      if (kind === 'kill-worker') {
        const victim = cluster.workers[0];
        victim.child.kill('SIGKILL');
        exits.push(victim.exited);
        await victim.exited;
        await new Promise((r) => setTimeout(r, seconds * 1000));
        if (!restartWorker) return `worker pid ${victim.pid} killed with SIGKILL, not restarted`;
        const fresh = await cluster.startWorker();
        return `worker pid ${victim.pid} killed with SIGKILL; a new worker (pid ${fresh.pid}) started ${seconds} s later`;
      }
      return 'no fault';
    },
    logs: () => cluster.logs(),
    async close() {
      finishes.close();
      await Promise.all([cluster.api, ...cluster.workers].map((n) => n.stop(20_000)));
      await cluster.close();
      await s3?.stop();
    },
  };
}

export async function startSpikeServers(options: ServerOptions): Promise<SpikeServers> {
  const s3 = options.s3 ? await startS3Server() : undefined;
  try {
    return options.mode === 'embedded' ? await startEmbedded(options, s3) : await startDistributed(options, s3);
  } catch (err) {
    await s3?.stop();
    throw err;
  }
}

/** Resident set size of a process in bytes (0 once it is gone). */
export function rssOf(pid: number): number {
  try {
    const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
