import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { JobOptions } from '../job.js';
import type { InferenceStats } from '../models/inference-host.js';
import { batchingOn, inferencePortIn, InferenceThread } from './batch-inference.js';
import { ownedArrayBuffer } from './owned-array-buffer.js';
import { threadExecArgv, tuneThreadHeaps, type ThreadHeapTuning } from './thread-heap.js';
import type { FrameBoxInput, FrameTask, FrameTaskResult, ImageTask, ImageTaskFailure, ImageTaskResult, ThreadReport, ThreadSetup } from './task.js';

export interface ImagePoolOptions extends ThreadSetup {
  threads: number;
  concurrencyPerThread: number;
  /** POOL_THREAD_HEAP_MB (thread-heap.ts); absent or 0: V8's defaults. */
  threadHeapMb?: number;
}

/** Under tsx the sources are .ts; compiled, the thread entry is the .js beside this file. */
function threadEntryFile(): string {
  const js = fileURLToPath(new URL('./thread.js', import.meta.url));
  return fs.existsSync(js) ? js : fileURLToPath(new URL('./thread.ts', import.meta.url));
}

/** A fixed pool of threads, each with its own model sessions, fed image bytes by transfer. */
export class ImagePool {
  private readonly piscina: Piscina;
  private busy = 0;
  /** BATCH_IMAGES mode: the thread that owns the model sessions; the pool threads reach it by port. */
  readonly inference?: InferenceThread;
  readonly threads: number;
  readonly capacity: number;
  /**
   * Errors piscina raised outside any task: a thread that died while idle, or a reply it could not
   * match to a task (a thread's reply racing its own crash). Counted here instead of thrown, since an
   * 'error' event without a listener would end the whole service; the tasks themselves are failed by piscina.
   */
  readonly strayErrors: Error[] = [];
  /** What POOL_THREAD_HEAP_MB set, for the start-up log. */
  readonly heap: ThreadHeapTuning;

  constructor(options: ImagePoolOptions) {
    const { threads, concurrencyPerThread, threadHeapMb, ...setup } = options;
    // Before the first thread (isolate) exists.
    this.heap = tuneThreadHeaps(threadHeapMb ?? 0);
    this.threads = threads;
    this.capacity = threads * concurrencyPerThread;
    this.piscina = new Piscina({
      filename: threadEntryFile(),
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: concurrencyPerThread,
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData: setup,
      execArgv: threadExecArgv(process.execArgv),
    });
    this.piscina.on('error', (err: Error) => {
      if (this.strayErrors.length < 16) this.strayErrors.push(err);
    });
    if (batchingOn(setup)) {
      const inference = new InferenceThread(setup);
      this.inference = inference;
      this.piscina.on('message', (message: unknown) => {
        const port = inferencePortIn(message);
        if (port) inference.connect(port);
      });
    }
  }

  /** BATCH_IMAGES mode: session runs, images and items per model so far; undefined when off. */
  async inferenceStats(): Promise<InferenceStats | undefined> {
    return this.inference?.stats();
  }

  /** Resolves once the threads have loaded their models (rejects with the load error); reports what answered. */
  async warmUp(): Promise<ThreadReport[]> {
    return Promise.all(Array.from({ length: this.capacity }, () => this.piscina.run({ warmup: true }) as Promise<ThreadReport>));
  }

  /** The bytes are detached from the caller once this is called. */
  async run(image: Buffer, options: JobOptions): Promise<ImageTaskResult | ImageTaskFailure> {
    const buffer = ownedArrayBuffer(image);
    const task: ImageTask = { image: buffer, options };
    this.busy++;
    try {
      return (await this.piscina.run(task, { transferList: [buffer] })) as ImageTaskResult | ImageTaskFailure;
    } finally {
      this.busy--;
    }
  }

  /**
   * One raw RGB video frame: detections found on it, or (with `boxes`) blurred in place. The
   * pixels are transferred to the thread and back (the caller's ArrayBuffer is detached; use the
   * result's). Frame tasks share the slots and threads of image jobs.
   */
  async runFrame(pixels: ArrayBuffer, width: number, height: number, options: JobOptions, boxes?: FrameBoxInput[]): Promise<FrameTaskResult | ImageTaskFailure> {
    const task: FrameTask = { frame: { pixels, width, height }, options, ...(boxes ? { boxes } : {}) };
    this.busy++;
    try {
      return (await this.piscina.run(task, { transferList: [pixels] })) as FrameTaskResult | ImageTaskFailure;
    } finally {
      this.busy--;
    }
  }

  /** Share of task slots in use, 0..1. */
  get utilization(): number {
    return Math.min(1, this.busy / this.capacity);
  }

  get inFlight(): number {
    return this.busy;
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
    await this.inference?.stop('the pool is closing');
  }
}
