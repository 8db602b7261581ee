import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { MemoryRateLimiter, RedisRateLimiter } from '../../src/auth/rate-limit.js';
import { hashApiKey } from '../../src/auth/api-keys.js';
import { silentLogger } from '../../src/observability/logger.js';
import { authedUpload, hsToken, JWT_SECRET, startJwksServer, startLoggedNode, waitForJobAs, type JwksServer, type LoggedNode } from '../../harness/auth.js';
import { darknetDir, readFixture } from '../../harness/fixtures.js';
import { startRedisServer } from '../../harness/redis-server.js';

const ACME_KEY = 'acme-key-0123456789abcdef';
const GLOBEX_KEY = 'globex-key-0123456789abcdef';
const AUDIENCE = 'pixveil-api';

async function expectError(res: Response, status: number, code: string): Promise<string> {
  const body = await res.json();
  assert.equal(res.status, status, `${code}: ${JSON.stringify(body)}`);
  assert.equal(body.error.code, code);
  return body.error.message;
}

function wsOpen(url: string, headers: Record<string, string> = {}): Promise<{ ok: true; ws: WebSocket } | { ok: false; status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve({ ok: true, ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ ok: false, status: res.statusCode ?? 0 });
      res.resume();
    });
    ws.once('error', () => resolve({ ok: false, status: 0 }));
  });
}

