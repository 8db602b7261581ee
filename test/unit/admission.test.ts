import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { Admission } from '../../src/ingest/admission.js';
import { httpStatusOf } from '../../src/ingest/http-status.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { DrainRateEstimator, predictedWaitSeconds, retryAfterSeconds } from '../../src/observability/drain-rate.js';
import type { JobQueue, QueueStats } from '../../src/queue/queue.js';

test('before any busy completion the prior stands in; busy intervals then replace it', () => {
  const t0 = 1_000_000;
  const rate = new DrainRateEstimator(() => 2, { windowMs: 30_000, minFinished: 10 });
  assert.deepEqual(rate.rate(t0), { perSecond: 2, source: 'prior' });
  rate.observe(t0, 0, 500);
  // 8 images/s while 500 wait: after 2 s, 16 completions are enough to measure.
  rate.observe(t0 + 1000, 8, 500);
  assert.equal(rate.rate(t0 + 1000).source, 'prior', '8 completions are fewer than minFinished');
  rate.observe(t0 + 2000, 16, 490);
  assert.deepEqual(rate.rate(t0 + 2000), { perSecond: 8, source: 'measured' });
});

test('intervals that began with nothing waiting do not count: they measure arrivals, not capacity', () => {
  const t0 = 0;
  const rate = new DrainRateEstimator(() => 2, { windowMs: 30_000, minFinished: 10 });
  // Idle cluster finishing 1 image/s as they arrive, for 20 s.
  for (let s = 0; s <= 20; s++) rate.observe(t0 + s * 1000, s, 0);
  const idle = rate.rate(t0 + 20_000);
  assert.equal(idle.source, 'prior', 'idle completions (20 in 30 s) do not beat the prior of 2/s');
  assert.equal(idle.perSecond, 2);
  // Now a spike: work waits, 10/s drains.
  for (let s = 21; s <= 23; s++) rate.observe(t0 + s * 1000, 20 + (s - 20) * 10, 300);
  const busy = rate.rate(t0 + 23_000);
  assert.equal(busy.source, 'measured');
  // The interval 20→21 began with nothing waiting and is left out: 20 completions over 2 s.
  assert.equal(busy.perSecond, 10);
});

test('a falling rate is seen within recentMs, not only after the whole window', () => {
  const rate = new DrainRateEstimator(() => 1, { windowMs: 30_000, minFinished: 10, recentMs: 5000 });
  let finished = 0;
  for (let s = 0; s <= 20; s++) rate.observe(s * 1000, (finished += s === 0 ? 0 : 10), 500);
  assert.equal(rate.rate(20_000).perSecond, 10);
  // A worker dies: 2/s from now on.
  for (let s = 21; s <= 25; s++) rate.observe(s * 1000, (finished += 2), 500);
  assert.equal(rate.rate(25_000).perSecond, 2, 'the last 5 s, not (200 + 10) / 25 s');
});

test('a swinging rate is planned with its slowest working stretch of the window, not the latest or the average', () => {
  const rate = new DrainRateEstimator(() => 1, { windowMs: 30_000, minFinished: 10, recentMs: 5000 });
  let finished = 0;
  // 10 s at 4/s (a retry wave takes the CPU), then 10 s at 8/s.
  for (let s = 0; s <= 20; s++) rate.observe(s * 1000, (finished += s === 0 ? 0 : s <= 10 ? 4 : 8), 300);
  assert.equal(rate.rate(20_000).perSecond, 4, 'not the last 5 s (8) nor the 20 s average (6)');
  // 30 s later the slow stretch has left the window.
  for (let s = 21; s <= 45; s++) rate.observe(s * 1000, (finished += 8), 300);
  assert.equal(rate.rate(45_000).perSecond, 8);
});

test('busy intervals older than the window are forgotten; a counter that went back is ignored', () => {
  const rate = new DrainRateEstimator(() => 1, { windowMs: 10_000, minFinished: 5 });
  rate.observe(0, 0, 100);
  rate.observe(1000, 50, 100);
  assert.equal(rate.rate(1000).perSecond, 50);
  rate.observe(2000, 10, 100); // Redis restarted without its counters
  rate.observe(3000, 14, 100);
  assert.equal(rate.rate(3000).perSecond, (50 + 4) / 2, 'the reset interval is skipped');
  assert.equal(rate.rate(20_000).source, 'prior', 'everything slid out of the window');
});

