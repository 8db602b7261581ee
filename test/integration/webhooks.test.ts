// Webhooks end to end on an embedded node: signed deliveries to a local receiver, retries with
// one delivery id, job.failed, the retry limit, the tenant default and the SSRF refusals.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { jobView } from '../../src/ingest/views.js';
import { silentLogger } from '../../src/observability/logger.js';
import { MemoryJobQueue } from '../../src/queue/memory.js';
import { WebhookDispatcher } from '../../src/webhooks/dispatcher.js';
import { makeJob, makeResult } from '../../harness/redis-server.js';
import { smallPhotos } from '../../harness/cluster.js';
import { startTestNode, uploadFile, waitForJob, type TestNode } from '../../harness/server.js';
import { startReceiver, until, type WebhookReceiver } from '../../harness/webhook-receiver.js';

const SECRET = 'whsec-test-0123456789abcdef';

// The verification snippet from README (Webhooks → Checking the signature), verbatim.
function verifyPixveil(secret: string, header: string, rawBody: string, toleranceSeconds = 300): boolean {
  const { t, v1 } = Object.fromEntries(header.split(',').map((kv) => kv.split('=')));
  if (!t || !v1 || Math.abs(Date.now() / 1000 - Number(t)) > toleranceSeconds) return false;
  const expected = crypto.createHmac('sha256', secret).update(`${t}.${rawBody}`).digest('hex');
  return v1.length === expected.length && crypto.timingSafeEqual(Buffer.from(v1), Buffer.from(expected));
}

let node: TestNode;
let strict: TestNode;
let receiver: WebhookReceiver;
let fallback: WebhookReceiver;
let photo: Buffer;

before(async () => {
  [receiver, fallback] = await Promise.all([startReceiver(), startReceiver()]);
  photo = (await smallPhotos(320, 1))[0];
  const env = { POOL_THREADS: '1', WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_TIMEOUT_MS: '2000' };
  node = await startTestNode({}, 'serve', { ...env, WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_DEFAULTS: `*=${fallback.url}` });
  strict = await startTestNode({}, 'serve', env);
});
after(async () => {
  await Promise.all([node?.close(), strict?.close()]);
  await Promise.all([receiver?.close(), fallback?.close()]);
});

const withCallback = (url: string) => `?callback_url=${encodeURIComponent(url)}`;
const deliveriesOf = (r: WebhookReceiver, jobId: string) => r.received.filter((d) => d.body?.job?.job_id === jobId);

test('a completed job is POSTed once, signed; the README snippet verifies it; the body is the job view plus event and delivery id', async () => {
  const res = await uploadFile(node.url, photo, 'street.jpg', withCallback(receiver.url));
  assert.equal(res.status, 202);
  const { job_id } = await res.json();
  const [delivery] = await until('the webhook', () => deliveriesOf(receiver, job_id).length > 0 && deliveriesOf(receiver, job_id));
  const signature = String(delivery.headers['pixveil-signature']);
  assert.ok(verifyPixveil(SECRET, signature, delivery.raw), 'the snippet accepts the signature');
  assert.equal(verifyPixveil('another-secret-0123456789', signature, delivery.raw), false, 'and refuses another secret');
  assert.equal(verifyPixveil(SECRET, signature, delivery.raw.replace('completed', 'c0mpleted')), false, 'and a changed body');
  assert.equal(delivery.headers['content-type'], 'application/json');
  assert.equal(delivery.body.type, 'job.completed');
  assert.equal(delivery.headers['pixveil-event'], 'job.completed');
  assert.equal(delivery.body.id, delivery.headers['pixveil-delivery']);
  const view = await waitForJob(node.url, job_id);
  assert.equal(delivery.body.job.status, 'completed');
  assert.deepEqual(delivery.body.job.result, view.result, 'the body carries the job as GET /v1/jobs/:id shows it');
  const recorded = await until('delivered recorded', async () => {
    const j = await (await fetch(`${node.url}/v1/jobs/${job_id}`)).json();
    return j.webhook.status === 'delivered' && j;
  });
  assert.deepEqual({ ...recorded.webhook, delivery_id: undefined }, { url: receiver.url, status: 'delivered', event: 'job.completed', delivery_id: undefined, attempts: 1, last_error: null });
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(deliveriesOf(receiver, job_id).length, 1, 'delivered once');
  assert.equal(deliveriesOf(fallback, job_id).length, 0, 'callback_url overrides the tenant default');
});

