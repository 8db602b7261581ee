import ort from 'onnxruntime-node';
import type { TensorMessage } from './inference-protocol.js';
import type { ValueMeta } from './model-session.js';

type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Uint16Array | Int16Array | BigInt64Array | BigUint64Array;

/**
 * Whether several requests can share one run: the input's first dimension is symbolic and every
 * output's first dimension is that same symbol, so item k of the outputs belongs to item k of the
 * input. YuNet ([batch, 3, H, W] → [batch, N, c]) can; a batch-1 export cannot, and neither can an
 * end-to-end NMS head whose first output axis counts boxes ([N, 7]) though it is symbolic too.
 */
export function sharesBatchAxis(inputs: readonly ValueMeta[], outputs: readonly ValueMeta[]): boolean {
  const axis = inputs[0]?.shape?.[0];
  if (typeof axis !== 'string') return false;
  return inputs.every((i) => i.shape?.[0] === axis) && outputs.every((o) => o.shape?.[0] === axis);
}

/** The requests' tensors of one input joined along the batch axis, in order; `out` is used when it has the right length. */
export function concatBatch(parts: TensorMessage[], out?: TypedArray): ort.Tensor {
  const first = parts[0];
  const items = parts.reduce((n, p) => n + p.dims[0], 0);
  const length = parts.reduce((n, p) => n + p.data.length, 0);
  const Ctor = (first.data as TypedArray).constructor as new (n: number) => TypedArray;
  const data = out && out.length === length && out.constructor === Ctor ? out : new Ctor(length);
  let at = 0;
  for (const p of parts) {
    (data as Float32Array).set(p.data as Float32Array, at);
    at += p.data.length;
  }
  return new ort.Tensor(first.type, data as Float32Array, [items, ...first.dims.slice(1)]);
}

/** One output of a joined run cut back into each request's items (`counts`), each in its own buffer so it can be transferred. */
export function splitBatch(tensor: ort.Tensor, counts: number[]): TensorMessage[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (tensor.dims[0] !== total) throw new Error(`Expected ${total} items along the batch axis of the output, got dims [${tensor.dims.join(', ')}]`);
  const per = tensor.data.length / total;
  const data = tensor.data as TypedArray;
  let at = 0;
  return counts.map((count) => {
    const part = data.slice(at * per, (at + count) * per);
    at += count;
    return { type: tensor.type, dims: [count, ...tensor.dims.slice(1)], data: part };
  });
}
