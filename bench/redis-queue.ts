// Enqueue → claim latency of RedisStreamQueue against a private local redis-server.
// Run: node --import tsx bench/redis-queue.ts [jobs]
import { RedisStreamQueue } from '../src/queue/redis-streams.js';
import { makeJob, makeResult, randomQueueOptions, startRedisServer } from '../harness/redis-server.js';

function summarize(label: string, samples: number[]): void {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const mean = sorted.reduce((sum, x) => sum + x, 0) / sorted.length;
  console.log(`${label.padEnd(34)} n=${sorted.length}  mean ${mean.toFixed(3)} ms  p50 ${at(0.5).toFixed(3)}  p95 ${at(0.95).toFixed(3)}  p99 ${at(0.99).toFixed(3)}  max ${sorted.at(-1)!.toFixed(3)}`);
}

const jobs = Number(process.argv[2] ?? 500);
const server = await startRedisServer();
const options = randomQueueOptions(server.url, { maxQueueSize: jobs + 10 });
const api = await RedisStreamQueue.connect(options);
const worker = await RedisStreamQueue.connect(options);

try {
  // Warm-up: script loading (EVALSHA NOSCRIPT fallback), connections.
  for (let i = 0; i < 20; i++) {
    const job = makeJob();
    await api.enqueue(job);
    const [claimed] = await worker.claim(1, 1000);
    await worker.complete(claimed.id, makeResult(claimed.id));
  }

  // A worker blocked in XREADGROUP; each job is enqueued only after the previous one was claimed.
  const enqueueMs: number[] = [];
  const latencyMs: number[] = [];
  const completeMs: number[] = [];
  for (let i = 0; i < jobs; i++) {
    const job = makeJob();
    const claiming = worker.claim(1, 5000);
    await new Promise((resolve) => setImmediate(resolve));
    const t0 = performance.now();
    await api.enqueue(job);
    const t1 = performance.now();
    const [claimed] = await claiming;
    const t2 = performance.now();
    if (claimed?.id !== job.id) throw new Error('claimed the wrong job');
    await worker.complete(claimed.id, makeResult(claimed.id));
    const t3 = performance.now();
    enqueueMs.push(t1 - t0);
    latencyMs.push(t2 - t0);
    completeMs.push(t3 - t2);
  }
  summarize('enqueue (call → resolved)', enqueueMs);
  summarize('enqueue → claim (blocked worker)', latencyMs);
  summarize('complete', completeMs);

  // Throughput: enqueue a burst, then drain it in batches of 16.
  const burst = Array.from({ length: jobs }, () => makeJob());
  let t0 = performance.now();
  await Promise.all(burst.map((job) => api.enqueue(job)));
  const enqueueSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  let drained = 0;
  while (drained < jobs) {
    const batch = await worker.claim(16, 100);
    await Promise.all(batch.map((job) => worker.complete(job.id, makeResult(job.id))));
    drained += batch.length;
  }
  const drainSeconds = (performance.now() - t0) / 1000;
  console.log(`burst of ${jobs}: enqueue ${(jobs / enqueueSeconds).toFixed(0)} jobs/s (concurrent), claim+complete ${(jobs / drainSeconds).toFixed(0)} jobs/s (batches of 16, one worker)`);
} finally {
  await api.close();
  await worker.close();
  await server.destroy();
}
