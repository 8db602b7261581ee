// Entry point of the inference thread of BATCH_IMAGES mode: owns every model session of the pool
// and serves the port each pool thread hands over (through the main thread), joining images'
// inputs per run (models/inference-host.ts).
import fs from 'node:fs';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { InferenceHost } from '../models/inference-host.js';
import { loadManifests } from '../models/manifest.js';
import { modelPath } from '../models/files.js';
import { openOrtSession } from '../models/model-session.js';
import type { ThreadSetup } from './task.js';

/** Main thread → inference thread. */
export type InferenceThreadMessage = { connect: MessagePort } | { stats: number } | { stop: string };

const setup = workerData as ThreadSetup;

// Named like the pool threads (pool-<id>), so top -H and the bench's per-thread CPU split show it.
try {
  fs.writeFileSync('/proc/thread-self/comm', 'inference');
} catch {
  // No procfs: the name is only for observation.
}

const manifests = loadManifests(setup.extraManifestDir);
const host = new InferenceHost({
  batchImages: setup.batch?.images ?? 1,
  batchWaitMs: setup.batch?.waitMs ?? 0,
  openSession: async (name) => {
    const manifest = manifests.get(name);
    if (!manifest) throw new Error(`Unknown model ${name}`);
    return openOrtSession(modelPath(setup.modelDir, manifest), { intraOpThreads: setup.intraOpThreads, executionProviders: setup.executionProviders });
  },
});

// Messages arrive between runs only (a run holds the thread), so stopping never interrupts onnxruntime
// mid-call: Worker.terminate() during a run aborts the whole process (a Napi::Error thrown out of the binding).
parentPort!.on('message', (message: InferenceThreadMessage) => {
  if ('connect' in message) host.serve(message.connect);
  else if ('stats' in message) parentPort!.postMessage({ stats: message.stats, value: host.stats });
  else void host.close(message.stop).finally(() => process.exit(0));
});
