// Entry point of each pool thread: builds its own onnxruntime sessions once, then runs
// the pipeline for each task it is handed.
import fs from 'node:fs';
import { constants as perfConstants, PerformanceObserver } from 'node:perf_hooks';
import { threadId, workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import sharp from 'sharp';
import { errors, isPixveilError } from '../errors.js';
import { Detector } from '../models/detector.js';
import { loadDetectors } from '../models/load-detectors.js';
import { loadManifests } from '../models/manifest.js';
import { modelPath } from '../models/files.js';
import { processImage } from '../pipeline/process-image.js';
import { ownedArrayBuffer } from './owned-array-buffer.js';
import { runFrameTask } from './frame-task.js';
import type { FrameTask, FrameTaskResult, ImageTask, ImageTaskFailure, ImageTaskResult, ThreadReport, ThreadSetup } from './task.js';
import { batchingOn, openRemoteDetector } from './batch-inference.js';

// One libvips thread per pool thread: the pool already spreads work over the cores.
sharp.concurrency(1);
sharp.cache(false);

const setup = workerData as ThreadSetup;

/**
 * Names the OS thread (Linux: /proc/thread-self/comm, 15 bytes), so `top -H` and the bench's per-thread
 * CPU split (bench/thread-cpu.ts) tell pool threads from Node's own. Elsewhere nothing happens.
 */
function nameThisThread(name: string): void {
  try {
    fs.writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
  } catch {
    // No procfs: the name is only for observation.
  }
}
nameThisThread(`pool-${threadId}`);

/** Full (mark-compact) collections of this thread's heap so far: what POOL_THREAD_HEAP_MB is for (thread-heap.ts). */
let majorCollections = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (((entry as { detail?: { kind?: number } }).detail)?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) majorCollections++;
}).observe({ entryTypes: ['gc'] });

/** Sessions this thread created; a test proves it stays one per model however many tasks run. */
let sessionsCreated = 0;
const session = { intraOpThreads: setup.intraOpThreads, executionProviders: setup.executionProviders };
// BATCH_IMAGES > 1: the sessions live in the inference thread, this thread holds proxies to them.
const open = batchingOn(setup) ? openRemoteDetector : undefined;
const detectorsReady = loadDetectors(setup.models, loadManifests(setup.extraManifestDir), (manifest) => modelPath(setup.modelDir, manifest), session, open).then((detectors) => {
  sessionsCreated += Object.values(detectors).filter((d) => d instanceof Detector).length;
  return detectors;
});
// Surface a load failure on the first task rather than as an unhandled rejection.
detectorsReady.catch(() => {});

export default async function runImageTask(task: ImageTask | FrameTask | { warmup: true }): Promise<ImageTaskResult | FrameTaskResult | ImageTaskFailure | ThreadReport> {
  const detectors = await detectorsReady;
  if ('warmup' in task) return { ok: true, threadId, sessions: sessionsCreated, majorCollections };
  if ('frame' in task) return runFrameTask(task, detectors, setup.detection);
  try {
    const result = await processImage(Buffer.from(task.image), task.options, detectors, { maxPixels: setup.maxPixels, maxDimension: setup.maxDimension }, setup.detection);
    const image = ownedArrayBuffer(result.image);
    const reply: ImageTaskResult = { ok: true, ...result, image };
    // Piscina transfers what transferableSymbol lists and delivers valueSymbol: the encoded image is not copied.
    return Piscina.move({ [Piscina.transferableSymbol]: [image], [Piscina.valueSymbol]: reply } as never) as unknown as ImageTaskResult;
  } catch (err) {
    const e = isPixveilError(err) ? err : errors.processingFailed((err as Error).message);
    return { ok: false, code: e.code, message: e.message, retryable: e.retryable };
  }
}
