import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { jobView } from '../../src/ingest/views.js';
import { checkCallbackTarget, refusedRange } from '../../src/webhooks/address-policy.js';
import { webhookRequest } from '../../src/webhooks/dispatcher.js';
import { webhookSecretFor } from '../../src/webhooks/secrets.js';
import { signatureHeader, verifySignature } from '../../src/webhooks/signature.js';
import { makeJob } from '../helpers/redis-server.js';

test('address policy: every refused range, IPv4 inside IPv6 included; public addresses pass', () => {
  const refused = ['127.0.0.1', '127.255.0.9', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
    '::1', '::', 'fe80::1', 'fe80::1%eth0', 'fd12:3456::1', 'fc00::1', 'ff02::1', '2001:db8::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:a9fe:a9fe', '::ffff:7f00:1', '64:ff9b::7f00:1', '::127.0.0.1', '0:0:0:0:0:ffff:7f00:0001'];
  for (const address of refused) assert.ok(refusedRange(address), `${address} is refused`);
  for (const address of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2a00:1450:4001::200e']) {
    assert.equal(refusedRange(address), undefined, `${address} is public`);
  }
  assert.equal(refusedRange('::ffff:127.0.0.1'), 'loopback (IPv4 inside IPv6)');
});

test('callback URLs: only http(s), no credentials, names resolving to loopback refused, all with INVALID_CALLBACK_URL', async () => {
  for (const url of ['ftp://example.com/x', 'file:///etc/passwd', 'javascript:alert(1)', 'http://user:pw@example.com/', 'relative/path', `http://example.com/${'a'.repeat(2100)}`, 'http://localhost/x', 'http://[::ffff:127.0.0.1]/']) {
    await assert.rejects(checkCallbackTarget(url, false), { code: 'INVALID_CALLBACK_URL' }, url);
  }
  const allowed = await checkCallbackTarget('http://localhost:9/x', true);
  assert.ok(allowed.addresses.length >= 1, 'WEBHOOK_ALLOW_PRIVATE lifts the address rule only');
  await assert.rejects(checkCallbackTarget('ftp://localhost/x', true), { code: 'INVALID_CALLBACK_URL' });
});

test('signature: t=<unix>,v1=HMAC-SHA256(secret, t.body); a changed body, secret or old timestamp fails', () => {
  const secret = 'whsec-unit-0123456789abcdef';
  const body = JSON.stringify({ id: 'd1', type: 'job.completed' });
  const now = 1_790_000_000;
  const header = signatureHeader(secret, now, body);
  assert.match(header, /^t=1790000000,v1=[0-9a-f]{64}$/);
  assert.ok(verifySignature(secret, header, body, 300, now));
  assert.equal(verifySignature(secret, header, body + ' ', 300, now), false);
  assert.equal(verifySignature('another-secret-0123456789', header, body, 300, now), false);
  assert.equal(verifySignature(secret, header, body, 300, now + 301), false, 'replays past the tolerance are refused');
});

test('settings: WEBHOOK_DEFAULTS and WEBHOOK_SECRETS pairs, the per-tenant secret over the default, bad entries named', () => {
  const config = loadConfig({ WEBHOOK_DEFAULTS: 'acme=https://acme.example/hook?a=1,*=https://all.example/h', WEBHOOK_SECRET: 'default-secret-0123456789', WEBHOOK_SECRETS: 'acme=acme-secret-0123456789' });
  assert.deepEqual(config.webhookDefaults, { acme: 'https://acme.example/hook?a=1', '*': 'https://all.example/h' });
  assert.equal(webhookSecretFor(config, 'acme'), 'acme-secret-0123456789');
  assert.equal(webhookSecretFor(config, 'other'), 'default-secret-0123456789');
  assert.equal(webhookSecretFor(config, undefined), 'default-secret-0123456789');
  assert.equal(webhookSecretFor(loadConfig({}), 'acme'), undefined);
  assert.throws(() => loadConfig({ WEBHOOK_DEFAULTS: 'acme=ftp://x' }), (err) => err instanceof ConfigError && /WEBHOOK_DEFAULTS/.test(err.message));
  assert.throws(() => loadConfig({ WEBHOOK_DEFAULTS: 'acme=https://a.example/' }), /signing secret/);
  assert.throws(() => loadConfig({ WEBHOOK_SECRETS: 'no-equals-sign' }), /WEBHOOK_SECRETS/);
  assert.throws(() => loadConfig({ WEBHOOK_SECRET: 'short' }), /at least 16/);
});

test('the webhook body is the job view with event, delivery id and attempt; headers carry id, event and signature', () => {
  const job = { ...makeJob({ callback: { url: 'https://a.example/h' } }), status: 'failed' as const, finishedAt: Date.now(), error: { code: 'UNDECODABLE_IMAGE', message: 'bad' } };
  const { body, headers } = webhookRequest({ job, url: 'https://a.example/h', deliveryId: 'd-1', event: 'job.failed', attempt: 2 }, jobView, 'whsec-unit-0123456789abcdef');
  const parsed = JSON.parse(body);
  assert.equal(parsed.id, 'd-1');
  assert.equal(parsed.type, 'job.failed');
  assert.equal(parsed.attempt, 2);
  assert.deepEqual(parsed.job, JSON.parse(JSON.stringify(jobView(job))));
  assert.equal(headers['Pixveil-Delivery'], 'd-1');
  assert.equal(headers['Pixveil-Event'], 'job.failed');
  assert.ok(verifySignature('whsec-unit-0123456789abcdef', headers['Pixveil-Signature'], body));
});
