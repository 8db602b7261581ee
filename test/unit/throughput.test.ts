import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ThroughputWindow } from '../../src/observability/throughput.js';

test('images/s counts the last minute, or the uptime when shorter; percentiles from completed jobs only', () => {
  const start = 1_000_000;
  const window = new ThroughputWindow(60_000, 1000, start);
  for (let i = 0; i < 20; i++) window.record(start + 500 * i, 100 + i, true);
  window.record(start + 9_000, 5, false);
  const early = window.snapshot(start + 10_000);
  assert.equal(early.completed_in_window, 20);
  assert.equal(early.images_per_second, 2, '20 images in the first 10 s');
  assert.equal(early.latency_ms.p50, 109);
  assert.equal(early.latency_ms.p99, 119);
  assert.equal(window.failed, 1);
  assert.equal(window.total, 21);
  const later = window.snapshot(start + 65_000);
  assert.equal(later.completed_in_window, 10, 'the first 5 s slid out of the window');
  assert.equal(later.images_per_second, Math.round((10 / 60) * 100) / 100);
  assert.equal(window.snapshot(start + 200_000).latency_ms.p50, null);
});
