import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryJobQueue } from '../../src/queue/memory.js';
import type { PixveilError } from '../../src/errors.js';
import { httpStatusOf } from '../../src/ingest/http-status.js';
import { UploadBudget } from '../../src/ingest/upload-budget.js';

test('MemoryJobQueue idempotency keys: first job wins, release frees only its own key, keys lapse after their TTL', async () => {
  const queue = new MemoryJobQueue();
  assert.equal(await queue.reserveIdempotencyKey('k', 'job-1', 60), 'job-1');
  assert.equal(await queue.reserveIdempotencyKey('k', 'job-2', 60), 'job-1', 'a second upload gets the first job');
  await queue.releaseIdempotencyKey('k', 'job-2');
  assert.equal(await queue.reserveIdempotencyKey('k', 'job-3', 60), 'job-1', 'releasing with another job id leaves the key');
  await queue.releaseIdempotencyKey('k', 'job-1');
  assert.equal(await queue.reserveIdempotencyKey('k', 'job-4', 60), 'job-4', 'a failed upload frees its key for the retry');
  assert.equal(await queue.reserveIdempotencyKey('short', 'job-5', 0.05), 'job-5');
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(await queue.reserveIdempotencyKey('short', 'job-6', 60), 'job-6', 'expired keys are free again');
  await queue.close();
});

test('UploadBudget refuses past its limit with 503 SERVER_BUSY and Retry-After, and frees on release', () => {
  const budget = new UploadBudget(100);
  const a = budget.reserve(60);
  assert.throws(() => budget.reserve(50), (err: PixveilError) => err.code === 'SERVER_BUSY' && httpStatusOf(err) === 503 && err.headers['Retry-After'] === '1');
  a();
  a();
  assert.equal(budget.inUse, 0, 'a second release is a no-op');
  budget.reserve(100);
});
