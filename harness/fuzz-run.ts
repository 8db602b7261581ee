import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../src/paths.js';
import { spawnNode, type Exit } from './cluster.js';
import { darknetDir, facesDir, modelDir, platesDir, readFixture } from './fixtures.js';
import { headerLieBurst, headerLies, type HeaderLie } from './fuzz-header-lies.js';
import { extremeShapes, mutateImage, seedImages, type SeedImage } from './fuzz-images.js';
import { protocolCase, type Observation, type ProtocolLimits } from './fuzz-protocol.js';
import { seededRandom } from './hostile-files.js';
import { wsMessages } from './raw-exchange.js';

// Issue 16's hostile-input run: seeded image mutations through the HTTP API and protocol garbage
// on raw sockets, against one real `pixveil serve` process. Used by bench/fuzz.ts (10,000 cases)
// and by test/integration/fuzz-service.test.ts (a few hundred).

const MiB = 1024 * 1024;

/** The fuzz server's limits: small enough that over-limit bodies are cheap to send. */
export const FUZZ_SERVER_ENV = Object.freeze({
  POOL_THREADS: '2',
  RATE_LIMIT_PER_MINUTE: '0',
  MAX_CONCURRENT_UPLOADS: '256',
  MAX_UPLOAD_BYTES: String(8 * MiB),
  MAX_BATCH_BYTES: String(16 * MiB),
  UPLOAD_BUDGET_BYTES: String(128 * MiB),
  MAX_PIXELS: '20000000',
  BODY_TIMEOUT_MS: '3000',
  KEEP_ORIGINALS: 'false',
  JOB_TTL_SECONDS: '300',
  LOG_LEVEL: 'warn',
});

/**
 * Peak RSS of the fuzz server (VmRSS in /proc/<pid>/status) must stay under this: README's
 * bound for an API node (≈ 400 MB + 2 × UPLOAD_BUDGET_BYTES = 656 MB) plus two pool threads'
 * models and images.
 */
export const RSS_BOUND_MIB = 1536;
/**
 * A leak check: RSS at the end may exceed RSS at the run's halfway point by at most this. (The
 * first half raises RSS to a plateau, the allocators' high-water mark of the largest bodies and
 * decodes; what keeps growing after that is held per request.)
 */
export const RSS_GROWTH_BOUND_MIB = 256;

export interface DocumentedCodes {
  /** HTTP error code → status, from the README's error paragraph. */
  http: Map<string, number>;
  /** Codes a job may end `failed` with. */
  job: Set<string>;
}

/** Reads the error table out of README.md, so the fuzz checks answers against what users are told. */
export function documentedCodes(readme = fs.readFileSync(path.join(packageRoot, 'README.md'), 'utf8')): DocumentedCodes {
  const start = readme.indexOf('Errors are JSON');
  const jobsAt = readme.indexOf('Jobs that cannot', start);
  const jobsEnd = readme.indexOf('\n\n', jobsAt);
  if (start < 0 || jobsAt < 0) throw new Error('README.md: error paragraph ("Errors are JSON … Jobs that cannot …") not found');
  // Parenthetical remarks name settings and headers, not codes: drop them first.
  const text = readme.slice(start, jobsAt).replace(/\([^)]*\)/g, ' ');
  const http = new Map<string, number>();
  let pending: string[] = [];
  for (const token of text.matchAll(/`([A-Z][A-Z_]+)`|\b([1-5]\d\d)\b/g)) {
    if (token[1]) pending.push(token[1]);
    else {
      for (const code of pending) http.set(code, Number(token[2]));
      pending = [];
    }
  }
  const job = new Set([...readme.slice(jobsAt, jobsEnd).replace(/\([^)]*\)/g, ' ').matchAll(/`([A-Z][A-Z_]+)`/g)].map((m) => m[1]));
  job.delete('MAX_ATTEMPTS');
  job.delete('STORAGE_ERROR');
  return { http, job };
}

export interface FuzzServer {
  url: string;
  port: number;
  pid: number;
  alive(): boolean;
  output(): string;
  exited: Promise<Exit>;
  rssMiB(): number;
  stop(): Promise<void>;
}

