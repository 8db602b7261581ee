// The storage sweep's rules without a server: which objects it deletes, which it never touches,
// and that a sweep unable to tell whether a job has a record deletes nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newJobId } from '../../src/job.js';
import { silentLogger } from '../../src/observability/logger.js';
import { deleteJobObjects, JobObjectSweeper } from '../../src/storage/expiry.js';
import { jobIdOfKey, storageKeys } from '../../src/storage/keys.js';
import type { ObjectStore, StoredObject } from '../../src/storage/storage.js';

class MapStore implements ObjectStore {
  readonly description = 'map';
  readonly objects = new Map<string, number>();
  async put(key: string): Promise<void> {
    this.objects.set(key, Date.now());
  }
  async putFile(key: string): Promise<void> {
    this.objects.set(key, Date.now());
  }
  async get(): Promise<Buffer> {
    return Buffer.alloc(0);
  }
  async getStream(): Promise<never> {
    throw new Error('not used');
  }
  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }
  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
  async *list(prefix: string): AsyncIterable<StoredObject> {
    for (const [key, modifiedAt] of [...this.objects]) if (key.startsWith(prefix)) yield { key, modifiedAt };
  }
  async check(): Promise<void> {}
}

const NOW = 10_000_000;
const TTL = 60_000;

function jobObjects(store: MapStore, id: string, at: number): string[] {
  const keys = [storageKeys.original(id, 'jpg'), storageKeys.processed(id, 'jpg', 1), storageKeys.processed(id, 'png', 2), storageKeys.metadata(id, 1)];
  for (const key of keys) store.objects.set(key, at);
  return keys;
}

test('job ids are read back from every key keys.ts builds, and from nothing else', () => {
  const id = newJobId();
  for (const key of [storageKeys.original(id, 'webp'), storageKeys.processed(id, 'jpg', 3), storageKeys.metadata(id, 2), `${storageKeys.original(id, 'jpg')}.a1b2c3.tmp`]) {
    assert.equal(jobIdOfKey(key), id, key);
  }
  for (const key of ['original/short.jpg', 'elsewhere/AAAAAAAAAAAAAAAAAAAAAA.jpg', 'original/../x', 'README']) assert.equal(jobIdOfKey(key), undefined, key);
});

test('a sweep deletes old objects of jobs without a record, keeps young ones and every object of a job with a record', async () => {
  const store = new MapStore();
  const [expired, live, young] = [newJobId(), newJobId(), newJobId()];
  jobObjects(store, expired, NOW - TTL - 1);
  const liveKeys = jobObjects(store, live, NOW - 10 * TTL);
  const youngKeys = jobObjects(store, young, NOW - TTL + 1000);
  store.objects.set('original/not-a-job.txt', 0);
  const asked: string[] = [];
  const sweeper = new JobObjectSweeper({
    store,
    hasRecord: async (id) => (asked.push(id), id === live),
    ttlMs: TTL,
    intervalMs: 1000,
    log: silentLogger,
  });
  const counts = await sweeper.sweep(NOW);
  assert.deepEqual(counts, { examined: 8, deleted: 4 });
  assert.deepEqual([...store.objects.keys()].sort(), [...liveKeys, ...youngKeys, 'original/not-a-job.txt'].sort());
  assert.deepEqual([...new Set(asked)].sort(), [expired, live].sort(), 'each old job asked once per sweep; young ones not at all');
});

test('a sweep that cannot tell whether a job has a record (Redis away) deletes nothing', async () => {
  const store = new MapStore();
  const keys = jobObjects(store, newJobId(), 0);
  const sweeper = new JobObjectSweeper({
    store,
    hasRecord: async () => {
      throw new Error('Redis is unavailable; retry later');
    },
    ttlMs: TTL,
    intervalMs: 1000,
    log: silentLogger,
  });
  await assert.rejects(sweeper.sweep(NOW), /Redis is unavailable/);
  assert.deepEqual([...store.objects.keys()].sort(), keys.sort());
});

test('deleteJobObjects removes every extension and attempt of one job and no other job', async () => {
  const store = new MapStore();
  const [one, other] = [newJobId(), newJobId()];
  jobObjects(store, one, NOW);
  const otherKeys = jobObjects(store, other, NOW);
  assert.equal(await deleteJobObjects(store, one), 4);
  assert.deepEqual([...store.objects.keys()].sort(), otherKeys.sort());
  assert.equal(await deleteJobObjects(store, one), 0);
});
