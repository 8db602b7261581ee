import type { MessagePort } from 'node:worker_threads';
import { buffersOf, outputsOf, tensorMessage, type InferenceReply, type InferenceRequest, type SessionMeta } from './inference-protocol.js';
import type { ModelSession, SessionFeeds, SessionRun, ValueMeta } from './model-session.js';

type Pending = { resolve: (reply: InferenceReply & { ok: true }) => void; reject: (err: Error) => void };

/**
 * A pool thread's end of its channel to the inference thread (BATCH_IMAGES mode): opens models
 * there and runs them, many requests in flight. When the channel closes (the inference thread
 * stopped) every pending and later call fails at once with that reason, so no job waits forever.
 */
export class InferenceClient {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed?: string;

  constructor(private readonly port: MessagePort) {
    port.on('message', (reply: InferenceReply) => this.answer(reply));
    port.on('close', () => this.close('the inference thread stopped'));
  }

  async open(model: string): Promise<RemoteSession> {
    const reply = await this.request({ op: 'open', id: 0, model }, []);
    if (!('meta' in reply)) throw new Error(`The inference thread answered opening ${model} without the model's inputs and outputs`);
    return new RemoteSession(this, model, reply.meta);
  }

  /** `transfer`: the buffers the request's tensors live in; they are detached from this thread until the reply returns them. */
  request(message: InferenceRequest, transfer: ArrayBuffer[]): Promise<InferenceReply & { ok: true }> {
    if (this.closed) return Promise.reject(new Error(`Cannot run ${message.model}: ${this.closed}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.port.postMessage({ ...message, id }, transfer);
    });
  }

  /** Fails every pending call; later calls fail at once. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = reason;
    for (const { reject } of this.pending.values()) reject(new Error(`Model inference failed: ${reason}`));
    this.pending.clear();
    this.port.close();
  }

  private answer(reply: InferenceReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (reply.ok) pending.resolve(reply);
    else pending.reject(new Error(reply.message));
  }
}

/** A model whose session the inference thread owns; a Detector uses it like its own. */
export class RemoteSession implements ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueMeta[];
  readonly outputMetadata: readonly ValueMeta[];

  constructor(
    private readonly client: InferenceClient,
    readonly model: string,
    meta: SessionMeta,
  ) {
    ({ inputNames: this.inputNames, outputNames: this.outputNames, inputMetadata: this.inputMetadata, outputMetadata: this.outputMetadata } = meta);
  }

  /** The feeds' memory is transferred to the inference thread and comes back as `returned`. */
  async run(feeds: SessionFeeds): Promise<SessionRun> {
    const inputs = Object.fromEntries(Object.entries(feeds).map(([name, tensor]) => [name, tensorMessage(tensor)]));
    const reply = await this.client.request({ op: 'run', id: 0, model: this.model, inputs }, buffersOf(Object.values(inputs).map((t) => t.data)));
    if (!('outputs' in reply)) throw new Error(`The inference thread answered a run of ${this.model} without outputs`);
    return { outputs: outputsOf(reply.outputs), returned: reply.returned };
  }

  /** The inference thread owns the session; it is released when that thread ends. */
  async release(): Promise<void> {}
}
