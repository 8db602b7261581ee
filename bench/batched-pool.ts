// The pool in BATCH_IMAGES mode beside the unbatched pool: one inference thread owns the sessions
// and joins up to BATCH_IMAGES images' YuNet inputs per run (src/pool/batch-inference.ts). On a CPU
// this is not expected to win (one thread runs every model); the row says what it costs, and how
// many images a YuNet run actually joined.
import type { Config } from '../src/config/config.js';
import type { InferenceStats } from '../src/models/inference-host.js';
import { ImagePool } from '../src/pool/image-pool.js';
import { poolOptionsFromConfig } from '../src/pool/pool-options.js';
import type { CorpusSet } from './corpus.js';
import { round } from './stages.js';
import type { CpuSplit } from './thread-cpu.js';

export const BENCH_BATCH_IMAGES = 4;

type PoolRun = (pool: ImagePool, corpus: CorpusSet, count: number) => Promise<{ set: string; images: number; images_per_second: number; cpu: CpuSplit }>;

export interface BatchedPoolRow {
  set: string;
  batch_images: number;
  batch_wait_ms: number;
  /** onnxruntime threads of each of the inference thread's sessions. */
  intra_op_threads: number;
  images: number;
  images_per_second: number;
  /** Over the unbatched pool's figure for the same set, measured just before. */
  over_unbatched: number;
  /** Per model: images per session run (1 for batch-1 exports). */
  images_per_run: Record<string, number>;
  cpu: CpuSplit;
}

function perRun(stats: InferenceStats | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(stats ?? {}).map(([model, s]) => [model, round(s.requests / Math.max(1, s.runs))]));
}

/**
 * BATCH_IMAGES=4 (at the configured BATCH_WAIT_MS) with the inference thread's sessions at
 * ORT_INTRA_OP_THREADS, then at one onnxruntime thread per core (what a CPU-only batched node would set:
 * one thread runs all inference). Enough tasks per pool thread that a batch can fill.
 */
export async function batchedPoolRows(config: Config, corpus: CorpusSet, count: number, unbatched: number, run: PoolRun): Promise<BatchedPoolRow[]> {
  const base = poolOptionsFromConfig(config);
  const rows: BatchedPoolRow[] = [];
  for (const intraOpThreads of [...new Set([config.ortIntraOpThreads, config.poolThreads])]) {
    const batch = { images: BENCH_BATCH_IMAGES, waitMs: config.batchWaitMs };
    const pool = new ImagePool({ ...base, intraOpThreads, concurrencyPerThread: Math.max(base.concurrencyPerThread, Math.ceil(BENCH_BATCH_IMAGES / base.threads)), batch });
    try {
      await pool.warmUp();
      const result = await run(pool, corpus, count);
      rows.push({ set: result.set, batch_images: batch.images, batch_wait_ms: batch.waitMs, intra_op_threads: intraOpThreads, images: result.images, images_per_second: result.images_per_second, over_unbatched: round(result.images_per_second / unbatched), images_per_run: perRun(await pool.inferenceStats()), cpu: result.cpu });
    } finally {
      await pool.close();
    }
  }
  return rows;
}