test('a stall is a measurement: work waiting and nothing finishing brings the rate to 0, not back to the prior', () => {
  const rate = new DrainRateEstimator(() => 2, { windowMs: 30_000, minFinished: 10, recentMs: 5000 });
  // Work waits from the start and the first jobs take long (models warming up): after 5 s of it, 0 is what drains.
  for (let s = 0; s <= 3; s++) rate.observe(s * 1000, 0, 100);
  assert.equal(rate.rate(3000).source, 'prior', '3 s of busy time is not yet a measurement');
  for (let s = 4; s <= 5; s++) rate.observe(s * 1000, 0, 100);
  assert.deepEqual(rate.rate(5000), { perSecond: 0, source: 'measured' });
  // 8/s for 30 s, then jobs held in storage retries (S3 away) for longer than the window: still 0.
  let finished = 0;
  for (let s = 6; s <= 36; s++) rate.observe(s * 1000, (finished += 8), 100);
  assert.equal(rate.rate(36_000).perSecond, 8);
  for (let s = 37; s <= 70; s++) rate.observe(s * 1000, finished, 100);
  assert.deepEqual(rate.rate(70_000), { perSecond: 0, source: 'measured' }, 'the 8/s slid out of the window; the stall stays measured');
});

test('readings that fail count as busy time in which nothing finished; what finished meanwhile comes back without lifting the rate', () => {
  const rate = new DrainRateEstimator(() => 1, { windowMs: 30_000, minFinished: 10, recentMs: 5000 });
  let finished = 0;
  for (let s = 0; s <= 20; s++) rate.observe(s * 1000, (finished += s === 0 ? 0 : 8), 300);
  assert.equal(rate.rate(20_000).perSecond, 8);
  // Redis away: five failed readings.
  for (let s = 21; s <= 25; s++) rate.observeUnreadable(s * 1000);
  assert.equal(rate.rate(25_000).perSecond, 0, 'the last 5 s: nothing known to have finished');
  // Back: the counter moved by 30 while it was away, all in one reading.
  rate.observe(26_000, (finished += 30), 300);
  const after = rate.rate(26_000);
  assert.ok(after.perSecond <= (160 + 30) / 26, `never above the window's average (${after.perSecond})`);
  assert.equal(after.perSecond, 30 / 5, 'the recent 5 s: 30 over 5 s');
  // Nothing waited before the failed readings: their time is not busy time (enqueue reports the outage itself).
  const idle = new DrainRateEstimator(() => 2, { windowMs: 30_000, minFinished: 10, recentMs: 5000 });
  idle.observe(0, 0, 0);
  for (let s = 1; s <= 10; s++) idle.observeUnreadable(s * 1000);
  assert.deepEqual(idle.rate(10_000), { perSecond: 2, source: 'prior' });
});

test('a burst of completions after a stall does not lift the rate above the window average', () => {
  const rate = new DrainRateEstimator(() => 1, { windowMs: 30_000, minFinished: 10, recentMs: 5000 });
  let finished = 0;
  for (let s = 0; s <= 15; s++) rate.observe(s * 1000, (finished += s === 0 ? 0 : 8), 300);
  for (let s = 16; s <= 25; s++) rate.observe(s * 1000, finished, 300); // S3 away 10 s: held jobs
  for (let s = 26; s <= 28; s++) rate.observe(s * 1000, (finished += 30), 300); // they all land at once
  const busyAverage = finished / 28;
  const now = rate.rate(28_000);
  assert.ok(now.perSecond <= busyAverage + 1e-9, `${now.perSecond} ≤ ${busyAverage}`);
  assert.ok(now.perSecond < 8, 'below the pre-outage rate while the outage is in the window');
});

test('predicted wait and Retry-After: backlog over rate; Retry-After is the excess over the target, 1 s to SLO', () => {
  const rate = { perSecond: 8, source: 'measured' as const };
  assert.equal(predictedWaitSeconds(480, rate), 60);
  assert.equal(predictedWaitSeconds(0, rate), 0);
  assert.equal(retryAfterSeconds(100, 45, 60), 55, '100 s predicted, 45 s allowed');
  assert.equal(retryAfterSeconds(100, 60, 60), 40);
  assert.equal(retryAfterSeconds(45.1, 45, 60), 1);
  assert.equal(predictedWaitSeconds(10, { perSecond: 0, source: 'measured' }), Infinity);
  assert.equal(retryAfterSeconds(Infinity, 45, 60), 10, 'a stalled cluster: ask again once a recovery would show in the rate');
  assert.equal(retryAfterSeconds(Infinity, 3, 4), 4, 'never past the SLO');
});

/** A queue whose stats() the test sets; nothing else is called by Admission. */
function fakeQueue(stats: QueueStats): { queue: JobQueue; set(s: Partial<QueueStats>): void; down(isDown: boolean): void } {
  let current = stats;
  let unreachable = false;
  const read = async () => {
    if (unreachable) throw new Error('Redis unavailable');
    return current;
  };
  return { queue: { stats: read } as unknown as JobQueue, set: (s) => (current = { ...current, ...s }), down: (d) => (unreachable = d) };
}

