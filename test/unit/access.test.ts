import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Authenticator } from '../../src/auth/authenticator.js';
import { UnlimitedRateLimiter } from '../../src/auth/rate-limit.js';
import { loadConfig } from '../../src/config/config.js';
import { Access } from '../../src/ingest/access.js';
import { silentLogger } from '../../src/observability/logger.js';

const KEY = 'acme-key-0123456789abcdef';

function access(env: Record<string, string>) {
  const config = loadConfig({ AUTH: 'on', API_KEYS: `acme:${KEY}`, ...env });
  return new Access(Authenticator.fromConfig(config), new UnlimitedRateLimiter(), silentLogger, config);
}

test('failed authentications are counted per client address; past the limit even a right key gets 429', async () => {
  const a = access({ AUTH_FAILURES_PER_MINUTE: '3' });
  const wrong = { 'x-api-key': 'not-the-key-0123456789' };
  for (let i = 0; i < 3; i++) await assert.rejects(a.admit('tenant', wrong, '10.0.0.1'), { code: 'UNAUTHENTICATED' });
  await assert.rejects(a.admit('tenant', wrong, '10.0.0.1'), (err: { code?: string; headers?: Record<string, string> }) => err.code === 'RATE_LIMITED' && Number(err.headers?.['Retry-After']) >= 1);
  await assert.rejects(a.admit('tenant', { 'x-api-key': KEY }, '10.0.0.1'), { code: 'RATE_LIMITED' });
  assert.equal((await a.admit('tenant', { 'x-api-key': KEY }, '10.0.0.2')).tenant, 'acme', 'another address is not affected');
  assert.equal((await a.admit('open', wrong, '10.0.0.1')).method, 'none', 'health and readiness stay open');
  assert.equal((await a.admit('metrics', wrong, '10.0.0.1')).method, 'none', 'an unprotected /metrics stays open');
});

test('AUTH_FAILURES_PER_MINUTE=0 turns the throttle off', async () => {
  const a = access({ AUTH_FAILURES_PER_MINUTE: '0' });
  for (let i = 0; i < 50; i++) await assert.rejects(a.admit('tenant', { 'x-api-key': 'nope-0123456789abcdef' }, '10.0.0.1'), { code: 'UNAUTHENTICATED' });
});

test('X-Forwarded-For names the client only when the peer is a trusted proxy', () => {
  const a = access({ TRUSTED_PROXIES: '10.1.0.5, 10.1.0.6' });
  const xff = { 'x-forwarded-for': '6.6.6.6, 203.0.113.7, 10.1.0.6' };
  assert.equal(a.clientAddress('10.1.0.5', xff), '203.0.113.7', 'rightmost hop that is not a proxy');
  assert.equal(a.clientAddress('198.51.100.1', xff), '198.51.100.1', 'an untrusted peer cannot claim another address');
  assert.equal(a.clientAddress('10.1.0.5', {}), '10.1.0.5');
});

test('JWT tenants are namespaced apart from API-key tenants; admins come from ADMIN_TENANTS or ADMIN_SCOPE', async () => {
  const { SignJWT } = await import('jose');
  const secret = 'a-test-secret-that-is-long-enough-0123456789';
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(secret));
  const a = access({ JWT_SECRET: secret, API_KEYS: `acme:${KEY},ops:ops-key-0123456789abcdef`, ADMIN_TENANTS: 'ops,jwt:root' });
  const viaKey = await a.admit('tenant', { 'x-api-key': KEY }, '10.0.0.9');
  assert.deepEqual([viaKey.tenant, viaKey.admin], ['acme', false]);
  assert.equal((await a.admit('tenant', { 'x-api-key': 'ops-key-0123456789abcdef' }, '10.0.0.9')).admin, true);
  const viaJwt = await a.admit('tenant', { authorization: `Bearer ${await sign({ sub: 'acme' })}` }, '10.0.0.9');
  assert.deepEqual([viaJwt.tenant, viaJwt.admin], ['jwt:acme', false]);
  assert.equal((await a.admit('tenant', { authorization: `Bearer ${await sign({ sub: 'root' })}` }, '10.0.0.9')).admin, true);
  assert.equal((await a.admit('tenant', { authorization: `Bearer ${await sign({ sub: 'x', scope: 'images:write pixveil:admin' })}` }, '10.0.0.9')).admin, true);
  const mapped = access({ JWT_SECRET: secret, JWT_TENANT_PREFIX: '' });
  assert.equal((await mapped.admit('tenant', { authorization: `Bearer ${await sign({ sub: 'acme' })}` }, '10.0.0.9')).tenant, 'acme', 'an empty prefix maps them on purpose');
});
