// POOL_THREAD_HEAP_MB: where each pool thread's V8 heap starts full garbage collections.
// V8 starts marking whenever the old generation's headroom falls under one new space (16 MB), and
// sizes a new isolate's limit from its live data: a pool thread holds ~10 MB of JS, so its limit
// (~25 MB) was always within reach and it marked and compacted about once per image, on its own
// thread and V8's helpers, for a heap that did not grow. bench/settings-ab.ts measures it.
import v8 from 'node:v8';

/** What `threadHeapMb` set, for the start-up log. */
export interface ThreadHeapTuning {
  applied: boolean;
  detail: string;
}

/**
 * V8's flags are the process's: this holds for every isolate made afterwards (pool threads, the
 * inference thread), never the main thread's, which exists already. One value per process: the
 * last pool made decides for threads made after it.
 */
export function tuneThreadHeaps(threadHeapMb: number): ThreadHeapTuning {
  if (threadHeapMb <= 0) return { applied: false, detail: 'POOL_THREAD_HEAP_MB=0: V8 defaults' };
  v8.setFlagsFromString(`--initial-old-space-size=${threadHeapMb}`);
  return { applied: true, detail: `full collections from ${threadHeapMb} MB of old space per thread` };
}

/**
 * The process's node flags for its threads (a loader such as tsx's must reach them), less V8's heap
 * sizes: a thread refuses those (ERR_WORKER_INVALID_EXEC_ARGV), and its heap is POOL_THREAD_HEAP_MB's.
 */
export function threadExecArgv(execArgv: readonly string[]): string[] {
  return execArgv.filter((a) => !/^--(initial-old-space-size|initial-heap-size|max-old-space-size|max-semi-space-size|min-semi-space-size)(=|$)/.test(a));
}