describe('authentication and tenant isolation (API keys + HS256 JWT)', () => {
  let server: LoggedNode;
  const dog = readFixture(darknetDir, 'dog.jpg');
  const acme = { 'x-api-key': ACME_KEY };
  const globex = { authorization: `Bearer ${GLOBEX_KEY}` };

  before(async () => {
    server = await startLoggedNode(
      { auth: 'on', apiKeys: `acme:${ACME_KEY},globex:${GLOBEX_KEY}`, jwtSecret: JWT_SECRET, jwtAudience: AUDIENCE, rateLimitPerMinute: 6000, rateLimitBurst: 1000 },
    );
  });
  after(async () => server.close());

  test('no credentials → 401 UNAUTHENTICATED with WWW-Authenticate; health, ready and metrics stay open', async () => {
    const res = await authedUpload(server.url, dog, {});
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="pixveil"/);
    await expectError(res, 401, 'UNAUTHENTICATED');
    await expectError(await fetch(`${server.url}/v1/jobs/AAAAAAAAAAAAAAAAAAAAAA`), 401, 'UNAUTHENTICATED');
    await expectError(await fetch(`${server.url}/v1/stats`), 401, 'UNAUTHENTICATED');
    for (const path of ['/v1/health', '/v1/ready', '/metrics']) assert.equal((await fetch(`${server.url}${path}`)).status, 200, path);
  });

  test('wrong key, malformed header, bad signature, expired token, wrong audience → 401', async () => {
    await expectError(await authedUpload(server.url, dog, { 'x-api-key': 'not-a-key-0123456789' }), 401, 'UNAUTHENTICATED');
    await expectError(await authedUpload(server.url, dog, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }), 401, 'UNAUTHENTICATED');
    const forged = await hsToken({ sub: 'acme' }, { audience: AUDIENCE, secret: 'another-secret-that-is-long-enough-0123456789' });
    const res = await authedUpload(server.url, dog, { authorization: `Bearer ${forged}` });
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.match(await expectError(res, 401, 'UNAUTHENTICATED'), /signature/);
    const expired = await hsToken({ sub: 'acme', exp: Math.floor(Date.now() / 1000) - 3600 }, { audience: AUDIENCE, expiresIn: Math.floor(Date.now() / 1000) - 3600 });
    assert.match(await expectError(await authedUpload(server.url, dog, { authorization: `Bearer ${expired}` }), 401, 'UNAUTHENTICATED'), /expired/);
    const wrongAud = await hsToken({ sub: 'acme' }, { audience: 'someone-else' });
    assert.match(await expectError(await authedUpload(server.url, dog, { authorization: `Bearer ${wrongAud}` }), 401, 'UNAUTHENTICATED'), /"aud"/);
    const noSub = await hsToken({}, { audience: AUDIENCE });
    assert.match(await expectError(await authedUpload(server.url, dog, { authorization: `Bearer ${noSub}` }), 401, 'UNAUTHENTICATED'), /"sub"/);
  });

  test('API key (X-API-Key or Bearer) and JWT are accepted; jobs are visible only to their tenant (others get 404)', async () => {
    const up = await authedUpload(server.url, dog, acme);
    assert.equal(up.status, 202);
    const { job_id } = await up.json();
    const job = await waitForJobAs(server.url, job_id, acme);
    assert.equal(job.status, 'completed');

    const jwt = await hsToken({ sub: 'acme' }, { audience: AUDIENCE });
    // JWT tenants live in their own namespace (JWT_TENANT_PREFIX, default "jwt:"): sub=acme is not the API-key tenant acme.
    assert.equal((await fetch(`${server.url}/v1/jobs/${job_id}`, { headers: { authorization: `Bearer ${jwt}` } })).status, 404, 'JWT sub=acme is another tenant');
    assert.equal((await fetch(`${server.url}/v1/jobs/${job_id}/result`, { headers: acme })).status, 200);

    for (const path of [`/v1/jobs/${job_id}`, `/v1/jobs/${job_id}/result`, `/status/${job_id}`]) {
      await expectError(await fetch(`${server.url}${path}`, { headers: globex }), 404, 'JOB_NOT_FOUND');
    }
    const started = Date.now();
    await expectError(await fetch(`${server.url}/v1/jobs/${job_id}?wait=10s`, { headers: globex }), 404, 'JOB_NOT_FOUND');
    assert.ok(Date.now() - started < 2000, 'no waiting on another tenant\'s job');
    const otherJwt = await hsToken({ sub: 'initech' }, { audience: AUDIENCE });
    await expectError(await fetch(`${server.url}/v1/jobs/${job_id}`, { headers: { authorization: `Bearer ${otherJwt}` } }), 404, 'JOB_NOT_FOUND');

    const viaJwt = await authedUpload(server.url, dog, { authorization: `Bearer ${otherJwt}` });
    assert.equal(viaJwt.status, 202);
    const jwtJob = (await viaJwt.json()).job_id;
    assert.equal((await fetch(`${server.url}/v1/jobs/${jwtJob}`, { headers: { authorization: `Bearer ${otherJwt}` } })).status, 200);
    await expectError(await fetch(`${server.url}/v1/jobs/${jwtJob}`, { headers: acme }), 404, 'JOB_NOT_FOUND');
  });

  test('WebSocket upgrade needs credentials (header or ?access_token=)', async () => {
    const base = server.url.replace('http', 'ws') + '/v1/stream';
    const refused = await wsOpen(base);
    assert.deepEqual(refused, { ok: false, status: 401 });
    assert.deepEqual(await wsOpen(`${base}?access_token=wrong-key-0123456789`), { ok: false, status: 401 });
    for (const opened of [await wsOpen(`${base}?access_token=${ACME_KEY}`), await wsOpen(base, acme)]) {
      assert.ok(opened.ok);
      const ws = opened.ws;
      const ack = new Promise<any>((resolve) => ws.once('message', (data) => resolve(JSON.parse(data.toString()))));
      ws.send(dog);
      const message = await ack;
      assert.equal(message.type, 'ack');
      assert.equal((await fetch(`${server.url}/v1/jobs/${message.job_id}`, { headers: acme })).status, 200, 'WS job belongs to the tenant');
      await expectError(await fetch(`${server.url}/v1/jobs/${message.job_id}`, { headers: globex }), 404, 'JOB_NOT_FOUND');
      ws.close();
    }
  });

  test('audit log: one line per request naming tenant, key id, route, job and outcome; no key or token anywhere', async () => {
    const jwt = await hsToken({ sub: 'acme' }, { audience: AUDIENCE });
    const res = await authedUpload(server.url, dog, { authorization: `Bearer ${jwt}` });
    const { job_id } = await res.json();
    await fetch(`${server.url}/v1/jobs/${job_id}`, { headers: { authorization: `Bearer ${jwt}` } });
    await new Promise((r) => setTimeout(r, 50));
    const lines = server.logs.map((l) => JSON.parse(l));
    const upload = lines.find((l) => l.audit && l.route === '/v1/images' && l.job_id === job_id);
    assert.ok(upload, 'audit line for the upload');
    assert.equal(upload.tenant, 'jwt:acme');
    assert.equal(upload.auth, 'jwt');
    assert.equal(upload.status, 202);
    assert.equal(upload.bytes_in, dog.length);
    assert.equal(typeof upload.duration_ms, 'number');
    const keyed = lines.find((l) => l.audit && l.auth === 'api_key' && l.tenant === 'acme');
    assert.match(keyed.key_id, /^key:[0-9a-f]{8}$/);
    assert.ok(lines.some((l) => l.audit && l.status === 401 && l.code === 'UNAUTHENTICATED'));
    const all = server.logs.join('\n');
    for (const secret of [ACME_KEY, GLOBEX_KEY, jwt, jwt.split('.')[2], JWT_SECRET, hashApiKey(ACME_KEY)]) {
      assert.ok(!all.includes(secret), `log must not contain ${secret.slice(0, 12)}…`);
    }
  });
});

