import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../src/paths.js';
import { freePort } from '../harness/free-port.js';
import { startCpuSplit, type CpuSplit } from './thread-cpu.js';

/** bin/threadpool.cjs's rule (CommonJS: the entry point needs it before any ES module loads). */
const { threadpoolSize: serverThreadpoolSize } = createRequire(import.meta.url)(path.join(packageRoot, 'bin', 'threadpool.cjs')) as { threadpoolSize(env: NodeJS.ProcessEnv): number };

export function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
}

/**
 * One request over a kept-alive connection, its body as JSON. node:http rather than fetch: the load
 * generator shares the machine's cores with the server, and fetch cost ~17 ms of CPU per image here.
 */
function request(agent: http.Agent, port: number, method: string, pathname: string, body?: Buffer): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: pathname, agent, headers: body ? { 'content-type': 'image/jpeg', 'content-length': body.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        try {
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) });
        } catch {
          reject(new Error(`${method} ${pathname} answered ${res.statusCode}: ${text.slice(0, 200)}`));
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * End to end: a real `pixveil serve` process, a client keeping `inFlight` uploads going until
 * `count` images are accepted, then waiting until every result is stored.
 */
export async function httpLoad(images: Buffer[], count: number, inFlight: number, env: Record<string, string>) {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-bench-'));
  // BENCH_SERVER_NODE_ARGS: node flags for the server only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (not allowed in NODE_OPTIONS).
  // The server runs with the threadpool size its entry point sets (bin/threadpool.cjs), passed on
  // explicitly so the CPU split below counts the same libuv threads.
  const uvThreads = serverThreadpoolSize({ ...process.env, ...env });
  const child = spawn(process.execPath, [...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []), path.join(packageRoot, 'bin', 'pixveil.cjs'), 'serve'], {
    env: { ...process.env, ...env, UV_THREADPOOL_SIZE: String(uvThreads), PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', MAX_QUEUE_SIZE: '100000', LATENCY_SLO_SECONDS: '0' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      if (await fetch(`${url}/v1/ready`).then((r) => r.ok, () => false)) break;
      if (i > 600) throw new Error('server did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    const latencies: number[] = [];
    const stageTotals: Record<string, number> = {};
    let next = 0;
    let failed = 0;
    // The server's threads and this process (the load generator shares the machine's cores).
    const serverSplit = startCpuSplit(child.pid!, uvThreads);
    const clientCpu = process.cpuUsage();
    const start = performance.now();
    const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight * 2 });
    const client = async () => {
      while (next < count) {
        const image = images[next++ % images.length];
        const res = await request(agent, port, 'POST', '/v1/images', image);
        if (res.status !== 202) throw new Error(`upload answered ${res.status}: ${JSON.stringify(res.json)}`);
        const { job_id } = res.json;
        for (;;) {
          const { json: job } = await request(agent, port, 'GET', `/v1/jobs/${job_id}?wait=30s`);
          if (job.status === 'completed') {
            latencies.push(job.result.total_ms);
            for (const [stage, ms] of Object.entries(job.result.timings_ms as Record<string, number>)) stageTotals[stage] = (stageTotals[stage] ?? 0) + ms;
            break;
          }
          if (job.status === 'failed') {
            failed++;
            break;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: inFlight }, client));
    const seconds = (performance.now() - start) / 1000;
    agent.destroy();
    const server: CpuSplit = serverSplit.finish(count);
    const used = process.cpuUsage(clientCpu);
    latencies.sort((a, b) => a - b);
    return {
      images: count,
      failed,
      in_flight: inFlight,
      seconds: Math.round(seconds * 100) / 100,
      images_per_second: Math.round((count / seconds) * 100) / 100,
      latency_ms: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) },
      /** Per-job timings the server recorded (queue wait, fetch of the original, pipeline stages, stores), means in ms. */
      job_timing_means_ms: Object.fromEntries(Object.entries(stageTotals).map(([stage, ms]) => [stage, Math.round((ms / Math.max(1, latencies.length)) * 10) / 10])),
      server_cpu: server,
      client_cpu_ms_per_image: Math.round(((used.user + used.system) / 1000 / count) * 100) / 100,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
