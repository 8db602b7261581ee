import v8 from 'node:v8';
import vm from 'node:vm';

// Buffers live in ArrayBuffer memory outside V8's heap; process.memoryUsage().arrayBuffers counts
// them. Measured after a full GC, so garbage not yet collected does not count, only what is held.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function liveArrayBuffers(): number {
  gc();
  return process.memoryUsage().arrayBuffers;
}

/**
 * The most ArrayBuffer memory (Buffers) held at once while `work` runs, above what was held before
 * it started, sampled after a GC every `everyMs` (a full GC of a node's heap takes tens of ms: sampling
 * more often slows the work down many times). A sample can miss a short peak, never invent one: a
 * body held whole for the length of an upload is seen.
 */
export async function peakLiveBuffers<T>(work: () => Promise<T>, everyMs = 200): Promise<{ result: T; peakBytes: number }> {
  const base = liveArrayBuffers();
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, liveArrayBuffers() - base)), everyMs);
  try {
    const result = await work();
    return { result, peakBytes: peak };
  } finally {
    clearInterval(timer);
  }
}
