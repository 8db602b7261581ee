// `npm run bench:spike`: an open-loop spike against a real pixveil. Real 1080p photos are offered
// at a fixed rate (100/s for 30 s, then 10/s for 30 s by default) whatever the server answers;
// each offered image is a virtual client that honours Retry-After (at least; exponential backoff
// capped at --max-backoff when refused again; plus up to 50% jitter) within a retry budget. Every accepted job is followed to its stored result, then everything is accounted
// for: accepted first time or after retries, refused for good, completed, lost, duplicated,
// latency from first attempt to stored result, server RSS peak, 5xx. Optional faults mid-spike.
// Writes bench/results/spike-<mode>[-<fault>].json. Flags: see `usage` below.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src/paths.js';
import { buildCorpus } from './corpus.js';
import { rssOf, startSpikeServers, type FaultKind, type Mode } from './spike-servers.js';

const usage = `npm run bench:spike -- [--mode=embedded|distributed] [--s3] [--rate=100] [--seconds=30]
  [--rate-after=10] [--seconds-after=30] [--retry-budget=12] [--max-backoff=30] [--drain-timeout=240] [--slo=60]
  [--fault=none|kill-worker|redis-restart|s3-outage] [--fault-at=15] [--fault-seconds=10]
  [--worker-restart=yes|no] [--workers=2] [--threads=N] [--out=FILE]`;

