import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../src/paths.js';
import { freePort } from '../test/helpers/free-port.js';


export function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
}

/**
 * End to end: a real `pixveil serve` process, a client keeping `inFlight` uploads going until
 * `count` images are accepted, then waiting until every result is stored.
 */
export async function httpLoad(images: Buffer[], count: number, inFlight: number, env: Record<string, string>) {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-bench-'));
  const child = spawn(process.execPath, [path.join(packageRoot, 'dist', 'src', 'cli.js'), 'serve'], {
    env: { ...process.env, ...env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', MAX_QUEUE_SIZE: '100000' },
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
    let next = 0;
    let failed = 0;
    const start = performance.now();
    const client = async () => {
      while (next < count) {
        const image = images[next++ % images.length];
        const res = await fetch(`${url}/v1/images`, { method: 'POST', body: new Uint8Array(image), headers: { 'content-type': 'image/jpeg' } });
        if (res.status !== 202) throw new Error(`upload answered ${res.status}: ${await res.text()}`);
        const { job_id } = await res.json();
        for (;;) {
          const job = await (await fetch(`${url}/v1/jobs/${job_id}?wait=30s`)).json();
          if (job.status === 'completed') {
            latencies.push(job.result.total_ms);
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
    latencies.sort((a, b) => a - b);
    return {
      images: count,
      failed,
      in_flight: inFlight,
      seconds: Math.round(seconds * 100) / 100,
      images_per_second: Math.round((count / seconds) * 100) / 100,
      latency_ms: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) },
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