/** `pixveil serve` (embedded mode) as its own process, so its pid and RSS are its alone. */
export async function startFuzzServer(env: Record<string, string> = {}): Promise<FuzzServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-fuzz-'));
  const node = await spawnNode('serve', { MODEL_DIR: modelDir, MODEL_PULL_ON_START: 'false', DATA_DIR: dataDir, ...FUZZ_SERVER_ENV, ...env }, 120_000);
  const { url, port, pid } = node;
  let gone = false;
  void node.exited.then(() => (gone = true));
  return {
    url,
    port,
    pid,
    alive: () => !gone && fs.existsSync(`/proc/${pid}`),
    output: node.output,
    exited: node.exited,
    rssMiB: () => {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
    },
    async stop() {
      await node.stop(20_000);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Verdict {
  outcome: string;
  violation?: string;
}

/** An HTTP answer judged against the README: a documented code at its status, no 5xx but 503s. */
function judgeAnswer(docs: DocumentedCodes, status: number, body: string, mayClose: boolean, parserPage = false): Verdict {
  if (parserPage) {
    // uWS's own page for a request its parser refuses, then the close (README, "Errors").
    return { outcome: `parser-refused ${status}`, violation: mayClose && [400, 431, 505].includes(status) ? undefined : `uWS parser page ${status} for a well-formed request` };
  }
  let json: any;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  const code: string | undefined = json?.error?.code;
  if (code === undefined) {
    // Successes need no code (HEAD answers have no body); any other status must carry one.
    const ok = [101, 200, 202, 204, 302, 304].includes(status);
    return { outcome: String(status), violation: ok ? undefined : `status ${status} without a JSON error code: ${body.slice(0, 200)}` };
  }
  const outcome = `${status} ${code}`;
  if (docs.http.get(code) !== status) return { outcome, violation: `undocumented answer ${outcome}: ${json.error.message}` };
  if (status >= 500 && status !== 503) return { outcome, violation: `5xx answer ${outcome}: ${json.error.message}` };
  return { outcome };
}

function judgeObservation(docs: DocumentedCodes, o: Observation): Verdict {
  if (o.kind === 'http') {
    const r = o.outcome;
    if (r.kind === 'answer') return judgeAnswer(docs, r.status, r.body, o.mayClose, r.parserPage);
    if (r.kind === 'closed') return { outcome: 'closed', violation: o.mayClose ? undefined : 'connection closed without an answer' };
    return { outcome: 'timeout', violation: 'neither answered nor closed in time' };
  }
  const s = o.session;
  if (s.refused) {
    const r = s.refused;
    if (r.kind === 'answer') return judgeAnswer(docs, r.status, r.body, true, r.parserPage);
    return { outcome: `upgrade ${r.kind}`, violation: r.kind === 'timeout' ? 'upgrade neither answered nor closed in time' : undefined };
  }
  const messages = wsMessages(s.frames);
  for (const m of messages) {
    if (m.type === 'unparsable') return { outcome: 'ws:unparsable', violation: 'a text frame that is not JSON' };
    if (m.type === 'error') {
      const v = judgeAnswer(docs, m.status, JSON.stringify({ error: m.error }), false);
      if (v.violation) return { outcome: `ws:error ${v.outcome}`, violation: v.violation };
    }
    if (m.type === 'result' && m.status === 'failed' && !docs.job.has(m.error?.code)) return { outcome: `ws:result failed ${m.error?.code}`, violation: `job failed with an undocumented code: ${m.error?.message}` };
  }
  const result = messages.find((m) => m.type === 'result');
  if (result) return { outcome: `ws:result ${result.status === 'completed' ? 'completed' : `failed ${result.error?.code}`}` };
  const error = messages.find((m) => m.type === 'error');
  if (error) return { outcome: `ws:error ${error.error.code}` };
  if (s.closeCode !== undefined) {
    // 1011 is the server's own failure; the rest are protocol verdicts (1002, 1007, 1009) or ours (1013).
    return { outcome: `ws:close ${s.closeCode}`, violation: s.closeCode === 1011 ? 'WebSocket closed with 1011 (internal error)' : undefined };
  }
  if (s.closed) return { outcome: 'ws:closed' };
  return { outcome: messages.some((m) => m.type === 'ack') ? 'ws:ack' : 'ws:open' };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitJob(url: string, id: string, deadline: number): Promise<any> {
  for (;;) {
    const res = await fetch(`${url}/v1/jobs/${id}?wait=20s`, { signal: AbortSignal.timeout(30_000) });
    const body = await res.json();
    if (body.status === 'completed' || body.status === 'failed') return body;
    if (Date.now() > deadline) return undefined;
  }
}

const QUERIES = ['', '', '', '?detect=faces', '?detect=plates', '?detect=faces,plates&blur=pixelate', '?format=png', '?format=webp&quality=40', '?shape=ellipse&blur=solid', '?blur_classes=person,car'];

/** One mutated image through the API: raw body, multipart or batch; then the job's end. */
async function imageCase(url: string, docs: DocumentedCodes, data: Buffer, rand: () => number): Promise<Verdict> {
  const query = QUERIES[Math.floor(rand() * QUERIES.length)];
  const how = rand();
  let res: Response;
  try {
    if (how < 0.7) {
      res = await fetch(`${url}/v1/images${query}`, { method: 'POST', body: new Uint8Array(data), headers: { 'content-type': 'application/octet-stream' }, signal: AbortSignal.timeout(30_000) });
    } else {
      const form = new FormData();
      const batch = how >= 0.9;
      form.append(batch ? 'files' : 'file', new Blob([new Uint8Array(data)]), 'fuzz.bin');
      res = await fetch(`${url}${batch ? '/v1/images:batch' : '/v1/images'}${query}`, { method: 'POST', body: form, signal: AbortSignal.timeout(30_000) });
    }
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError';
    // A body over MAX_UPLOAD_BYTES is answered 413 and closed; fetch may see the close first.
    return { outcome: timedOut ? 'timeout' : 'closed', violation: timedOut ? 'upload not answered in 30 s' : data.length > 8 * MiB ? undefined : `connection closed: ${(err as Error).message}` };
  }
  const text = await res.text();
  if (res.status !== 202) return judgeAnswer(docs, res.status, text, false);
  const body = JSON.parse(text);
  const entries: any[] = body.jobs ?? [body];
  const verdicts: Verdict[] = [];
  for (const entry of entries) {
    if (!entry.job_id) {
      verdicts.push(judgeAnswer(docs, docs.http.get(entry.error?.code) ?? 0, JSON.stringify({ error: entry.error }), false));
      continue;
    }
    const job = await waitJob(url, entry.job_id, Date.now() + 120_000);
    if (!job) verdicts.push({ outcome: 'timeout', violation: `job ${entry.job_id} not finished after 120 s` });
    else if (job.status === 'completed') verdicts.push({ outcome: 'completed' });
    else verdicts.push({ outcome: `failed ${job.error?.code}`, violation: docs.job.has(job.error?.code) ? undefined : `job failed with an undocumented code ${job.error?.code}: ${job.error?.message}` });
  }
  return verdicts.find((v) => v.violation) ?? verdicts[0] ?? { outcome: 'batch-empty' };
}

export interface FuzzOptions {
  count: number;
  seed: number;
  /** Share of cases that are image mutations (the rest are protocol garbage). */
  imageShare?: number;
  imageConcurrency?: number;
  protocolConcurrency?: number;
  /** Stop starting cases after this long (the report says how many ran). */
  maxSeconds?: number;
  /** Run only these case indexes (reproducing a failure). */
  only?: number[];
  /**
   * Before the cases: this many JPEG header-lie bombs at the server's MAX_PIXELS at once (and one
   * PNG, WebP and over-the-limit lie of each format), under the same RSS bound. 0: none.
   */
  headerLieBombs?: number;
  log?: (line: string) => void;
}

export interface Violation {
  index: number;
  family: string;
  outcome: string;
  violation: string;
}

export interface FuzzReport {
  seed: number;
  count: number;
  ran: number;
  seconds: number;
  /** family → outcome → count. */
  families: Record<string, Record<string, number>>;
  /** outcome → count over all families. */
  outcomes: Record<string, number>;
  violations: Violation[];
  /** Lines the server logged as bugs (`unexpected error in a handler`, uncaught exceptions). */
  serverErrors: string[];
  rss: { afterWarmupMiB: number; halfwayMiB: number; peakMiB: number; finalMiB: number; boundMiB: number; growthBoundMiB: number };
  /** The header-lie burst: how many at once, RSS before, at its peak and when the last one ended, and how long. */
  headerLies?: { bombs: number; beforeMiB: number; peakMiB: number; afterMiB: number; seconds: number };
  pid: { atStart: number; alive: boolean; exit?: Exit };
  goodImageAfterwards: string;
  serverEnv: Record<string, string>;
}

/** Case `i` of a seed draws from its own PRNG, so any single case can be rerun alone (`only`). */
function caseRandom(seed: number, index: number): () => number {
  return seededRandom((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
}

async function photos(): Promise<Buffer[]> {
  const first = (dir: string) => readFixture(dir, fs.readdirSync(dir).filter((f) => /\.jpe?g$/i.test(f)).sort()[0]);
  return [readFixture(darknetDir, 'dog.jpg'), first(facesDir), first(platesDir)];
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const log = options.log ?? (() => {});
  const docs = documentedCodes();
  const sources = await photos();
  const seeds: SeedImage[] = await seedImages(sources);
  const extremes = await extremeShapes();
  const goodJpeg = seeds.find((s) => s.name.endsWith('jpeg-baseline'))!.bytes;
  const limits: ProtocolLimits = { bodyTimeoutMs: Number(FUZZ_SERVER_ENV.BODY_TIMEOUT_MS), maxUploadBytes: Number(FUZZ_SERVER_ENV.MAX_UPLOAD_BYTES), jpeg: goodJpeg };
  const server = await startFuzzServer();
  const started = Date.now();
  const deadline = started + (options.maxSeconds ?? Infinity) * 1000;
  const families: Record<string, Record<string, number>> = {};
  const outcomes: Record<string, number> = {};
  const violations: Violation[] = [];
  let ran = 0;
  let peak = 0;
  let halfway = NaN;
  const sampler = setInterval(() => {
    if (server.alive()) peak = Math.max(peak, server.rssMiB());
  }, 250);
  try {
    // Warm-up: the models load and libvips settles before the baseline is taken.
    const warm = await imageCase(server.url, docs, readFixture(darknetDir, 'dog.jpg'), () => 0);
    if (warm.outcome !== 'completed') throw new Error(`warm-up photo: ${warm.outcome} ${warm.violation ?? ''}`);
    const afterWarmup = server.rssMiB();
    peak = Math.max(peak, afterWarmup);

    let headerLieRun: FuzzReport['headerLies'];
    if (options.headerLieBombs) {
      const side = Math.floor(Math.sqrt(Number(FUZZ_SERVER_ENV.MAX_PIXELS)));
      const atLimit = await headerLies([[side, side]]);
      const overLimit = await headerLies([[10_000, 10_000]]);
      const bombs = [...Array<HeaderLie>(options.headerLieBombs).fill(atLimit.find((l) => l.format === 'jpeg')!), ...atLimit.filter((l) => l.format !== 'jpeg'), ...overLimit];
      log(`header-lie burst: ${options.headerLieBombs} × ${side}x${side} JPEG at once, and ${bombs.length - options.headerLieBombs} more`);
      const burst = await headerLieBurst(server.url, bombs, server.rssMiB);
      peak = Math.max(peak, burst.peakMiB);
      for (const [name, outcome] of Object.entries(burst.outcomes)) {
        const code = outcome.startsWith('failed ') ? outcome.slice(7) : undefined;
        const violation = outcome === 'completed' || (code && docs.job.has(code)) ? undefined : `header-lie ${name}: ${outcome}`;
        (families[`header-lie:${name.split(':')[0]}`] ??= {})[outcome] = (families[`header-lie:${name.split(':')[0]}`]?.[outcome] ?? 0) + 1;
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        if (violation) violations.push({ index: -1, family: `header-lie:${name.split(':')[0]}`, outcome, violation });
      }
      headerLieRun = { bombs: options.headerLieBombs, beforeMiB: Math.round(burst.beforeMiB), peakMiB: Math.round(burst.peakMiB), afterMiB: Math.round(burst.afterMiB), seconds: Math.round(burst.seconds) };
      log(`header-lie burst: RSS ${headerLieRun.beforeMiB} → peak ${headerLieRun.peakMiB} → ${headerLieRun.afterMiB} MiB in ${headerLieRun.seconds} s`);
    }

    const indexes = options.only ?? Array.from({ length: options.count }, (_, i) => i);
    const share = options.imageShare ?? 0.5;
    const lanes = { image: [] as number[], protocol: [] as number[] };
    for (const i of indexes) (caseRandom(options.seed, i)() < share ? lanes.image : lanes.protocol).push(i);

    const record = (index: number, family: string, v: Verdict) => {
      ran++;
      if (ran === Math.ceil(indexes.length / 2) && server.alive()) halfway = server.rssMiB();
      (families[family] ??= {})[v.outcome] = (families[family][v.outcome] ?? 0) + 1;
      outcomes[v.outcome] = (outcomes[v.outcome] ?? 0) + 1;
      if (v.violation) {
        violations.push({ index, family, outcome: v.outcome, violation: v.violation });
        log(`VIOLATION case ${index} ${family}: ${v.outcome}: ${v.violation}`);
      }
      if (ran % 250 === 0) log(`${ran}/${indexes.length} cases, ${Math.round((Date.now() - started) / 1000)} s, server rss ${server.rssMiB().toFixed(0)} MiB (peak ${peak.toFixed(0)})`);
    };

    const runLane = async (queue: number[], concurrency: number, one: (index: number) => Promise<void>) => {
      let next = 0;
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < queue.length && Date.now() < deadline && server.alive()) await one(queue[next++]);
      }));
    };

    await Promise.all([
      runLane(lanes.image, options.imageConcurrency ?? 4, async (index) => {
        const rand = caseRandom(options.seed, index);
        rand();
        // One image case in twenty is a valid image of an extreme shape rather than a damaged one.
        const { family, data } = rand() < 0.05 ? (({ name, bytes }) => ({ family: `extreme-shape:${name.split(':')[1]}`, data: bytes }))(extremes[Math.floor(rand() * extremes.length)]) : mutateImage(seeds, rand);
        record(index, family, await imageCase(server.url, docs, data, rand).catch((err) => ({ outcome: 'client-error', violation: String(err) })));
      }),
      runLane(lanes.protocol, options.protocolConcurrency ?? 24, async (index) => {
        const rand = caseRandom(options.seed, index);
        rand();
        const c = protocolCase(rand, limits);
        const verdict = await c.run(server.port).then((o) => judgeObservation(docs, o), (err) => ({ outcome: 'client-error', violation: String(err) }));
        record(index, c.family, verdict);
      }),
    ]);

    // The server is the same process and still does its job.
    await sleep(1000);
    let goodImageAfterwards = 'server gone';
    if (server.alive()) {
      const v = await imageCase(server.url, docs, readFixture(darknetDir, 'dog.jpg'), () => 0);
      goodImageAfterwards = v.outcome;
    }
    const finalMiB = server.alive() ? server.rssMiB() : NaN;
    const serverErrors = server.output().split('\n').filter((l) => /unexpected error|uncaught|unhandled|FATAL|Segmentation/i.test(l)).slice(0, 50);
    return {
      seed: options.seed,
      count: indexes.length,
      ran,
      seconds: Math.round((Date.now() - started) / 1000),
      families,
      outcomes,
      violations,
      serverErrors,
      headerLies: headerLieRun,
      rss: { afterWarmupMiB: Math.round(afterWarmup), halfwayMiB: Math.round(halfway), peakMiB: Math.round(peak), finalMiB: Math.round(finalMiB), boundMiB: RSS_BOUND_MIB, growthBoundMiB: RSS_GROWTH_BOUND_MIB },
      pid: { atStart: server.pid, alive: server.alive() },
      goodImageAfterwards,
      serverEnv: { ...FUZZ_SERVER_ENV },
    };
  } finally {
    clearInterval(sampler);
    await server.stop();
  }
}

/** Problems a report shows, one line each; empty when the run passed. */
export function reportProblems(r: FuzzReport): string[] {
  const problems: string[] = [];
  if (!r.pid.alive) problems.push(`the server process (pid ${r.pid.atStart}) exited`);
  if (r.goodImageAfterwards !== 'completed') problems.push(`a good photo afterwards: ${r.goodImageAfterwards}`);
  if (r.headerLies && r.headerLies.peakMiB > r.rss.boundMiB) problems.push(`peak RSS ${r.headerLies.peakMiB} MiB over the bound ${r.rss.boundMiB} MiB while ${r.headerLies.bombs} header-lie bombs ran at once`);
  if (r.rss.peakMiB > r.rss.boundMiB) problems.push(`peak RSS ${r.rss.peakMiB} MiB over the bound ${r.rss.boundMiB} MiB`);
  if (!(r.rss.finalMiB - r.rss.halfwayMiB <= r.rss.growthBoundMiB)) problems.push(`RSS grew ${r.rss.finalMiB - r.rss.halfwayMiB} MiB over the run's second half (bound ${r.rss.growthBoundMiB} MiB)`);
  for (const v of r.violations.slice(0, 20)) problems.push(`case ${v.index} (${v.family}): ${v.outcome}: ${v.violation}`);
  if (r.violations.length > 20) problems.push(`… and ${r.violations.length - 20} more violations`);
  for (const line of r.serverErrors.slice(0, 10)) problems.push(`server log: ${line.slice(0, 300)}`);
  return problems;
}

/** The counts as a table: one row per family, outcomes as `outcome ×n`. */
export function formatReport(r: FuzzReport): string {
  const lines = [`fuzz: seed ${r.seed}, ${r.ran}/${r.count} cases in ${r.seconds} s; server pid ${r.pid.atStart} ${r.pid.alive ? 'alive' : 'GONE'}; good photo afterwards: ${r.goodImageAfterwards}`];
  if (r.headerLies) lines.push(`header-lie burst: ${r.headerLies.bombs} JPEG bombs at MAX_PIXELS at once (plus PNG, WebP and over-the-limit ones): RSS ${r.headerLies.beforeMiB} → peak ${r.headerLies.peakMiB} → ${r.headerLies.afterMiB} MiB, ${r.headerLies.seconds} s`);
  lines.push(`server RSS: ${r.rss.afterWarmupMiB} MiB after warm-up, ${r.rss.halfwayMiB} MiB halfway, final ${r.rss.finalMiB} MiB (second-half growth bound ${r.rss.growthBoundMiB}), peak ${r.rss.peakMiB} MiB (bound ${r.rss.boundMiB})`);
  const width = Math.max(...Object.keys(r.families).map((f) => f.length));
  for (const family of Object.keys(r.families).sort()) {
    const counts = Object.entries(r.families[family]).sort((a, b) => b[1] - a[1]);
    const total = counts.reduce((s, [, n]) => s + n, 0);
    lines.push(`  ${family.padEnd(width)} ${String(total).padStart(5)}  ${counts.map(([o, n]) => `${o} ×${n}`).join(', ')}`);
  }
  lines.push(`  totals: ${Object.entries(r.outcomes).sort((a, b) => b[1] - a[1]).map(([o, n]) => `${o} ×${n}`).join(', ')}`);
  lines.push(`violations: ${r.violations.length}${r.serverErrors.length ? `, server error lines: ${r.serverErrors.length}` : ''}`);
  return lines.join('\n');
}