const IDLE: QueueStats = { waiting: 0, processing: 0, oldestWaitingMs: 0, completed: 0, failed: 0, deadLetter: 0, consumers: 1 };

function refusal(fn: () => void): { code: string; message: string; headers: Record<string, string> } | undefined {
  try {
    fn();
  } catch (err) {
    return err as { code: string; message: string; headers: Record<string, string> };
  }
  return undefined;
}

test('Admission refuses with 429 OVERLOADED and Retry-After once backlog / drain rate passes the target, and counts its own uploads', async () => {
  let now = 0;
  // The whole SLO as target here; ADMISSION_WAIT_FRACTION has its own test.
  const config = loadConfig({ LATENCY_SLO_SECONDS: '60', ADMISSION_WAIT_FRACTION: '1', ADMISSION_PRIOR_SECONDS_PER_IMAGE: '1', POOL_THREADS: '2' });
  const q = fakeQueue(IDLE);
  const admission = new Admission(q.queue, config, createMetrics(), silentLogger, 2, () => now);
  await admission.refresh();
  // Prior: 2 threads at 1 s per image = 2 images/s, so 120 jobs fit in 60 s.
  assert.equal(admission.view().drain_rate_source, 'prior');
  for (let i = 0; i < 119; i++) {
    admission.check(1);
    admission.noteEnqueued();
  }
  admission.check(1);
  admission.noteEnqueued();
  const refused = (() => {
    try {
      admission.check(1);
    } catch (err) {
      return err as { code: string; headers: Record<string, string> };
    }
    return undefined;
  })();
  assert.ok(refused, 'the 121st job would wait 60.5 s');
  assert.equal(refused.code, 'OVERLOADED');
  assert.equal(httpStatusOf(refused), 429);
  assert.equal(refused.headers['Retry-After'], '1');
  assert.equal(admission.view().backlog, 120, 'local uploads count before the next refresh');

  // The cluster turns out to drain 8/s with work waiting: 480 jobs fit.
  q.set({ waiting: 118, processing: 2 });
  await admission.refresh();
  assert.equal(admission.view().backlog, 120, 'the refresh replaced the local count');
  now += 1000;
  q.set({ waiting: 400, processing: 2, completed: 8 });
  await admission.refresh();
  now += 1000;
  q.set({ waiting: 470, processing: 2, completed: 16 });
  await admission.refresh();
  assert.deepEqual([admission.view().drain_rate_per_second, admission.view().drain_rate_source], [8, 'measured']);
  admission.check(5); // 477 → 59.6 s
  assert.throws(() => admission.check(100), (err: { code: string; headers: Record<string, string> }) => err.code === 'OVERLOADED' && err.headers['Retry-After'] === '12');
  assert.equal(admission.view().predicted_wait_seconds, 59);

  // Uploads racing in before any is enqueued hold their room: the 119th-and-later of them are refused.
  const racing = new Admission(q.queue, config, createMetrics(), silentLogger, 2, () => now);
  q.set({ waiting: 0, processing: 0, completed: 0 });
  await racing.refresh();
  const held = Array.from({ length: 120 }, () => racing.admit(1));
  assert.throws(() => racing.admit(1), { code: 'OVERLOADED' });
  held[0]();
  held[0]();
  racing.admit(1);
  assert.throws(() => racing.admit(1), { code: 'OVERLOADED' }, 'a release counts once');

  const off = new Admission(q.queue, loadConfig({ LATENCY_SLO_SECONDS: '0' }), createMetrics(), silentLogger, 2, () => now);
  off.check(1_000_000);
});

test('ADMISSION_WAIT_FRACTION: only that share of the SLO is admitted (45 of 60 s by default); the view and the message say so', async () => {
  const config = loadConfig({ LATENCY_SLO_SECONDS: '60', ADMISSION_PRIOR_SECONDS_PER_IMAGE: '1', POOL_THREADS: '2' });
  const q = fakeQueue(IDLE);
  const admission = new Admission(q.queue, config, createMetrics(), silentLogger, 2, () => 0);
  await admission.refresh();
  // Prior 2 images/s: 90 jobs in 45 s.
  for (let i = 0; i < 90; i++) admission.admit(1);
  const refused = refusal(() => admission.check(1));
  assert.ok(refused, 'the 91st job would wait 45.5 s');
  assert.equal(refused.code, 'OVERLOADED');
  assert.match(refused.message, /45 s admission target \(ADMISSION_WAIT_FRACTION of the 60 s LATENCY_SLO_SECONDS\)/);
  assert.deepEqual([admission.view().slo_seconds, admission.view().target_seconds], [60, 45]);
});

