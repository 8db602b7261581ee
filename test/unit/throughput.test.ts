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