describe('rate limits, JWKS, scopes, METRICS_TOKEN, hashed keys file', () => {
  let server: LoggedNode;
  let jwks: JwksServer;
  const dog = readFixture(darknetDir, 'dog.jpg');
  const KEY = 'limited-key-0123456789abcdef';

  before(async () => {
    jwks = await startJwksServer();
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const keysFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-keys-')), 'keys');
    fs.writeFileSync(keysFile, `# tenant:sha256(key)\nlimited:${hashApiKey(KEY)}\n`);
    server = await startLoggedNode({
      auth: 'on',
      apiKeysFile: keysFile,
      jwtJwksUrl: jwks.url,
      jwtAudience: AUDIENCE,
      jwtRequiredScope: 'images:write',
      metricsToken: 'scrape-token-0123456789',
      rateLimitPerMinute: 60,
      rateLimitBurst: 3,
    });
  });
  after(async () => {
    await server.close();
    await jwks.close();
  });

  test('over the burst → 429 RATE_LIMITED with Retry-After; other tenants are not affected', async () => {
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${server.url}/v1/stats`, { headers: { 'x-api-key': KEY } });
      statuses.push(res.status);
      if (res.status === 429) refused ??= res;
      else await res.arrayBuffer();
    }
    assert.deepEqual(statuses.slice(0, 3), [200, 200, 200]);
    assert.ok(refused, `refused after the burst: ${statuses}`);
    assert.ok(Number(refused!.headers.get('retry-after')) >= 1);
    await expectError(refused!, 429, 'RATE_LIMITED');
    const token = await jwks.sign({ sub: 'other', scope: 'images:write' }, AUDIENCE);
    assert.equal((await fetch(`${server.url}/v1/stats`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  });

  test('JWKS-signed tokens are accepted; HS256 tokens are not; a missing scope is 403 FORBIDDEN', async () => {
    const good = await jwks.sign({ sub: 'jwks-tenant', scope: 'images:read images:write' }, AUDIENCE);
    const res = await authedUpload(server.url, dog, { authorization: `Bearer ${good}` });
    assert.equal(res.status, 202);
    const hs = await hsToken({ sub: 'jwks-tenant', scope: 'images:write' }, { audience: AUDIENCE });
    await expectError(await authedUpload(server.url, dog, { authorization: `Bearer ${hs}` }), 401, 'UNAUTHENTICATED');
    const noScope = await jwks.sign({ sub: 'jwks-tenant', scope: 'images:read' }, AUDIENCE);
    await expectError(await authedUpload(server.url, dog, { authorization: `Bearer ${noScope}` }), 403, 'FORBIDDEN');
  });

  test('METRICS_TOKEN protects /metrics only', async () => {
    await expectError(await fetch(`${server.url}/metrics`), 401, 'UNAUTHENTICATED');
    assert.equal((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer scrape-token-0123456789' } })).status, 200);
    assert.equal((await fetch(`${server.url}/v1/health`)).status, 200);
  });
});

describe('token buckets', () => {
  test('memory bucket refills at the configured rate', () => {
    let now = 0;
    const limiter = new MemoryRateLimiter(60, 2, () => now);
    assert.ok(limiter.takeSync('t').allowed);
    assert.ok(limiter.takeSync('t').allowed);
    const refused = limiter.takeSync('t');
    assert.equal(refused.allowed, false);
    assert.equal(refused.retryAfterSeconds, 1);
    assert.ok(limiter.takeSync('other').allowed, 'buckets are per tenant');
    now += 1000;
    assert.ok(limiter.takeSync('t').allowed);
  });

  test('Redis bucket is shared by every node and keyed <prefix>:ratelimit:<tenant>', async (t) => {
    const redis = await startRedisServer();
    t.after(() => redis.destroy());
    const prefix = `test${Date.now()}`;
    const a = new RedisRateLimiter(redis.url, prefix, 60, 3, silentLogger);
    const b = new RedisRateLimiter(redis.url, prefix, 60, 3, silentLogger);
    t.after(async () => {
      await a.close();
      await b.close();
    });
    await new Promise((r) => setTimeout(r, 200));
    const results = [await a.take('acme'), await b.take('acme'), await a.take('acme'), await b.take('acme')];
    assert.deepEqual(results.map((r) => r.allowed), [true, true, true, false]);
    assert.ok(results[3].retryAfterSeconds >= 1);
    assert.ok((await b.take('globex')).allowed);
    const { Redis } = await import('ioredis');
    const client = new Redis(redis.url);
    t.after(() => client.disconnect());
    assert.equal(await client.exists(`${prefix}:ratelimit:acme`), 1);
    assert.ok((await client.pttl(`${prefix}:ratelimit:acme`)) > 0, 'buckets expire');
  });
});
