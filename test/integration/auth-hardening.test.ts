import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as jose from 'jose';
import { authedUpload, hsToken, JWT_SECRET, startLoggedNode, waitForJobAs, type LoggedNode } from '../../harness/auth.js';
import { darknetDir, readFixture } from '../../harness/fixtures.js';

const ACME_KEY = 'acme-key-0123456789abcdef';
const GLOBEX_KEY = 'globex-key-0123456789abcdef';
const OPS_KEY = 'ops-key-0123456789abcdefgh';

describe('issue 11 access findings: JWT exp, identity namespaces, failed-auth throttling, per-tenant stats', () => {
  let server: LoggedNode;
  const dog = readFixture(darknetDir, 'dog.jpg');
  const acme = { 'x-api-key': ACME_KEY };
  const globex = { 'x-api-key': GLOBEX_KEY };
  const ops = { 'x-api-key': OPS_KEY };

  before(async () => {
    server = await startLoggedNode(
      { auth: 'on', apiKeys: `acme:${ACME_KEY},globex:${GLOBEX_KEY},ops:${OPS_KEY}`, jwtSecret: JWT_SECRET, rateLimitPerMinute: 6000, rateLimitBurst: 1000 },
      { AUTH_FAILURES_PER_MINUTE: '5', ADMIN_TENANTS: 'ops' },
    );
  });
  after(async () => server.close());

  test('a JWT without exp is refused', async () => {
    const forever = await new jose.SignJWT({ sub: 'acme' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().sign(new TextEncoder().encode(JWT_SECRET));
    const res = await authedUpload(server.url, dog, { authorization: `Bearer ${forever}` });
    const body = await res.json();
    assert.equal(res.status, 401, JSON.stringify(body));
    assert.match(body.error.message, /"exp"/);
  });

  test('a JWT with sub=acme does not read the API-key tenant acme\'s jobs', async () => {
    const res = await authedUpload(server.url, dog, acme);
    assert.equal(res.status, 202);
    const { job_id } = await res.json();
    const jwt = await hsToken({ sub: 'acme' });
    assert.equal((await fetch(`${server.url}/v1/jobs/${job_id}`, { headers: { authorization: `Bearer ${jwt}` } })).status, 404);
    assert.equal((await fetch(`${server.url}/v1/jobs/${job_id}`, { headers: acme })).status, 200);
    await waitForJobAs(server.url, job_id, acme);
  });

  test('/v1/stats and /v1/queue count the caller\'s own jobs unless the caller is an admin', async () => {
    const ids: string[] = [];
    for (const headers of [globex, globex]) {
      const res = await authedUpload(server.url, dog, headers);
      ids.push((await res.json()).job_id);
    }
    for (const id of ids) await waitForJobAs(server.url, id, globex);
    const stats = async (headers: Record<string, string>) => (await fetch(`${server.url}/v1/stats`, { headers })).json();
    const acmeStats = await stats(acme);
    const globexStats = await stats(globex);
    const opsStats = await stats(ops);
    assert.equal(acmeStats.tenant, 'acme');
    assert.equal(acmeStats.jobs_finished, 1, JSON.stringify(acmeStats));
    assert.equal(globexStats.jobs_finished, 2, JSON.stringify(globexStats));
    assert.equal(opsStats.jobs_finished, 3, 'an admin sees every tenant');
    const queue = await (await fetch(`${server.url}/v1/queue`, { headers: acme })).json();
    assert.equal(queue.tenant, 'acme');
    assert.equal(queue.completed, 1, JSON.stringify(queue));
    assert.equal(queue.consumers, undefined, 'cluster internals only for admins');
    assert.equal((await (await fetch(`${server.url}/v1/queue`, { headers: ops })).json()).completed, 3);
  });

  test('failed authentication is throttled per client address: 429 with Retry-After, even for a right key afterwards', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${server.url}/v1/stats`, { headers: { 'x-api-key': `wrong-guess-${i}-0123456789` } });
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        assert.equal((await res.json()).error.code, 'RATE_LIMITED');
      } else await res.body?.cancel();
    }
    // AUTH_FAILURES_PER_MINUTE=5, and the refused token in the first test was one of them.
    const firstRefused = statuses.indexOf(429);
    assert.ok(firstRefused >= 4 && firstRefused <= 5, statuses.join(','));
    assert.ok(statuses.slice(0, firstRefused).every((s) => s === 401), statuses.join(','));
    assert.ok(statuses.slice(firstRefused).every((s) => s === 429), statuses.join(','));
    assert.ok(Number(retryAfter) >= 1);
    assert.equal((await fetch(`${server.url}/v1/stats`, { headers: acme })).status, 429, 'no verdicts while the address is throttled');
  });
});
