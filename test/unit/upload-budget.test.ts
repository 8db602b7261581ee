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

test('a body is charged as its bytes arrive: a declared size that does not fit is refused at once, what arrives past the budget mid-body', () => {
  const budget = new UploadBudget(100);
  const trickling = budget.open(90);
  trickling.take(5);
  assert.equal(budget.inUse, 5, 'only what arrived counts');
  const normal = budget.open(90);
  normal.take(90);
  assert.throws(() => budget.open(10), (err: PixveilError) => err.code === 'SERVER_BUSY', 'a declared size beside the bytes held');
  assert.throws(() => trickling.take(6), (err: PixveilError) => err.code === 'SERVER_BUSY', 'bytes past the budget');
  normal.release();
  normal.release();
  assert.equal(budget.inUse, 5, 'a second release is a no-op');
  trickling.release();
  assert.equal(budget.inUse, 0);
});
