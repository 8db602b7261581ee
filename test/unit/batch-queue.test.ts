import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchQueue } from '../../src/models/batch-queue.js';

test('a group is flushed the moment it holds maxItems, without waiting', () => {
  const flushed: Array<[string, number[]]> = [];
  const queue = new BatchQueue<number>({ maxItems: 4, waitMs: 60_000 }, (key, items) => flushed.push([key, items]));
  for (let i = 0; i < 3; i++) queue.push('yunet|640x480', i);
  assert.deepEqual(flushed, []);
  queue.push('yunet|640x480', 3);
  assert.deepEqual(flushed, [['yunet|640x480', [0, 1, 2, 3]]]);
  assert.equal(queue.size, 0);
  queue.push('yunet|640x480', 4);
  assert.equal(queue.size, 1, 'a new group starts after a flush');
  queue.flushAll();
  assert.deepEqual(flushed.at(-1), ['yunet|640x480', [4]]);
  queue.push('a', 5);
  queue.push('b', 6);
  assert.deepEqual(queue.drain().sort(), [5, 6], 'drain hands back what waited (shutdown fails it)');
  assert.equal(flushed.length, 2, 'without flushing it');
});

test('a group that does not fill is flushed waitMs after its first item, and keys never mix', async () => {
  const flushed: Array<{ key: string; items: string[]; at: number }> = [];
  const start = performance.now();
  const queue = new BatchQueue<string>({ maxItems: 4, waitMs: 80 }, (key, items) => flushed.push({ key, items, at: performance.now() - start }));
  queue.push('a', 'a1');
  queue.push('b', 'b1');
  await new Promise((resolve) => setTimeout(resolve, 30));
  queue.push('a', 'a2');
  assert.equal(flushed.length, 0, 'nothing flushed before waitMs');
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.deepEqual(flushed.map((f) => [f.key, f.items]).sort(), [['a', ['a1', 'a2']], ['b', ['b1']]]);
  for (const f of flushed) assert.ok(f.at >= 79, `flushed at ${f.at.toFixed(1)} ms, before the 80 ms wait (timed from the first item)`);
});

test('bad queue options are refused with the value', () => {
  assert.throws(() => new BatchQueue({ maxItems: 0, waitMs: 1 }, () => {}), /Expected an integer of at least 1 for maxItems but received 0/);
  assert.throws(() => new BatchQueue({ maxItems: 2, waitMs: -1 }, () => {}), /Expected a number of at least 0 for waitMs but received -1/);
});
