import assert from 'node:assert/strict';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { concatBatch, splitBatch } from '../../src/models/batch-tensors.js';
import { buffersOf, tensorMessage } from '../../src/models/inference-protocol.js';

const part = (items: number, start: number) => ({ type: 'float32' as const, dims: [items, 2, 3], data: Float32Array.from({ length: items * 6 }, (_, i) => start + i) });

test('requests are joined along the batch axis in order, and each output is cut back to its own items', () => {
  const parts = [part(1, 0), part(2, 100), part(1, 1000)];
  const joined = concatBatch(parts);
  assert.deepEqual(joined.dims, [4, 2, 3]);
  assert.deepEqual(Array.from(joined.data as Float32Array), [...parts[0].data, ...parts[1].data, ...parts[2].data]);
  const back = splitBatch(joined, [1, 2, 1]);
  back.forEach((b, i) => {
    assert.deepEqual(b.dims, parts[i].dims);
    assert.deepEqual(Array.from(b.data as Float32Array), Array.from(parts[i].data));
    assert.notEqual((b.data as Float32Array).buffer, (joined.data as Float32Array).buffer, 'each part owns its buffer, so it can be transferred alone');
  });
});

test('a spare tensor of the right length is filled instead of allocating; a wrong one is not used', () => {
  const spare = new Float32Array(12);
  assert.equal(concatBatch([part(1, 0), part(1, 6)], spare).data, spare);
  assert.notEqual(concatBatch([part(1, 0), part(1, 6)], new Float32Array(18)).data.length, 18);
});

test('an output whose first axis is not the joined batch is refused, not cut wrongly', () => {
  const nms = new ort.Tensor('float32', new Float32Array(7 * 5), [5, 7]);
  assert.throws(() => splitBatch(nms, [1, 1, 1]), /Expected 3 items along the batch axis of the output, got dims \[5, 7\]/);
});

test('what a message transfers: each buffer once, none that is already detached', () => {
  const t = new ort.Tensor('float32', new Float32Array(6), [1, 2, 3]);
  const m = tensorMessage(t);
  const shared = new Float32Array(4);
  assert.deepEqual(buffersOf([m.data, m.data, shared.subarray(0, 2), shared.subarray(2)]), [(m.data as Float32Array).buffer, shared.buffer]);
  structuredClone(shared, { transfer: [shared.buffer] });
  assert.deepEqual(buffersOf([shared]), []);
});
