import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { darknetDir, readFixture } from '../../harness/fixtures.js';
import { startRedisServer, type RedisServer } from '../../harness/redis-server.js';
import { startTestNode } from '../../harness/server.js';

describe('distributed nodes and Redis persistence', () => {
  let volatile: RedisServer;
  let durable: RedisServer;
  const dog = readFixture(darknetDir, 'dog.jpg');

  before(async () => {
    volatile = await startRedisServer();
    durable = await startRedisServer({ aof: true });
  });
  after(async () => {
    await volatile.stop();
    await durable.stop();
  });

  test('an api node refuses a Redis without AOF or RDB persistence unless ALLOW_VOLATILE_REDIS=true', async () => {
    await assert.rejects(startTestNode({}, 'api', { REDIS_URL: volatile.url }), (err: Error) => {
      assert.match(err.message, /persistence/);
      assert.match(err.message, /ALLOW_VOLATILE_REDIS/);
      return true;
    });
    const allowed = await startTestNode({}, 'api', { REDIS_URL: volatile.url, ALLOW_VOLATILE_REDIS: 'true' });
    await allowed.close();
    const onAof = await startTestNode({}, 'api', { REDIS_URL: durable.url });
    await onAof.close();
  });

  test('the same Idempotency-Key sent to two api nodes makes one job', async () => {
    const a = await startTestNode({}, 'api', { REDIS_URL: durable.url });
    const b = await startTestNode({}, 'api', { REDIS_URL: durable.url, DATA_DIR: a.dataDir });
    try {
      const post = (url: string, key: string) =>
        fetch(`${url}/v1/images`, { method: 'POST', body: new Uint8Array(dog), headers: { 'content-type': 'image/jpeg', 'idempotency-key': key } }).then(async (r) => ({ status: r.status, body: await r.json() }));
      const first = await post(a.url, 'cross-node-1');
      const second = await post(b.url, 'cross-node-1');
      assert.equal(first.status, 202);
      assert.equal(second.status, 202);
      assert.equal(second.body.job_id, first.body.job_id);
      const third = await post(b.url, 'cross-node-2');
      assert.notEqual(third.body.job_id, first.body.job_id);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
