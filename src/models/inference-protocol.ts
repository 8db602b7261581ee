// Messages between a pool thread (remote-session.ts) and the inference thread of BATCH_IMAGES
// mode (inference-host.ts), over one MessagePort per pool thread. Tensors travel as plain
// {type, dims, data}; their memory is transferred, never copied.
import ort from 'onnxruntime-node';
import type { SessionOutputs, ValueMeta } from './model-session.js';

export interface TensorMessage {
  type: ort.Tensor.Type;
  dims: number[];
  data: ort.Tensor['data'];
}

/** What a pool thread needs to check a model against its manifest without holding its session. */
export interface SessionMeta {
  inputNames: string[];
  outputNames: string[];
  inputMetadata: ValueMeta[];
  outputMetadata: ValueMeta[];
}

export type InferenceRequest =
  | { op: 'open'; id: number; model: string }
  | { op: 'run'; id: number; model: string; inputs: Record<string, TensorMessage> };

export type InferenceReply =
  | { id: number; ok: true; meta: SessionMeta }
  | { id: number; ok: true; outputs: Record<string, TensorMessage>; returned: Record<string, TensorMessage['data']> }
  | { id: number; ok: false; message: string };

/** The message a pool thread posts to its parent to hand the inference thread its end of a channel. */
export const INFERENCE_PORT_KEY = 'pixveilInferencePort';

export function tensorMessage(tensor: ort.Tensor): TensorMessage {
  return { type: tensor.type, dims: [...tensor.dims], data: tensor.data };
}

export function toTensor(message: TensorMessage): ort.Tensor {
  return new ort.Tensor(message.type, message.data as Float32Array, message.dims);
}

export function outputsOf(messages: Record<string, TensorMessage>): SessionOutputs {
  return Object.fromEntries(Object.entries(messages).map(([name, t]) => [name, toTensor(t)]));
}

/** The ArrayBuffers under these arrays, once each: what a postMessage transfers. */
export function buffersOf(arrays: Iterable<ort.Tensor['data']>): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const a of arrays) if (ArrayBuffer.isView(a) && a.buffer instanceof ArrayBuffer && a.buffer.byteLength > 0) out.add(a.buffer);
  return [...out];
}