const { values: flags } = parseArgs({
  options: {
    mode: { type: 'string', default: 'embedded' },
    s3: { type: 'boolean', default: false },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '30' },
    'rate-after': { type: 'string', default: '10' },
    'seconds-after': { type: 'string', default: '30' },
    'retry-budget': { type: 'string', default: '12' },
    'max-backoff': { type: 'string', default: '30' },
    'drain-timeout': { type: 'string', default: '240' },
    slo: { type: 'string', default: '60' },
    fault: { type: 'string', default: 'none' },
    'fault-at': { type: 'string', default: '15' },
    'fault-seconds': { type: 'string', default: '10' },
    'worker-restart': { type: 'string', default: 'yes' },
    workers: { type: 'string', default: '2' },
    threads: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(usage);
  process.exit(0);
}
const num = (name: keyof typeof flags) => {
  const v = Number(flags[name]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a number ≥ 0\n${usage}`);
  return v;
};
const mode = flags.mode as Mode;
const fault = flags.fault as FaultKind;
if (!['embedded', 'distributed'].includes(mode)) throw new Error(`--mode must be embedded or distributed\n${usage}`);
if (!['none', 'kill-worker', 'redis-restart', 's3-outage'].includes(fault)) throw new Error(`unknown --fault ${fault}\n${usage}`);
const rate = num('rate');
const seconds = num('seconds');
const rateAfter = num('rate-after');
const secondsAfter = num('seconds-after');
const retryBudget = num('retry-budget');
const maxBackoffS = num('max-backoff');
const drainTimeoutS = num('drain-timeout');
const slo = num('slo');
const faultAt = num('fault-at');
const faultSeconds = num('fault-seconds');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const runId = crypto.randomBytes(4).toString('hex');

interface Offer {
  index: number;
  firstAttemptAt: number;
  /** When the attempt that got 202 was sent. */
  acceptedAttemptAt?: number;
  attempts: number;
  state: 'trying' | 'accepted' | 'refused';
  jobId?: string;
  /** Server's created_at, started_at and finished_at (ms) when first seen finished; its status then. */
  createdAt?: number;
  startedAt?: number;
  finishedAt?: number;
  finalStatus?: string;
}

const statusCounts = new Map<string, number>();
const count = (key: string) => statusCounts.set(key, (statusCounts.get(key) ?? 0) + 1);
let refusedWithoutRetryAfter = 0;
let fiveXX = 0;
/** 5xx answers to the bench's own status polls (GET /v1/jobs/:id?wait=), apart from uploads. */
let poll5xx = 0;
let networkErrors = 0;

async function main() {
  const env: Record<string, string> = { LATENCY_SLO_SECONDS: String(slo) };
  if (flags.threads) env.POOL_THREADS = flags.threads;
  console.log(`spike ${runId}: mode=${mode}${flags.s3 ? ' +s3rver' : ''} fault=${fault}; ${rate}/s for ${seconds} s, then ${rateAfter}/s for ${secondsAfter} s; retry budget ${retryBudget}, drain timeout ${drainTimeoutS} s, SLO ${slo} s`);
  const corpus = await buildCorpus(1920, 1080, '1080p');
  const servers = await startSpikeServers({ mode, s3: flags.s3, env, workers: num('workers') });
  const url = servers.url;
  let rssPeak = 0;
  const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, servers.pids().reduce((s, pid) => s + rssOf(pid), 0))), 250);

  // What admission believed, every 2 s: to compare its predicted wait with the waits that followed.
  const admissionSamples: Array<{ t: number; predicted_wait_s: number | null; drain_rate: number; source: string; backlog: number }> = [];
  const admissionTimer = setInterval(() => {
    void fetch(`${url}/v1/queue`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.json())
      .then((q: { admission?: { predicted_wait_seconds: number | null; drain_rate_per_second: number; drain_rate_source: string; backlog: number } }) => {
        if (q.admission) admissionSamples.push({ t: Math.round((Date.now() - start) / 1000), predicted_wait_s: q.admission.predicted_wait_seconds, drain_rate: q.admission.drain_rate_per_second, source: q.admission.drain_rate_source, backlog: q.admission.backlog });
      })
      .catch(() => {});
  }, 2000);

  const offers: Offer[] = [];
  const start = Date.now();
  const offerEnd = start + (seconds + secondsAfter) * 1000;
  const deadline = offerEnd + drainTimeoutS * 1000;
  // Clients stop retrying early enough that what they get accepted can still finish in time.
  const retryUntil = deadline - slo * 1000;

  const attempt = async (offer: Offer): Promise<void> => {
    for (;;) {
      offer.attempts++;
      const key = `spike-${runId}-${offer.index}`;
      let status = 0;
      let retryAfter: string | null = null;
      let body: { job_id?: string; error?: { code?: string } } = {};
      const sentAt = Date.now();
      try {
        const image = corpus.images[offer.index % corpus.images.length];
        const res = await fetch(`${url}/v1/images`, { method: 'POST', body: new Uint8Array(image), headers: { 'content-type': 'image/jpeg', 'idempotency-key': key }, signal: AbortSignal.timeout(30_000) });
        status = res.status;
        retryAfter = res.headers.get('retry-after');
        body = (await res.json().catch(() => ({}))) as typeof body;
      } catch (err) {
        networkErrors++;
        const e = err as { name?: string; cause?: { code?: string } };
        count(`network ${e.cause?.code ?? e.name ?? 'error'}`);
        status = -1;
      }
      if (status === -1) status = 0;
      else count(`${status}${body.error?.code ? ` ${body.error.code}` : ''}`);
      if (status === 202 && body.job_id) {
        offer.state = 'accepted';
        offer.acceptedAttemptAt = sentAt;
        offer.jobId = body.job_id;
        watch.push(offer);
        return;
      }
      if (status >= 500) fiveXX++;
      const retryable = status === 0 || status === 429 || status === 503 || status === 409;
      if ((status === 429 || status === 503) && retryAfter === null) refusedWithoutRetryAfter++;
      // Retry-After is the least wait; a client refused again backs off exponentially (capped), so
      // thousands of refused clients do not all come back every second.
      const waitS = Math.max(Number(retryAfter ?? 1) || 1, Math.min(maxBackoffS, 2 ** (offer.attempts - 1)));
      const next = Date.now() + waitS * 1000 * (1 + Math.random() * 0.5);
      if (!retryable || offer.attempts >= retryBudget || next > retryUntil) {
        offer.state = 'refused';
        return;
      }
      await sleep(next - Date.now());
    }
  };

  // Follows accepted jobs with ?wait= long polls until they finish (32 at a time, oldest first).
  const watch: Offer[] = [];
  let watching = true;
  const follow = async () => {
    while (watching) {
      const offer = watch.shift();
      if (!offer) {
        await sleep(200);
        continue;
      }
      try {
        const res = await fetch(`${url}/v1/jobs/${offer.jobId}?wait=10s`, { signal: AbortSignal.timeout(20_000) });
        if (res.status >= 500) poll5xx++;
        const job = (await res.json().catch(() => ({}))) as { status?: string; created_at?: string; started_at?: string; finished_at?: string };
        if (job.status === 'completed' || job.status === 'failed') {
          offer.createdAt = Date.parse(job.created_at!);
          offer.startedAt = Date.parse(job.started_at!);
          offer.finishedAt = Date.parse(job.finished_at!);
          offer.finalStatus = job.status;
          continue;
        }
        if (res.status !== 200) await sleep(500);
      } catch {
        await sleep(500);
      }
      watch.push(offer);
    }
  };
  const followers = Array.from({ length: 32 }, follow);

  const faultRun = fault === 'none' ? undefined : sleep(faultAt * 1000).then(() => servers.fault(fault, faultSeconds, flags['worker-restart'] !== 'no'));
  let faultNote = 'none';
  void faultRun?.then((note) => (faultNote = note), (err: Error) => (faultNote = `fault failed: ${err.message}`));

  // Open loop: the schedule, not the answers, decides when the next image is offered.
  const tries: Array<Promise<void>> = [];
  const phases = [
    { rate, until: start + seconds * 1000, from: start },
    { rate: rateAfter, until: offerEnd, from: start + seconds * 1000 },
  ];
  for (const phase of phases) {
    if (phase.rate <= 0) continue;
    for (let i = 0; ; i++) {
      const at = phase.from + (i * 1000) / phase.rate;
      if (at >= phase.until) break;
      await sleep(at - Date.now());
      const offer: Offer = { index: offers.length, firstAttemptAt: Date.now(), attempts: 0, state: 'trying' };
      offers.push(offer);
      tries.push(attempt(offer));
    }
  }
  console.log(`offered ${offers.length} in ${((Date.now() - start) / 1000).toFixed(1)} s; draining`);
  await faultRun?.catch(() => {});
  await Promise.all(tries);
  while (Date.now() < deadline && offers.some((o) => o.state === 'accepted' && o.finishedAt === undefined)) await sleep(500);
  watching = false;
  await Promise.all(followers);
  const drainedAt = Date.now();
  clearInterval(rssTimer);
  clearInterval(admissionTimer);

  // Final records: a job whose finished_at changed after we first saw it was finished twice.
  let rewritten = 0;
  const finishedOffers = offers.filter((o) => o.finishedAt !== undefined);
  for (let i = 0; i < finishedOffers.length; i += 32) {
    await Promise.all(
      finishedOffers.slice(i, i + 32).map(async (o) => {
        const job = (await fetch(`${url}/v1/jobs/${o.jobId}`).then((r) => r.json(), () => ({}))) as { finished_at?: string };
        if (job.finished_at && Date.parse(job.finished_at) !== o.finishedAt) rewritten++;
      }),
    );
  }
  let metricFinishes = 0;
  for (const u of servers.metricUrls()) {
    const text = await fetch(`${u}/metrics`).then((r) => r.text(), () => '');
    for (const line of text.split('\n')) if (line.startsWith('pixveil_jobs_finished_total{')) metricFinishes += Number(line.split(' ').pop());
  }
  const events = servers.finishEvents;
  const duplicateEvents = events ? [...events.values()].filter((n) => n > 1).length : 0;
  const ids = new Set(offers.filter((o) => o.jobId).map((o) => o.jobId));
  const uniqueAccepted = ids.size;

  const accepted = offers.filter((o) => o.state === 'accepted');
  const done = accepted.filter((o) => o.finalStatus === 'completed');
  const latencies = done.map((o) => (o.finishedAt! - o.firstAttemptAt) / 1000).sort((a, b) => a - b);
  const admitted = done.map((o) => (o.finishedAt! - o.acceptedAttemptAt!) / 1000).sort((a, b) => a - b);
  const firstTime = done.filter((o) => o.attempts === 1).map((o) => (o.finishedAt! - o.firstAttemptAt) / 1000).sort((a, b) => a - b);
  const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
  const uploadS = sorted(done.map((o) => (o.createdAt! - o.acceptedAttemptAt!) / 1000));
  const queueS = sorted(done.map((o) => (o.startedAt! - o.createdAt!) / 1000));
  const processS = sorted(done.map((o) => (o.finishedAt! - o.startedAt!) / 1000));
  const summary = (xs: number[]) => {
    const at = (p: number) => (xs.length ? Math.round(xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] * 10) / 10 : null);
    return { p50: at(50), p95: at(95), p99: at(99), max: at(100) };
  };
  const result = {
    run: runId,
    mode,
    s3: flags.s3,
    fault,
    fault_note: faultNote,
    schedule: { rate, seconds, rate_after: rateAfter, seconds_after: secondsAfter, retry_budget: retryBudget, max_backoff_s: maxBackoffS, drain_timeout_s: drainTimeoutS, slo_s: slo },
    offered: offers.length,
    accepted_first_time: accepted.filter((o) => o.attempts === 1).length,
    accepted_after_retries: accepted.filter((o) => o.attempts > 1).length,
    refused_for_good: offers.filter((o) => o.state === 'refused').length,
    completed: accepted.filter((o) => o.finalStatus === 'completed').length,
    failed: accepted.filter((o) => o.finalStatus === 'failed').length,
    lost: accepted.filter((o) => o.finishedAt === undefined).length,
    duplicated: {
      jobs_for_one_offer: accepted.length - uniqueAccepted,
      finish_events_more_than_once: events ? duplicateEvents : null,
      records_rewritten: rewritten,
      metric_finishes_minus_jobs: servers.metricUrls().length > 0 ? metricFinishes - accepted.filter((o) => o.finishedAt !== undefined).length : null,
    },
    /** First attempt (retries included) to stored result: what the issue asks for. */
    latency_s: summary(latencies),
    /** The attempt that got 202 to stored result: what admission bounds by LATENCY_SLO_SECONDS. */
    latency_from_accept_s: summary(admitted),
    latency_first_time_accepted_s: summary(firstTime),
    /** The accepted attempt split up: request sent → job created (upload), → started (queue), → finished. */
    upload_s: summary(uploadS),
    queue_wait_s: summary(queueS),
    processing_s: summary(processS),
    admission_samples: admissionSamples,
    server_rss_peak_mb: Math.round(rssPeak / 1024 / 1024),
    upload_5xx: fiveXX,
    status_poll_5xx: poll5xx,
    network_errors: networkErrors,
    refused_without_retry_after: refusedWithoutRetryAfter,
    answers: Object.fromEntries([...statusCounts.entries()].sort()),
    wall_seconds: Math.round((drainedAt - start) / 1000),
    drained_within_timeout: drainedAt < deadline,
  };
  await servers.close();
  console.log(JSON.stringify(result, null, 2));
  const out = flags.out ?? path.join(packageRoot, 'bench', 'results', `spike-${mode}${fault === 'none' ? '' : `-${fault}`}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
  if (result.lost > 0 && servers.logs()) console.log(servers.logs());
}

await main();
