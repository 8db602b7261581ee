import ort from 'onnxruntime-node';

/** What onnxruntime says about one input or output: its name and its dimensions (a string for a symbolic one). */
export interface ValueMeta {
  name: string;
  shape?: Array<number | string>;
}

export interface SessionSettings {
  intraOpThreads: number;
  executionProviders: string[];
}

export type SessionFeeds = Record<string, ort.Tensor>;
export type SessionOutputs = ort.InferenceSession.OnnxValueMapType;

/** One run's outputs, and the feeds' memory when the session took it (a session in another thread gets it transferred). */
export interface SessionRun {
  outputs: SessionOutputs;
  /** By input name: the memory of that feed, handed back for reuse (the caller's own array is detached by then). */
  returned?: Record<string, ort.Tensor['data']>;
}

/**
 * The part of an onnxruntime session a Detector uses. Two kinds: the session itself, in this
 * thread (OrtModelSession), and a proxy to the inference thread of BATCH_IMAGES mode
 * (remote-session.ts), which runs several images' inputs in one call.
 */
export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueMeta[];
  readonly outputMetadata: readonly ValueMeta[];
  run(feeds: SessionFeeds): Promise<SessionRun>;
  release(): Promise<void>;
}

/** An onnxruntime session in this thread. */
export class OrtModelSession implements ModelSession {
  constructor(readonly session: ort.InferenceSession) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  get inputMetadata(): readonly ValueMeta[] {
    return this.session.inputMetadata as unknown as ValueMeta[];
  }

  get outputMetadata(): readonly ValueMeta[] {
    return this.session.outputMetadata as unknown as ValueMeta[];
  }

  async run(feeds: SessionFeeds): Promise<SessionRun> {
    return { outputs: await this.session.run(feeds) };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** Every model session pixveil makes: the providers and threads asked for, one inter-op thread, quiet loading. */
export async function openOrtSession(file: string, settings: SessionSettings): Promise<OrtModelSession> {
  const session = await ort.InferenceSession.create(file, {
    executionProviders: settings.executionProviders,
    intraOpNumThreads: settings.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // UltraFace keeps weights as graph inputs and warns about each at load.
    logSeverityLevel: 3,
  });
  return new OrtModelSession(session);
}
