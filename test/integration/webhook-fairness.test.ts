// Issue 21: one tenant whose receiver accepts and never answers must not hold up another tenant's
// webhook. Deliveries are shared out by tenant (WEBHOOK_TENANT_CONCURRENCY of WEBHOOK_CONCURRENCY),
// round-robin, with the in-process queue and with Redis; without a tenant, by callback host.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jobView } from '../../src/ingest/views.js';
import type { Job } from '../../src/job.js';
import { silentLogger } from '../../src/observability/logger.js';
import { MemoryJobQueue } from '../../src/queue/memory.js';
import type { JobQueue } from '../../src/queue/queue.js';
import { WebhookDispatcher } from '../../src/webhooks/dispatcher.js';
import { connectQueue, makeJob, makeResult, randomQueueOptions, startRedisServer, type RedisServer } from '../../harness/redis-server.js';
import { startReceiver, until, type WebhookReceiver } from '../../harness/webhook-receiver.js';

const SECRET = 'whsec-test-0123456789abcdef';
// One delivery slot: an attempt to the hanging receiver holds its slot this long.
const TIMEOUT_MS = 3000;
const CONCURRENCY = 16;
const PER_TENANT = 4;

async function finishWithCallback(queue: JobQueue, jobs: Job[]): Promise<void> {
  for (const job of jobs) await queue.enqueue(job);
  let claimed = 0;
  while (claimed < jobs.length) claimed += (await queue.claim(jobs.length, 100)).length;
  for (const job of jobs) await queue.complete(job.id, makeResult(job.id));
}

function dispatcherFor(queue: JobQueue): WebhookDispatcher {
  return new WebhookDispatcher(queue, {
    view: jobView,
    secretFor: () => SECRET,
    allowPrivate: true,
    timeoutMs: TIMEOUT_MS,
    policy: { maxAttempts: 1, retryBaseMs: 50, maxDelayMs: 100 },
    pollMs: 50,
    concurrency: CONCURRENCY,
    perTenantConcurrency: PER_TENANT,
    log: silentLogger,
  });
}

/**
 * 40 deliveries of tenant `slow` to a receiver that never answers are due first; then tenant
 * `fast` finishes one job. Its webhook must arrive within one delivery slot (far less, in fact),
 * and `slow` never holds more than its share of the slots.
 */
async function hangingTenantDoesNotDelayOthers(queue: JobQueue, hanging: WebhookReceiver, healthy: WebhookReceiver, lanes: { slow: Partial<Job>; fast: Partial<Job> }): Promise<void> {
  const dispatcher = dispatcherFor(queue);
  const hangingBefore = hanging.received.length;
  try {
    await finishWithCallback(queue, Array.from({ length: 40 }, () => makeJob({ ...lanes.slow })));
    dispatcher.start();
    await until('the slow tenant to fill its share', () => hanging.received.length - hangingBefore >= PER_TENANT, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(hanging.received.length - hangingBefore, PER_TENANT, 'the hanging tenant holds no more than its share of the slots');

    const fast = makeJob({ ...lanes.fast });
    const finishedAt = Date.now();
    await finishWithCallback(queue, [fast]);
    const delivered = await until('the other tenant\'s webhook', () => healthy.received.find((r) => r.body?.job?.job_id === fast.id), TIMEOUT_MS * 4);
    const delayMs = delivered.at - finishedAt;
    assert.ok(delayMs < TIMEOUT_MS, `delivered after ${delayMs} ms, within one delivery slot (${TIMEOUT_MS} ms)`);
    // The receiver has the body before the dispatcher has its answer and records it.
    await until('the delivery to be recorded', async () => (await queue.get(fast.id))?.webhook?.status === 'delivered', TIMEOUT_MS);
  } finally {
    await dispatcher.stop(100);
  }
}

describe('webhook deliveries are fair across tenants', () => {
  let hanging: WebhookReceiver;
  let healthy: WebhookReceiver;
  let redis: RedisServer;
  before(async () => {
    [hanging, healthy, redis] = await Promise.all([startReceiver(), startReceiver(), startRedisServer()]);
    hanging.answer = () => 'hang';
  });
  after(async () => {
    await Promise.all([hanging.close(), healthy.close(), redis.destroy()]);
  });

  test('in-process queue: a hanging tenant does not delay another tenant', async () => {
    const queue = new MemoryJobQueue();
    try {
      await hangingTenantDoesNotDelayOthers(queue, hanging, healthy, { slow: { tenant: 'slow', callback: { url: hanging.url } }, fast: { tenant: 'fast', callback: { url: healthy.url } } });
    } finally {
      await queue.close();
    }
  });

  test('without tenants (AUTH=off): a hanging callback host does not delay another host', async () => {
    const queue = new MemoryJobQueue();
    try {
      await hangingTenantDoesNotDelayOthers(queue, hanging, healthy, { slow: { callback: { url: hanging.url } }, fast: { callback: { url: healthy.url } } });
    } finally {
      await queue.close();
    }
  });

  test('Redis queue: a hanging tenant does not delay another tenant', async () => {
    const queue = await connectQueue(redis.url, randomQueueOptions(redis.url));
    try {
      await hangingTenantDoesNotDelayOthers(queue, hanging, healthy, { slow: { tenant: 'slow', callback: { url: hanging.url } }, fast: { tenant: 'fast', callback: { url: healthy.url } } });
    } finally {
      await queue.close();
    }
  });
});

test('Redis: a tenant at its share has its due entries moved behind the others\', so a backlog longer than one scan does not hide another tenant', async () => {
  const redis = await startRedisServer();
  const queue = await connectQueue(redis.url, randomQueueOptions(redis.url, { webhookScan: 10 }));
  try {
    await finishWithCallback(queue, Array.from({ length: 35 }, () => makeJob({ tenant: 'slow', callback: { url: 'http://slow.example/hook' } })));
    const fast = makeJob({ tenant: 'fast', callback: { url: 'http://fast.example/hook' } });
    await finishWithCallback(queue, [fast]);
    const shares = { perLane: PER_TENANT, inFlight: new Map([['slow', PER_TENANT]]) };
    let claims = 0;
    let got: string[] = [];
    while (got.length === 0 && claims < 10) {
      claims++;
      got = (await queue.webhooks.claimDeliveries(CONCURRENCY, 60_000, shares)).map((d) => d.job.id);
    }
    assert.deepEqual(got, [fast.id], 'only the other tenant\'s delivery, the saturated tenant gets none');
    assert.ok(claims <= 5, `found behind 35 entries with a scan of 10 after ${claims} claims`);
    // Unshared (no shares), oldest due first: the slow tenant's entries come back.
    assert.equal((await queue.webhooks.claimDeliveries(3, 60_000)).filter((d) => d.job.tenant === 'slow').length, 3);
  } finally {
    await queue.close();
    await redis.destroy();
  }
});