test('the queue\'s real wait tightens admission: a head that has waited past the target refuses, however fast the prediction', async () => {
  let now = 100_000;
  const config = loadConfig({ LATENCY_SLO_SECONDS: '60' });
  const q = fakeQueue({ ...IDLE, waiting: 10, processing: 2 });
  const admission = new Admission(q.queue, config, createMetrics(), silentLogger, 2, () => now);
  // 8 images/s measured: 12 jobs ahead predict 1.6 s.
  for (let s = 0; s <= 3; s++) {
    q.set({ completed: s * 8, oldestWaitingMs: 40_000 });
    await admission.refresh();
    now += 1000;
  }
  now -= 1000;
  assert.equal(admission.view().drain_rate_per_second, 8);
  admission.check(1); // the head has waited 40 s: within 45
  assert.equal(admission.view().oldest_waiting_seconds, 40);
  now += 6000; // no reading for 6 s: the head is 46 s old now
  const refused = refusal(() => admission.check(1));
  assert.ok(refused, 'the head waited 46 s: earlier predictions were too optimistic');
  assert.equal(refused.headers['Retry-After'], '1');
  assert.equal(admission.view().predicted_wait_seconds, 46);
  q.set({ completed: 24 + 6 * 8, oldestWaitingMs: 70_000 });
  await admission.refresh();
  assert.equal(admission.view().drain_rate_per_second, 8, 'still draining 8/s');
  assert.equal(refusal(() => admission.check(1))?.headers['Retry-After'], '25', 'the excess over the target');
  q.set({ oldestWaitingMs: 2000 });
  await admission.refresh();
  admission.check(1);
});

test('while the queue cannot be read, stale figures stop admitting within a few refreshes; an idle queue is left to enqueue', async () => {
  let now = 0;
  const config = loadConfig({ LATENCY_SLO_SECONDS: '60' });
  const q = fakeQueue({ ...IDLE, waiting: 230, processing: 4, oldestWaitingMs: 20_000 });
  const admission = new Admission(q.queue, config, createMetrics(), silentLogger, 2, () => now);
  // 8/s for 20 s with 234 jobs ahead: 29 s predicted, within 45.
  for (let s = 0; s <= 20; s++) {
    q.set({ completed: s * 8 });
    await admission.refresh();
    now += 1000;
  }
  now -= 1000;
  admission.check(1);
  q.down(true);
  now += 1500; // a command timeout per failed reading
  await admission.refresh();
  admission.check(1); // one failed reading is not yet an outage
  for (let i = 0; i < 2; i++) {
    now += 1500;
    await admission.refresh();
  }
  const refused = refusal(() => admission.check(1));
  assert.ok(refused, `after 4.5 s without a reading, nothing is known to drain: ${JSON.stringify(admission.view())}`);
  assert.equal(refused.code, 'OVERLOADED');
  assert.ok(Number(refused.headers['Retry-After']) >= 1);

  // The same outage with nothing waiting: admission has no reason to refuse (enqueue answers 503 itself).
  const idleQueue = fakeQueue(IDLE);
  const idle = new Admission(idleQueue.queue, config, createMetrics(), silentLogger, 2, () => now);
  await idle.refresh();
  idleQueue.down(true);
  for (let i = 0; i < 5; i++) {
    now += 1500;
    await idle.refresh();
  }
  idle.check(1);
});

test('LATENCY_SLO_SECONDS, ADMISSION_WAIT_FRACTION and ADMISSION_PRIOR_SECONDS_PER_IMAGE are read and checked', () => {
  assert.equal(loadConfig({}).latencySloSeconds, 60);
  assert.equal(loadConfig({}).admissionWaitFraction, 0.75);
  assert.equal(loadConfig({ ADMISSION_WAIT_FRACTION: '0.5' }).admissionWaitFraction, 0.5);
  assert.throws(() => loadConfig({ ADMISSION_WAIT_FRACTION: '1.5' }), /Expected a number between 0.05 and 1 for ADMISSION_WAIT_FRACTION but received "1.5"/);
  assert.throws(() => loadConfig({ ADMISSION_WAIT_FRACTION: '0' }), /ADMISSION_WAIT_FRACTION/);
  assert.equal(loadConfig({}).admissionPriorSecondsPerImage, 1);
  assert.equal(loadConfig({ ADMISSION_PRIOR_SECONDS_PER_IMAGE: '0.5' }).admissionPriorSecondsPerImage, 0.5);
  assert.throws(() => loadConfig({ LATENCY_SLO_SECONDS: '-1' }), /LATENCY_SLO_SECONDS/);
  assert.throws(() => loadConfig({ ADMISSION_PRIOR_SECONDS_PER_IMAGE: '0' }), /ADMISSION_PRIOR_SECONDS_PER_IMAGE/);
});
