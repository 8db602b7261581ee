import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TenantThroughput } from '../../src/observability/tenant-throughput.js';
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

test("a tenant's images/s counts from when the node started, not from the tenant's first job (issue 21)", () => {
  const nodeStart = 5_000_000;
  const tenants = new TenantThroughput(nodeStart);
  // Up for two minutes before acme's first job; three images in the following 2 s.
  for (let i = 0; i < 3; i++) tenants.record('acme', nodeStart + 120_000 + 1000 * i, 50, true);
  const acme = tenants.of('acme').snapshot(nodeStart + 122_500);
  assert.equal(acme.completed_in_window, 3);
  assert.equal(acme.images_per_second, 0.05, '3 images over the 60 s window, not over the 2.5 s since the first');
  // A node up for 10 s divides by its uptime, like the cluster-wide window.
  const young = new TenantThroughput(nodeStart);
  for (let i = 0; i < 4; i++) young.record('acme', nodeStart + 9_000 + 100 * i, 50, true);
  assert.equal(young.of('acme').snapshot(nodeStart + 10_000).images_per_second, 0.4);
  assert.equal(young.of('nobody').snapshot(nodeStart + 10_000).images_per_second, 0);
});

test('videos are counted apart: their latency never enters the image percentiles or images/s', () => {
  const start = 2_000_000;
  const window = new ThroughputWindow(60_000, 1000, start);
  for (let i = 0; i < 10; i++) window.record(start + 1000 * i, 200, true);
  window.record(start + 20_000, 45_000, true, 'video');
  window.record(start + 21_000, 90_000, true, 'video');
  window.record(start + 22_000, 1_000, false, 'video');
  const now = window.snapshot(start + 30_000);
  assert.equal(now.completed_in_window, 10);
  assert.equal(now.images_per_second, Math.round((10 / 30) * 100) / 100);
  assert.deepEqual(now.latency_ms, { p50: 200, p95: 200, p99: 200 });
  assert.deepEqual(now.videos, { completed_in_window: 2, latency_ms: { p50: 45_000, p95: 90_000, p99: 90_000 } });
  assert.equal(window.total, 13, 'every finished job, both kinds');
  assert.equal(window.failed, 1);
  const tenants = new TenantThroughput(start);
  tenants.record('acme', start + 5_000, 60_000, true, 'video');
  assert.equal(tenants.of('acme').snapshot(start + 10_000).images_per_second, 0);
  assert.equal(tenants.of('acme').snapshot(start + 10_000).videos.completed_in_window, 1);
});