test('a receiver that fails twice gets the third attempt with the same delivery id', async () => {
  const failing = new Set<string>();
  receiver.answer = (_n, req) => {
    const id = req.body?.job?.job_id;
    const seen = deliveriesOf(receiver, id).length;
    return failing.has(id) && seen <= 2 ? 503 : 200;
  };
  const res = await uploadFile(node.url, photo, 'street.jpg', withCallback(receiver.url));
  const { job_id } = await res.json();
  failing.add(job_id);
  const attempts = await until('three attempts', () => deliveriesOf(receiver, job_id).length >= 3 && deliveriesOf(receiver, job_id));
  assert.equal(new Set(attempts.map((a) => a.headers['pixveil-delivery'])).size, 1, 'one delivery id across the retries');
  assert.deepEqual(attempts.map((a) => a.body.attempt), [1, 2, 3]);
  assert.ok(attempts[2].at - attempts[1].at >= attempts[1].at - attempts[0].at - 50, 'the backoff grows');
  const job = await until('delivered', async () => {
    const j = await (await fetch(`${node.url}/v1/jobs/${job_id}`)).json();
    return j.webhook.status === 'delivered' && j;
  });
  assert.equal(job.webhook.attempts, 3);
  receiver.answer = () => 200;
});

test('a failed job fires job.failed; a receiver that never succeeds leaves the delivery failed in the job record after WEBHOOK_MAX_ATTEMPTS; redirects are not followed', async () => {
  receiver.answer = () => 302;
  const broken = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), crypto.randomBytes(2000)]);
  const res = await uploadFile(node.url, broken, 'broken.jpg', withCallback(receiver.url));
  assert.equal(res.status, 202);
  const { job_id } = await res.json();
  const job = await until('the delivery to fail', async () => {
    const j = await (await fetch(`${node.url}/v1/jobs/${job_id}`)).json();
    return j.webhook?.status === 'failed' && j;
  });
  assert.equal(job.status, 'failed');
  assert.equal(job.webhook.attempts, 3);
  assert.match(job.webhook.last_error, /redirects are not followed/);
  const sent = deliveriesOf(receiver, job_id);
  assert.equal(sent.length, 3);
  assert.ok(sent.every((d) => d.body.type === 'job.failed' && d.body.job.error.code === 'UNDECODABLE_IMAGE'));
  receiver.answer = () => 200;
});

test('the tenant default (WEBHOOK_DEFAULTS) applies when the upload names no callback_url', async () => {
  const res = await uploadFile(node.url, photo, 'street.jpg');
  const { job_id } = await res.json();
  const [delivery] = await until('the default webhook', () => deliveriesOf(fallback, job_id).length > 0 && deliveriesOf(fallback, job_id));
  assert.ok(verifyPixveil(SECRET, String(delivery.headers['pixveil-signature']), delivery.raw));
});

