import type { MessagePort } from 'node:worker_threads';
import { BatchQueue } from './batch-queue.js';
import { concatBatch, sharesBatchAxis, splitBatch } from './batch-tensors.js';
import { buffersOf, tensorMessage, toTensor, type InferenceReply, type InferenceRequest, type TensorMessage } from './inference-protocol.js';
import type { ModelSession, SessionFeeds } from './model-session.js';
import { TensorStash } from './tensor-stash.js';

export interface InferenceHostOptions {
  /** Requests (images) joined into one run at most (BATCH_IMAGES). */
  batchImages: number;
  /** How long the first request of a group waits for others (BATCH_WAIT_MS). */
  batchWaitMs: number;
  /** Opens a model's session; called once per model name. */
  openSession: (model: string) => Promise<ModelSession>;
}

/** Per model: session runs, the requests they served and the batch items those carried. */
export type InferenceStats = Record<string, { runs: number; requests: number; items: number }>;

interface QueuedRun {
  port: MessagePort;
  request: Extract<InferenceRequest, { op: 'run' }>;
}

interface OpenModel {
  session: ModelSession;
  /** Requests of different images may share one run (sharesBatchAxis). */
  batches: boolean;
}

/**
 * The inference thread's side (BATCH_IMAGES mode): owns one session per model, serves any number
 * of pool-thread ports, and runs the requests of a model whose batch axis is dynamic together,
 * grouped by input shape, up to `batchImages` at a time and waiting at most `batchWaitMs`; a
 * batch-1 export runs each request alone, at once. A failed run fails each of its requests with
 * the model's name and onnxruntime's reason.
 */
export class InferenceHost {
  private readonly models = new Map<string, Promise<OpenModel>>();
  private readonly queue: BatchQueue<QueuedRun>;
  private readonly joined = new TensorStash(4, 1);
  private readonly counts: InferenceStats = {};
  private closed?: string;

  constructor(private readonly options: InferenceHostOptions) {
    this.queue = new BatchQueue({ maxItems: options.batchImages, waitMs: options.batchWaitMs }, (_key, items) => void this.runTogether(items));
  }

  serve(port: MessagePort): void {
    port.on('message', (request: InferenceRequest) => void this.handle(port, request));
  }

  get stats(): InferenceStats {
    return structuredClone(this.counts);
  }

  /** Fails what waits with `reason`, then releases every session; later requests fail with it too. */
  async close(reason: string): Promise<void> {
    // Said as the inference thread stopping, whatever the reason: that is what the job's owner must know.
    this.closed = /inference thread/.test(reason) ? reason : `the inference thread stopped: ${reason}`;
    for (const { port, request } of this.queue.drain()) reply(port, { id: request.id, ok: false, message: `Model inference failed: ${this.closed}` });
    for (const model of this.models.values()) await model.then((m) => m.session.release(), () => {});
    this.models.clear();
  }

  private open(name: string): Promise<OpenModel> {
    let model = this.models.get(name);
    if (!model) {
      model = this.options.openSession(name).then((session) => ({ session, batches: sharesBatchAxis(session.inputMetadata, session.outputMetadata) }));
      this.models.set(name, model);
    }
    return model;
  }

  private async handle(port: MessagePort, request: InferenceRequest): Promise<void> {
    if (this.closed) {
      reply(port, { id: request.id, ok: false, message: `Model inference failed: ${this.closed}` });
      return;
    }
    let model: OpenModel;
    try {
      model = await this.open(request.model);
    } catch (err) {
      reply(port, { id: request.id, ok: false, message: `The inference thread could not open model ${request.model}: ${(err as Error).message}` });
      return;
    }
    if (request.op === 'open') {
      const { inputNames, outputNames, inputMetadata, outputMetadata } = model.session;
      reply(port, { id: request.id, ok: true, meta: { inputNames: [...inputNames], outputNames: [...outputNames], inputMetadata: [...inputMetadata], outputMetadata: [...outputMetadata] } });
      return;
    }
    if (!model.batches || this.options.batchImages <= 1) {
      await this.runTogether([{ port, request }]);
      return;
    }
    this.queue.push(shapeKey(request), { port, request });
  }

  /** One session run for every queued request (all of one model and input shape). */
  private async runTogether(items: QueuedRun[]): Promise<void> {
    const { model: name } = items[0].request;
    const { session } = await this.open(name);
    const names = Object.keys(items[0].request.inputs);
    const counts = items.map((i) => batchOf(i.request.inputs));
    const joined: SessionFeeds = {};
    for (const input of names) {
      const parts = items.map((i) => i.request.inputs[input]);
      joined[input] = items.length === 1 ? toTensor(parts[0]) : concatBatch(parts, this.joined.take(parts.reduce((n, p) => n + p.data.length, 0)));
    }
    let outputs: Record<string, TensorMessage[]>;
    try {
      const run = await session.run(joined);
      // One request takes the outputs whole (transferred); several get a copy of their items each.
      outputs = Object.fromEntries(Object.entries(run.outputs).map(([out, tensor]) => [out, items.length === 1 ? [tensorMessage(tensor)] : splitBatch(tensor, counts)]));
    } catch (err) {
      const message = `Inference of model ${name} failed in the inference thread (${items.length} image${items.length === 1 ? '' : 's'} in the run): ${(err as Error).message}`;
      for (const { port, request } of items) reply(port, { id: request.id, ok: false, message });
      return;
    } finally {
      if (items.length > 1) for (const t of Object.values(joined)) this.joined.give(t.data as Float32Array);
      const seen = (this.counts[name] ??= { runs: 0, requests: 0, items: 0 });
      seen.runs++;
      seen.requests += items.length;
      seen.items += counts.reduce((a, b) => a + b, 0);
    }
    items.forEach(({ port, request }, k) => {
      const mine = Object.fromEntries(Object.entries(outputs).map(([out, parts]) => [out, parts[k]]));
      const returned = Object.fromEntries(names.map((input) => [input, request.inputs[input].data]));
      reply(port, { id: request.id, ok: true, outputs: mine, returned }, buffersOf([...Object.values(mine).map((t) => t.data), ...Object.values(returned)]));
    });
  }
}

function reply(port: MessagePort, message: InferenceReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

/** Items along the batch axis of a request (head crops of one image are several). */
function batchOf(inputs: Record<string, TensorMessage>): number {
  return Object.values(inputs)[0]?.dims[0] ?? 1;
}

/** Requests join one run only with the same model, input names, types and dimensions past the batch axis. */
function shapeKey(request: Extract<InferenceRequest, { op: 'run' }>): string {
  const inputs = Object.entries(request.inputs).map(([name, t]) => `${name}:${t.type}[${t.dims.slice(1).join(',')}]`);
  return `${request.model}|${inputs.join('|')}`;
}
