// Where a process's CPU goes, per kind of thread: /proc/<pid>/task/*/{comm,schedstat} read before and
// after a run. schedstat gives each thread's time on a CPU and its time runnable but waiting for one
// (the machine's other work, or too many of our own threads); the rest of the wall time it slept.
// A pool thread that sleeps while clients wait is starved. Linux only: elsewhere the split is empty.
import fs from 'node:fs';

export interface ThreadTimes {
  tid: number;
  name: string;
  /** ns on a CPU. */
  runNs: number;
  /** ns runnable, waiting for a CPU. */
  waitNs: number;
}

export type ThreadGroup = 'main' | 'pool' | 'onnxruntime' | 'inference' | 'libuv' | 'libvips' | 'v8 and node' | 'other';
export const THREAD_GROUPS: ThreadGroup[] = ['main', 'pool', 'onnxruntime', 'inference', 'libuv', 'libvips', 'v8 and node', 'other'];

/** Every thread of `pid` now; threads that end while being read are skipped. */
export function readThreads(pid: number): ThreadTimes[] {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: ThreadTimes[] = [];
  for (const tid of tids) {
    try {
      const name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const [run, wait] = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      out.push({ tid: Number(tid), name, runNs: run, waitNs: wait });
    } catch {
      // The thread ended between readdir and read.
    }
  }
  return out;
}

/** This process's threads when this module loaded (ESM loading has started libuv's by then). */
const startupTids = new Set(readThreads(process.pid).map((t) => t.tid));

/**
 * What each thread is. Pool threads name themselves `pool-<n>` (src/pool/thread.ts); threads a pool
 * thread starts (onnxruntime's) inherit that name but come after it. libvips names its workers. Node's
 * own threads are all `node`: the main thread is the pid, and libuv's UV_THREADPOOL_SIZE threads are
 * the last ones Node starts before any script runs (after V8's platform workers), so the highest `node` tids.
 * In this process, `node` threads started later (onnxruntime's, for sessions the main thread made) are `other`.
 */
export function classify(threads: ThreadTimes[], pid: number, uvThreads = Number(process.env.UV_THREADPOOL_SIZE) || 4): Map<number, ThreadGroup> {
  const later = (tid: number) => pid === process.pid && !startupTids.has(tid);
  const groups = new Map<number, ThreadGroup>();
  const sorted = [...threads].sort((a, b) => a.tid - b.tid);
  const seenPool = new Set<string>();
  const nodeThreads: number[] = [];
  for (const t of sorted) {
    if (t.tid === pid) groups.set(t.tid, 'main');
    else if (t.name.startsWith('pool-')) {
      groups.set(t.tid, seenPool.has(t.name) ? 'onnxruntime' : 'pool');
      seenPool.add(t.name);
    } else if (t.name === 'inference') groups.set(t.tid, 'inference'); // BATCH_IMAGES mode's thread and its onnxruntime threads
    else if (t.name.startsWith('libvips')) groups.set(t.tid, 'libvips');
    else if (t.name === 'node' && !later(t.tid)) nodeThreads.push(t.tid);
    else groups.set(t.tid, 'other');
  }
  nodeThreads.forEach((tid, i) => groups.set(tid, i >= nodeThreads.length - uvThreads ? 'libuv' : 'v8 and node'));
  return groups;
}

export interface GroupSplit {
  group: ThreadGroup;
  threads: number;
  /** CPU ms of the whole group per image. */
  cpu_ms_per_image: number;
  /** Cores the group kept busy on average (CPU time ÷ wall time). */
  cores_busy: number;
  /** ms per image the group's threads were runnable but had no CPU. */
  runqueue_ms_per_image: number;
  /** Share of the wall time an average thread of the group slept (neither running nor runnable). */
  asleep_share: number;
}

export interface CpuSplit {
  wall_ms: number;
  images: number;
  /** CPU ms of the whole process per image. */
  process_cpu_ms_per_image: number;
  groups: GroupSplit[];
}

/** Samples `pid` now; `finish()` later returns the split over the interval. */
export function startCpuSplit(pid: number, uvThreads?: number): { finish(images: number): CpuSplit } {
  const before = new Map(readThreads(pid).map((t) => [t.tid, t]));
  const start = performance.now();
  return {
    finish(images: number): CpuSplit {
      const after = readThreads(pid);
      const wallMs = performance.now() - start;
      return splitOf(pid, before, after, wallMs, images, uvThreads);
    },
  };
}

/** `uvThreads`: the process's libuv threadpool size, when it is not this process's own setting. */
export function splitOf(pid: number, before: Map<number, ThreadTimes>, after: ThreadTimes[], wallMs: number, images: number, uvThreads?: number): CpuSplit {
  const groups = classify(after, pid, uvThreads);
  const acc = new Map<ThreadGroup, { threads: number; run: number; wait: number; asleep: number }>();
  for (const t of after) {
    const b = before.get(t.tid);
    const run = (t.runNs - (b?.runNs ?? 0)) / 1e6;
    const wait = (t.waitNs - (b?.waitNs ?? 0)) / 1e6;
    const group = groups.get(t.tid) ?? 'other';
    const a = acc.get(group) ?? { threads: 0, run: 0, wait: 0, asleep: 0 };
    a.threads++;
    a.run += run;
    a.wait += wait;
    a.asleep += Math.max(0, 1 - (run + wait) / wallMs);
    acc.set(group, a);
  }
  const per = (v: number) => round(v / Math.max(1, images));
  let total = 0;
  const rows: GroupSplit[] = [];
  for (const group of THREAD_GROUPS) {
    const a = acc.get(group);
    if (!a) continue;
    total += a.run;
    rows.push({ group, threads: a.threads, cpu_ms_per_image: per(a.run), cores_busy: round(a.run / wallMs), runqueue_ms_per_image: per(a.wait), asleep_share: round(a.asleep / a.threads) });
  }
  return { wall_ms: round(wallMs), images, process_cpu_ms_per_image: per(total), groups: rows };
}

/** Load average over the last minute, for the report: other work on the machine skews every wall-clock number. */
export function loadAverage(): number {
  try {
    return Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
