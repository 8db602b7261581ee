// Distributed-mode throughput: one `pixveil api` process and 1 or 2 `pixveil worker` processes
// (WORKERS=1 each) on a private redis-server, fed 1080p JPEGs made from the real test photos.
// Also the queue's own overhead: enqueue → claim (job startedAt - createdAt) with idle workers.
// Run: npx tsc -p . && node dist/bench/distributed.js [jobs=200] [workerCounts=1,2]
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import sharp from 'sharp';
import { facesDir, platesDir, readFixture } from '../harness/fixtures.js';
import { postImage, startCluster, uploadMany, waitForAll } from '../harness/cluster.js';

const jobs = Number(process.argv[2] ?? 200);
const workerCounts = (process.argv[3] ?? '1,2').split(',').map(Number);
const IDLE_SAMPLES = 30;

async function photos1080p(): Promise<Buffer[]> {
  const files = [...fs.readdirSync(facesDir).map((f) => path.join(facesDir, f)), ...fs.readdirSync(platesDir).map((f) => path.join(platesDir, f))];
  return Promise.all(files.map((file) => sharp(readFixture(file)).rotate().resize(1920, 1080, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer()));
}

function percentiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p95: at(0.95), mean: sorted.reduce((s, x) => s + x, 0) / sorted.length };
}

const ms = (iso: string) => Date.parse(iso);

interface Row {
  workers: number;
  seconds: number;
  imagesPerSecond: number;
  latencyP50: number;
  latencyP95: number;
  queueWaitP50: number;
  idleClaimP50: number;
  idleClaimP95: number;
  idleClaimMean: number;
}

async function measure(workers: number, images: Buffer[]): Promise<Row> {
  const cluster = await startCluster({ workers });
  try {
    // Warm-up and idle overhead: one job at a time, so every worker waits in XREADGROUP when it arrives.
    const idle: number[] = [];
    for (let i = 0; i < IDLE_SAMPLES; i++) {
      const { id } = await postImage(cluster.api.url, images[i % images.length]);
      const [job] = (await waitForAll(cluster.api.url, [id!], 30_000)).values();
      if (i >= 5) idle.push(ms(job.started_at) - ms(job.created_at));
    }

    const started = Date.now();
    const ids = await uploadMany(cluster.api.url, images, jobs, 8);
    const done = [...(await waitForAll(cluster.api.url, ids, 600_000)).values()];
    const failed = done.filter((j) => j.status !== 'completed');
    if (failed.length > 0) throw new Error(`${failed.length} jobs failed: ${JSON.stringify(failed[0].error)}`);
    const first = Math.min(...done.map((j) => ms(j.created_at)));
    const last = Math.max(...done.map((j) => ms(j.finished_at)));
    const seconds = (last - Math.min(first, started)) / 1000;
    const latency = percentiles(done.map((j) => ms(j.finished_at) - ms(j.created_at)));
    const wait = percentiles(done.map((j) => ms(j.started_at) - ms(j.created_at)));
    const idleStats = percentiles(idle);
    return {
      workers,
      seconds,
      imagesPerSecond: jobs / seconds,
      latencyP50: latency.p50,
      latencyP95: latency.p95,
      queueWaitP50: wait.p50,
      idleClaimP50: idleStats.p50,
      idleClaimP95: idleStats.p95,
      idleClaimMean: idleStats.mean,
    };
  } finally {
    await cluster.close();
  }
}

const images = await photos1080p();
console.log(`${jobs} uploads of 1920x1080 JPEGs (${images.length} real photos, ~${Math.round(images.reduce((s, b) => s + b.length, 0) / images.length / 1024)} KB each), 8 concurrent; ${os.availableParallelism()} cores; one api process, WORKERS=1 per worker process`);
const rows: Row[] = [];
for (const n of workerCounts) rows.push(await measure(n, images));

const base = rows[0].imagesPerSecond;
console.log('\nworkers  seconds  images/s  speed-up  latency p50/p95 ms  queue wait p50 ms (under load)  enqueue→claim idle p50/p95/mean ms');
for (const r of rows) {
  console.log(
    `${String(r.workers).padStart(7)}  ${r.seconds.toFixed(1).padStart(7)}  ${r.imagesPerSecond.toFixed(2).padStart(8)}  ${(r.imagesPerSecond / base).toFixed(2).padStart(7)}x  ` +
      `${`${r.latencyP50.toFixed(0)}/${r.latencyP95.toFixed(0)}`.padStart(18)}  ${r.queueWaitP50.toFixed(0).padStart(30)}  ${`${r.idleClaimP50.toFixed(1)}/${r.idleClaimP95.toFixed(1)}/${r.idleClaimMean.toFixed(1)}`.padStart(33)}`,
  );
}
console.log('\nenqueue→claim idle: job created (API, before the original is stored) to attempt started (start script on Redis), one job at a time with idle workers blocked in XREADGROUP.');
