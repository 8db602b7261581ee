// Per-stage milliseconds of one task (an image or a video frame), for its job record's `timings`.
import { performance } from 'node:perf_hooks';

/** Runs `work` and adds its time to the stage's milliseconds (a stage run twice adds up). */
export type Timed = <T>(stage: string, work: () => Promise<T> | T) => Promise<T>;

export function stageTimer(): { timings: Record<string, number>; timed: Timed } {
  const timings: Record<string, number> = {};
  const timed: Timed = async (stage, work) => {
    const start = performance.now();
    try {
      return await work();
    } finally {
      timings[stage] = (timings[stage] ?? 0) + Math.round((performance.now() - start) * 100) / 100;
    }
  };
  return { timings, timed };
}

/** Adds `from`'s stage times to `into`'s (a video sums its frames' and its segments' stages). */
export function addTimings(into: Record<string, number>, from: Record<string, number>): void {
  for (const [stage, ms] of Object.entries(from)) into[stage] = (into[stage] ?? 0) + ms;
}