test('SSRF: loopback, private, link-local, IPv6 loopback, IPv4-mapped IPv6 and names resolving there get 400 INVALID_CALLBACK_URL without WEBHOOK_ALLOW_PRIVATE', async () => {
  const refused = [
    'http://127.0.0.1:9/x',
    'http://10.1.2.3/x',
    'http://169.254.169.254/latest/meta-data',
    'http://192.168.1.1/x',
    'http://[::1]:9/x',
    'http://[::ffff:127.0.0.1]/x',
    'http://[::ffff:7f00:1]/x',
    'http://[fd00::1]/x',
    'http://[fe80::1]/x',
    // Issue 21: local-use NAT64, IPv4-translated and 6to4 forms of 127.0.0.1, and port 0.
    'http://[64:ff9b:1::7f00:1]:9/',
    'http://[::ffff:0:7f00:1]:9/',
    'http://[2002:7f00:1::]:9/',
    'http://93.184.216.34:0/x',
    'http://localhost:9/x',
    'ftp://example.com/x',
    'not a url',
  ];
  for (const url of refused) {
    for (const route of ['/v1/images', '/v1/images:batch']) {
      const form = new FormData();
      form.append(route === '/v1/images' ? 'file' : 'files', new Blob([new Uint8Array(photo)]), 'a.jpg');
      const res = await fetch(`${strict.url}${route}${withCallback(url)}`, { method: 'POST', body: form });
      const body = await res.json();
      assert.equal(res.status, 400, `${url} on ${route}: ${JSON.stringify(body)}`);
      assert.equal(body.error.code, 'INVALID_CALLBACK_URL', url);
    }
  }
  const status = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(`${strict.url.replace('http', 'ws')}/v1/stream${withCallback('http://127.0.0.1/x')}`);
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => {
      ws.close();
      reject(new Error('upgrade accepted'));
    });
    ws.once('error', () => undefined);
  });
  assert.equal(status, 400, 'the WebSocket upgrade is refused too');
  // The same receiver is fine once private addresses are allowed (the other node).
  assert.equal((await uploadFile(node.url, photo, 'a.jpg', withCallback(receiver.url))).status, 202);
});

test('delivery time: the address is checked again, so a callback that now points at a private address is never contacted', async () => {
  const queue = new MemoryJobQueue();
  const dispatcher = new WebhookDispatcher(queue, {
    view: jobView,
    secretFor: () => SECRET,
    allowPrivate: false,
    timeoutMs: 1000,
    policy: { maxAttempts: 2, retryBaseMs: 20, maxDelayMs: 100 },
    pollMs: 20,
    concurrency: 4,
    perTenantConcurrency: 4,
    log: silentLogger,
  });
  const before = receiver.received.length;
  const job = makeJob({ callback: { url: receiver.url } });
  await queue.enqueue(job);
  await queue.claim(1, 0);
  await queue.complete(job.id, makeResult(job.id));
  dispatcher.start();
  try {
    const failed = await until('the delivery to fail', async () => {
      const j = await queue.get(job.id);
      return j?.webhook?.status === 'failed' && j;
    });
    assert.match(failed.webhook!.lastError!, /127\.0\.0\.1, a loopback address/);
    assert.equal(failed.webhook!.attempts, 2);
    assert.equal(receiver.received.length, before, 'the receiver was never contacted');
  } finally {
    await dispatcher.stop(1000);
    await queue.close();
  }
});

test('delivery time: a name that now resolves to an IPv6 form carrying a private IPv4 address (NAT64, translated, 6to4, Teredo) is never contacted', async () => {
  const forms = ['64:ff9b:1::7f00:1', '64:ff9b::a00:1', '::ffff:0:7f00:1', '2002:7f00:1::', '2001:0:4136:e378:8000:63bf:80ff:fffe'];
  for (const address of forms) {
    const queue = new MemoryJobQueue();
    let asked = 0;
    const dispatcher = new WebhookDispatcher(queue, {
      view: jobView,
      secretFor: () => SECRET,
      allowPrivate: false,
      timeoutMs: 1000,
      policy: { maxAttempts: 1, retryBaseMs: 20, maxDelayMs: 100 },
      pollMs: 20,
      concurrency: 4,
      perTenantConcurrency: 4,
      log: silentLogger,
      resolve: async () => {
        asked++;
        return [{ address, family: 6 }];
      },
    });
    const job = makeJob({ callback: { url: 'http://hooks.example.test/x' } });
    await queue.enqueue(job);
    await queue.claim(1, 0);
    await queue.complete(job.id, makeResult(job.id));
    dispatcher.start();
    try {
      const failed = await until(`the delivery to ${address} to fail`, async () => {
        const j = await queue.get(job.id);
        return j?.webhook?.status === 'failed' && j;
      });
      assert.equal(asked, 1, 'the name was resolved at delivery');
      assert.match(failed.webhook!.lastError!, new RegExp(`resolves to ${address.replace(/[.:]/g, '\\$&')}, a \\S.* \\(IPv4 inside IPv6\\) address`), address);
    } finally {
      await dispatcher.stop(1000);
      await queue.close();
    }
  }
});
