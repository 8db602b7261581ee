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

test('predicted wait and Retry-After: backlog over rate; Retry-After is the excess over the SLO, 1 s to SLO', () => {
  const rate = { perSecond: 8, source: 'measured' as const };
  assert.equal(predictedWaitSeconds(480, rate), 60);
  assert.equal(predictedWaitSeconds(0, rate), 0);
  assert.equal(retryAfterSeconds(800, rate, 60), 40, '100 s predicted, 60 s allowed');
  assert.equal(retryAfterSeconds(481, rate, 60), 1);
  assert.equal(predictedWaitSeconds(10, { perSecond: 0, source: 'measured' }), Infinity);
  assert.equal(retryAfterSeconds(10, { perSecond: 0, source: 'measured' }, 60), 60, 'a stalled cluster: ask again after the SLO');
});

/** A queue whose stats() the test sets; nothing else is called by Admission. */
function fakeQueue(stats: QueueStats): { queue: JobQueue; set(s: Partial<QueueStats>): void } {
  let current = stats;
  return { queue: { stats: async () => current } as unknown as JobQueue, set: (s) => (current = { ...current, ...s }) };
}

test('Admission refuses with 429 OVERLOADED and Retry-After once backlog / drain rate passes the SLO, and counts its own uploads', async () => {
  let now = 0;
  const config = loadConfig({ LATENCY_SLO_SECONDS: '60', ADMISSION_PRIOR_SECONDS_PER_IMAGE: '1', POOL_THREADS: '2' });
  const base: QueueStats = { waiting: 0, processing: 0, completed: 0, failed: 0, deadLetter: 0, consumers: 1 };
  const q = fakeQueue(base);
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

test('LATENCY_SLO_SECONDS and ADMISSION_PRIOR_SECONDS_PER_IMAGE are read and checked', () => {
  assert.equal(loadConfig({}).latencySloSeconds, 60);
  assert.equal(loadConfig({}).admissionPriorSecondsPerImage, 1);
  assert.equal(loadConfig({ ADMISSION_PRIOR_SECONDS_PER_IMAGE: '0.5' }).admissionPriorSecondsPerImage, 0.5);
  assert.throws(() => loadConfig({ LATENCY_SLO_SECONDS: '-1' }), /LATENCY_SLO_SECONDS/);
  assert.throws(() => loadConfig({ ADMISSION_PRIOR_SECONDS_PER_IMAGE: '0' }), /ADMISSION_PRIOR_SECONDS_PER_IMAGE/);
});
