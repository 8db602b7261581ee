// S3 store against a local s3rver: client memory while uploading one 50 MB object,
// and per-object latency for 200 KB objects.
// Run: node --import tsx bench/s3-store.ts
// s3rver runs in a child process so the RSS measured here is the client's alone.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { S3ObjectStore } from '../src/storage/s3.js';
import { storageKeys } from '../src/storage/keys.js';
import { startS3Server } from '../harness/s3-server.js';

interface ServerInfo {
  endpoint: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

const MB = 1024 * 1024;
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
let seq = 0;
const jobId = () => `bench${String(seq++).padStart(12, '0')}`;

async function serve(): Promise<void> {
  const s3 = await startS3Server();
  const info: ServerInfo = { endpoint: s3.endpoint, bucket: s3.bucket, credentials: s3.credentials };
  process.send!(info);
  process.on('message', () => void s3.stop().then(() => process.exit(0)));
}

async function startServerProcess() {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const info = await new Promise<ServerInfo>((resolve, reject) => {
    child.once('message', (m) => resolve(m as ServerInfo));
    child.once('exit', (code) => reject(new Error(`s3rver process exited with ${code}`)));
  });
  const stop = () => new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.send('stop');
  });
  return { info, stop };
}

/** Samples RSS every 5 ms while fn runs; returns the highest value seen. */
async function peakRss(fn: () => Promise<void>): Promise<number> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage.rss());
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const { info, stop } = await startServerProcess();
  const config = loadConfig({ S3_BUCKET: info.bucket, S3_ENDPOINT: info.endpoint, S3_FORCE_PATH_STYLE: 'true' });
  const store = await S3ObjectStore.fromConfig(config, { credentials: info.credentials });
  try {
    const small = randomBytes(200 * 1024);
    for (let i = 0; i < 10; i++) await store.put(storageKeys.processed(jobId(), 'jpg', 1), small, 'image/jpeg');

    const beforeAlloc = process.memoryUsage.rss();
    const big = randomBytes(50 * MB);
    const beforeUpload = process.memoryUsage.rss();
    const started = performance.now();
    const peak = await peakRss(() => store.put(storageKeys.original(jobId(), 'png'), big, 'image/png'));
    const uploadMs = performance.now() - started;
    console.log(`50 MB multipart upload (threshold ${mb(config.s3MultipartThresholdBytes)}, ${config.s3PartConcurrency} parts in flight): ${uploadMs.toFixed(0)} ms`);
    console.log(`  RSS before allocating the body ${mb(beforeAlloc)}, before upload ${mb(beforeUpload)}, peak during upload ${mb(peak)} (+${mb(peak - beforeUpload)} over the body)`);

    const latencies: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await store.put(storageKeys.processed(jobId(), 'jpg', 1), small, 'image/jpeg');
      latencies.push(performance.now() - t0);
    }
    latencies.sort((a, b) => a - b);
    const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
    console.log(`200 KB PutObject x200, one at a time: mean ${mean.toFixed(2)} ms, p50 ${percentile(latencies, 50).toFixed(2)} ms, p95 ${percentile(latencies, 95).toFixed(2)} ms`);
  } finally {
    await store.close();
    await stop();
  }
}

if (process.argv.includes('--serve')) await serve();
else await main();
