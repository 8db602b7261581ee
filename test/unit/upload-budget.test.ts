import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PixveilError } from '../../src/errors.js';
import { httpStatusOf } from '../../src/ingest/http-status.js';
import { UploadBudget } from '../../src/ingest/upload-budget.js';

test('UploadBudget refuses past its limit with 503 SERVER_BUSY and Retry-After, and frees on release', () => {
  const budget = new UploadBudget(100);
  const a = budget.reserve(60);
  assert.throws(() => budget.reserve(50), (err: PixveilError) => err.code === 'SERVER_BUSY' && httpStatusOf(err) === 503 && err.headers['Retry-After'] === '1');
  a();
  a();
  assert.equal(budget.inUse, 0, 'a second release is a no-op');
  budget.reserve(100);
});
