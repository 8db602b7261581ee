// The node-wide budget of decoded pixels (DECODE_PIXEL_BUDGET) and the header read it rests on:
// jobs wait for pixels rather than fail, first come first served; an image over the budget or
// MAX_PIXELS fails at once with IMAGE_TOO_LARGE; header-lie bombs are sized from their header.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { isPixveilError } from '../../src/errors.js';
import { DecodeBudget, decodePixelBudgetOf, DECODE_PIXELS_PER_THREAD } from '../../src/pipeline/decode-budget.js';
import { readImageHeader } from '../../src/pipeline/image-header.js';
import { headerLies } from '../../harness/fuzz-header-lies.js';

const limits = { maxPixels: 50_000_000, maxDimension: 20_000 };
const tick = () => new Promise((resolve) => setImmediate(resolve));

test('a job that does not fit waits until earlier jobs give their pixels back, in arrival order', async () => {
  const budget = new DecodeBudget(100, limits);
  const order: string[] = [];
  const first = await budget.acquire(60);
  const second = budget.acquire(60).then((release) => (order.push('second'), release));
  const third = budget.acquire(30).then((release) => (order.push('third'), release));
  await tick();
  assert.deepEqual(order, [], 'the 60-pixel job waits, and the 30-pixel one behind it does not overtake it');
  assert.equal(budget.waitingJobs, 2);
  assert.equal(budget.pixelsInFlight, 60);
  first();
  first();
  const releaseSecond = await second;
  const releaseThird = await third;
  assert.deepEqual(order, ['second', 'third']);
  assert.equal(budget.pixelsInFlight, 90, 'a second release of the same reservation gives nothing back');
  releaseSecond();
  releaseThird();
  assert.equal(budget.pixelsInFlight, 0);
});

test('the header of a small file that claims a huge image is what the budget counts', async () => {
  for (const lie of await headerLies([[7000, 7000]])) {
    assert.ok(lie.bytes.length < 600, `${lie.name} is ${lie.bytes.length} bytes`);
    const header = await readImageHeader(lie.bytes, limits);
    assert.equal(header.pixels, lie.width * lie.height, lie.name);
  }
});

test('an image over the whole budget or over MAX_PIXELS fails at once with IMAGE_TOO_LARGE naming the setting', async () => {
  const [jpeg] = await headerLies([[6000, 5000]]);
  const small = new DecodeBudget(20_000_000, limits);
  await assert.rejects(small.reserveFor(jpeg.bytes), (err: unknown) => isPixveilError(err) && err.code === 'IMAGE_TOO_LARGE' && /6000x5000 .*DECODE_PIXEL_BUDGET/.test(err.message));
  const strict = new DecodeBudget(100_000_000, { ...limits, maxPixels: 10_000_000 });
  await assert.rejects(strict.reserveFor(jpeg.bytes), (err: unknown) => isPixveilError(err) && err.code === 'IMAGE_TOO_LARGE' && /MAX_PIXELS/.test(err.message));
  assert.equal(small.pixelsInFlight + strict.pixelsInFlight, 0, 'a refused image holds nothing');
  await assert.rejects(small.reserveFor(Buffer.from('not an image at all')), (err: unknown) => isPixveilError(err) && err.code === 'UNDECODABLE_IMAGE');
});

test('a real photo reserves its width × height and gives it back', async () => {
  const photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#345' } }).jpeg().toBuffer();
  const budget = new DecodeBudget(1_000_000, limits);
  const release = await budget.reserveFor(photo);
  assert.equal(budget.pixelsInFlight, 640 * 480);
  release();
  assert.equal(budget.pixelsInFlight, 0);
});

test('DECODE_PIXEL_BUDGET=0 means 32 MP per pool thread, never less than one MAX_PIXELS image', () => {
  assert.equal(decodePixelBudgetOf({ decodePixelBudget: 0, poolThreads: 2, maxPixels: 50_000_000 }), 2 * DECODE_PIXELS_PER_THREAD);
  assert.equal(decodePixelBudgetOf({ decodePixelBudget: 0, poolThreads: 1, maxPixels: 50_000_000 }), 50_000_000);
  assert.equal(decodePixelBudgetOf({ decodePixelBudget: 12_345, poolThreads: 8, maxPixels: 50_000_000 }), 12_345);
});
