import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { jobView } from '../../src/ingest/views.js';
import { checkCallbackTarget, refusedRange } from '../../src/webhooks/address-policy.js';
import { webhookRequest } from '../../src/webhooks/dispatcher.js';
import { webhookSecretFor } from '../../src/webhooks/secrets.js';
import { signatureHeader, verifySignature } from '../../src/webhooks/signature.js';
import { makeJob } from '../../harness/redis-server.js';

test('address policy: every refused range, IPv4 inside IPv6 included; public addresses pass', () => {
  const refused = ['127.0.0.1', '127.255.0.9', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
    '::1', '::', 'fe80::1', 'fe80::1%eth0', 'fd12:3456::1', 'fc00::1', 'ff02::1', '2001:db8::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:a9fe:a9fe', '::ffff:7f00:1', '64:ff9b::7f00:1', '::127.0.0.1', '0:0:0:0:0:ffff:7f00:0001'];
  for (const address of refused) assert.ok(refusedRange(address), `${address} is refused`);
  for (const address of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2a00:1450:4001::200e']) {
    assert.equal(refusedRange(address), undefined, `${address} is public`);
  }
  assert.equal(refusedRange('::ffff:127.0.0.1'), 'loopback (IPv4 inside IPv6)');
});

// Issue 21: forms that carry a refused IPv4 address inside IPv6, each with its public counterpart.
const EMBEDDED_FORMS: Array<[form: string, refused: string, publicOne: string]> = [
  ['NAT64 well-known (RFC 6052)', '64:ff9b::7f00:1', '64:ff9b::808:808'],
  // Local-use: the prefix length (48 to 96) is the local network's, so every reading must be public.
  ['NAT64 local-use /96 (RFC 8215)', '64:ff9b:1::7f00:1', '64:ff9b:1:808:8:808:808:808'],
  ['NAT64 local-use /48 (RFC 8215)', '64:ff9b:1:7f00:0:100::', '64:ff9b:1:808:8:808:808:808'],
  ['IPv4-translated (RFC 6145)', '::ffff:0:7f00:1', '::ffff:0:808:808'],
  ['IPv4-mapped', '::ffff:a00:1', '::ffff:808:808'],
  ['IPv4-compatible', '::a9fe:a9fe', '::808:808'],
  ['6to4 (RFC 3056)', '2002:7f00:1::', '2002:808:808::1'],
  ['6to4 of a private address', '2002:c0a8:101::1', '2002:808:808::1'],
  // Teredo: server 65.54.227.120 (public) and the client's address with every bit inverted (f7f7:f7f7 is 8.8.8.8).
  ['Teredo client 127.0.0.1', `2001:0:4136:e378:8000:63bf:${(0x7f00 ^ 0xffff).toString(16)}:${(0x0001 ^ 0xffff).toString(16)}`, '2001:0:4136:e378:8000:63bf:f7f7:f7f7'],
  ['Teredo server 10.0.0.1', '2001:0:a00:1:8000:63bf:f7f7:f7f7', '2001:0:4136:e378:8000:63bf:f7f7:f7f7'],
];

test('address policy: IPv6 forms that embed IPv4 are classified by the IPv4 address (NAT64, translated, mapped, compatible, 6to4, Teredo)', () => {
  for (const [form, refused, publicOne] of EMBEDDED_FORMS) {
    assert.match(refusedRange(refused) ?? 'accepted', /\(IPv4 inside IPv6\)$/, `${form}: ${refused} is refused`);
    assert.equal(refusedRange(publicOne), undefined, `${form}: ${publicOne} carries a public address`);
  }
  assert.equal(refusedRange('2002:7f00:1::'), 'loopback (IPv4 inside IPv6)');
  assert.equal(refusedRange('::ffff:0:7f00:1'), 'loopback (IPv4 inside IPv6)');
  for (const address of ['2001:2::1', '3fff::1', '5f00::1', '192.88.99.1']) assert.ok(refusedRange(address), `${address} (special-purpose) is refused`);
});

test('callback URLs: the issue-21 forms and port 0 are refused at upload, and when DNS answers with those forms', async () => {
  for (const url of ['http://[64:ff9b:1::7f00:1]:9/', 'http://[::ffff:0:7f00:1]:9/', 'http://[2002:7f00:1::]:9/', 'http://93.184.216.34:0/', 'https://example.com:0/x']) {
    await assert.rejects(checkCallbackTarget(url, false), { code: 'INVALID_CALLBACK_URL' }, url);
  }
  await assert.rejects(checkCallbackTarget('http://93.184.216.34:0/', true), { code: 'INVALID_CALLBACK_URL' }, 'port 0 even with WEBHOOK_ALLOW_PRIVATE');
  for (const [form, refused, publicOne] of EMBEDDED_FORMS) {
    const answers = (address: string) => async () => [{ address, family: 6 as const }];
    await assert.rejects(checkCallbackTarget('http://hooks.example/x', false, 1000, answers(refused)), { code: 'INVALID_CALLBACK_URL' }, `${form} from DNS`);
    const ok = await checkCallbackTarget('http://hooks.example/x', false, 1000, answers(publicOne));
    assert.equal(ok.addresses[0].address, publicOne);
  }
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
