// BATCH_IMAGES mode, both ends: the main thread starts the inference thread and hands it each
// pool thread's port; a pool thread opens its detectors over that port instead of loading models.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, parentPort, Worker, type MessagePort } from 'node:worker_threads';
import { ConfigError, type Config } from '../config/config.js';
import { Detector } from '../models/detector.js';
import type { InferenceStats } from '../models/inference-host.js';
import { INFERENCE_PORT_KEY } from '../models/inference-protocol.js';
import type { ModelManifest } from '../models/manifest.js';
import { InferenceClient } from '../models/remote-session.js';
import type { InferenceThreadMessage } from './inference-thread.js';
import type { BatchSettings, ThreadSetup } from './task.js';
import { threadExecArgv } from './thread-heap.js';

export const batchingOn = (setup: Pick<ThreadSetup, 'batch'>): boolean => (setup.batch?.images ?? 1) > 1;

/**
 * BATCH_IMAGES and BATCH_WAIT_MS for the pool. A batch larger than the jobs the pool holds at once
 * (POOL_THREADS × POOL_TASKS_PER_THREAD) could never fill, and every run would wait BATCH_WAIT_MS: refused.
 */
export function batchSettingsFromConfig(config: Pick<Config, 'batchImages' | 'batchWaitMs' | 'poolThreads' | 'tasksPerThread'>): BatchSettings | undefined {
  if (config.batchImages <= 1) return undefined;
  const inFlight = config.poolThreads * config.tasksPerThread;
  if (config.batchImages > inFlight) {
    throw new ConfigError(`BATCH_IMAGES=${config.batchImages} can never fill: the pool holds ${inFlight} jobs at once (POOL_THREADS=${config.poolThreads} × POOL_TASKS_PER_THREAD=${config.tasksPerThread}); raise POOL_TASKS_PER_THREAD or lower BATCH_IMAGES`);
  }
  return { images: config.batchImages, waitMs: config.batchWaitMs };
}

/** Under tsx the sources are .ts; compiled, the entry is the .js beside this file. */
function entryFile(): string {
  const js = fileURLToPath(new URL('./inference-thread.js', import.meta.url));
  return fs.existsSync(js) ? js : fileURLToPath(new URL('./inference-thread.ts', import.meta.url));
}

/** The main thread's handle on the inference thread. */
export class InferenceThread {
  private readonly worker: Worker;
  private stopped?: string;
  private exited = false;
  private nextStats = 1;
  private readonly statsWaiting = new Map<number, (stats: InferenceStats) => void>();

  constructor(setup: ThreadSetup) {
    this.worker = new Worker(entryFile(), { workerData: setup, execArgv: threadExecArgv(process.execArgv) });
    this.worker.on('message', (m: { stats: number; value: InferenceStats }) => {
      this.statsWaiting.get(m.stats)?.(m.value);
      this.statsWaiting.delete(m.stats);
    });
    // Its ports close with it: pool threads then fail their pending and later runs with that (remote-session.ts).
    this.worker.on('error', (err) => (this.stopped = `the inference thread failed: ${err.message}`));
    this.worker.on('exit', (code) => {
      this.exited = true;
      this.stopped ??= `the inference thread exited with code ${code}`;
      for (const resolve of this.statsWaiting.values()) resolve({});
      this.statsWaiting.clear();
    });
  }

  /** Why the thread is gone, or undefined while it runs. */
  get failure(): string | undefined {
    return this.stopped;
  }

  /** A pool thread's port; closed at once when the thread is gone, so that pool thread fails its runs rather than waiting. */
  connect(port: MessagePort): void {
    if (this.stopped) {
      port.close();
      return;
    }
    this.worker.postMessage({ connect: port } satisfies InferenceThreadMessage, [port]);
  }

  /** Runs, requests and items per model so far ({} once the thread is gone). */
  stats(): Promise<InferenceStats> {
    if (this.stopped) return Promise.resolve({});
    const id = this.nextStats++;
    return new Promise((resolve) => {
      this.statsWaiting.set(id, resolve);
      this.worker.postMessage({ stats: id } satisfies InferenceThreadMessage);
    });
  }

  /**
   * Ends the thread once its current run is over: what waits fails with `reason`, then every pool
   * thread's port closes with it. (Worker.terminate() during an onnxruntime run aborts the process.)
   */
  async stop(reason = 'the inference thread was stopped'): Promise<void> {
    if (this.exited) return;
    this.stopped ??= reason;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage({ stop: reason } satisfies InferenceThreadMessage);
    await exited;
  }
}

/** A message from a pool thread that carries its port for the inference thread. */
export function inferencePortIn(message: unknown): MessagePort | undefined {
  const port = (message as Record<string, unknown> | null)?.[INFERENCE_PORT_KEY];
  return port && typeof (port as MessagePort).postMessage === 'function' ? (port as MessagePort) : undefined;
}

let client: InferenceClient | undefined;

/** In a pool thread: this thread's channel to the inference thread, opened on first use through the parent (the ImagePool). */
function inferenceClient(): InferenceClient {
  if (!client) {
    const { port1, port2 } = new MessageChannel();
    parentPort!.postMessage({ [INFERENCE_PORT_KEY]: port2 }, [port2]);
    client = new InferenceClient(port1);
  }
  return client;
}

/** In a pool thread: a detector whose session lives in the inference thread, checked against its manifest like a local one. */
export async function openRemoteDetector(manifest: ModelManifest, file: string): Promise<Detector> {
  return Detector.open(manifest, file, await inferenceClient().open(manifest.name));
}
