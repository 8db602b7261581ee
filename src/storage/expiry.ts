// Storage objects never outlive their job record. A job's record lasts JOB_TTL_SECONDS past its
// last change and every object of the job is written before that change, so an object older than
// the TTL whose job has no record (expired, erased, or lost with an embedded node's memory) can no
// longer be served and is deleted. The objects' own ages are the index: nothing extra has to be
// written or survive a crash, and any node (or a restarted one) finds the same answer.
import type { Logger } from '../observability/logger.js';
import { JOB_OBJECT_FOLDERS, jobIdOfKey, jobObjectPrefixes } from './keys.js';
import type { ObjectStore } from './storage.js';

export interface JobObjectSweeperOptions {
  store: ObjectStore;
  /** Whether the job still has a record (its objects are then left alone); throws when that cannot be told. */
  hasRecord: (jobId: string) => Promise<boolean>;
  /** JOB_TTL_SECONDS in ms: younger objects are never touched (an upload's original is stored just before its record). */
  ttlMs: number;
  /** Pause between sweeps (STORAGE_SWEEP_SECONDS). */
  intervalMs: number;
  /** With several nodes: whether this node runs the sweep due now (one node per interval); absent: always. */
  claimRound?: (ms: number) => Promise<boolean>;
  log: Logger;
}

export interface SweepCounts {
  /** Objects old enough to be looked at. */
  examined: number;
  deleted: number;
}

/** Deletes every object of one job (all extensions and attempts); how many there were. */
export async function deleteJobObjects(store: ObjectStore, jobId: string): Promise<number> {
  let deleted = 0;
  for (const prefix of jobObjectPrefixes(jobId)) {
    const keys: string[] = [];
    for await (const object of store.list(prefix)) keys.push(object.key);
    await Promise.all(keys.map((key) => store.delete(key)));
    deleted += keys.length;
  }
  return deleted;
}

/** Periodically deletes the objects of jobs that no longer have a record. */
export class JobObjectSweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly options: JobObjectSweeperOptions) {}

  /** The first sweep runs at once: a restarted embedded node has files whose records died with it. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round().finally(() => {
        this.running = undefined;
        this.schedule(this.options.intervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async round(): Promise<void> {
    const { log, claimRound, intervalMs } = this.options;
    try {
      if (claimRound && !(await claimRound(intervalMs))) return;
      const counts = await this.sweep();
      if (counts.deleted > 0) log.info('deleted stored objects of expired jobs', { ...counts });
    } catch (err) {
      log.warn('storage sweep failed; trying again at the next interval', { error: (err as Error).message });
    }
  }

  /** One pass over every job object; exported for tests and callers that want it now. */
  async sweep(now = Date.now()): Promise<SweepCounts> {
    const { store, hasRecord, ttlMs } = this.options;
    const cutoff = now - ttlMs;
    const live = new Map<string, boolean>();
    const counts: SweepCounts = { examined: 0, deleted: 0 };
    for (const folder of JOB_OBJECT_FOLDERS) {
      for await (const object of store.list(folder)) {
        if (this.stopped) return counts;
        if (object.modifiedAt > cutoff) continue;
        const id = jobIdOfKey(object.key);
        if (!id) continue;
        counts.examined++;
        let hasOne = live.get(id);
        if (hasOne === undefined) {
          hasOne = await hasRecord(id);
          live.set(id, hasOne);
        }
        if (hasOne) continue;
        await store.delete(object.key);
        counts.deleted++;
      }
    }
    return counts;
  }

  /** Stops the timer and lets a sweep in progress end at its next object. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
