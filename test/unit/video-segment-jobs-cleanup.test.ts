// Who erases a segmented video's segment jobs when its attempt ends without joining them: the attempt
// itself, unless a later attempt of the video is running (this one stalled, was reclaimed and ends
// late): that attempt found the same children by id and is waiting on them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { newJobId, type Job } from '../../src/job.js';
import { LocalObjectStore } from '../../src/storage/local.js';
import { storageKeys } from '../../src/storage/keys.js';
import type { ObjectStore } from '../../src/storage/storage.js';
import { runSegmentJobs } from '../../src/video/segments/segment-jobs.js';
import { segmentJobId } from '../../src/video/segments/segment-job.js';
import type { SegmentPlan } from '../../src/video/segments/plan.js';
import type { SegmentedRun } from '../../src/video/segments/segment-run.js';

const plan: SegmentPlan = { index: 0, fromTicks: 0, toTicks: null, trackFromTicks: 0, firstFrame: 0, frames: 10, firstPts: 0, cutFromSeconds: 0, cutSeconds: null };

/**
 * One attempt of a video that ends before its children finish (reading them fails), with the video's
 * record as `recorded` says. Returns the segment ids the attempt erased and whether the child's piece is still stored.
 */
async function endAttempt(recorded: Pick<Job, 'attempts' | 'status'>): Promise<{ erased: string[]; pieceKept: boolean }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-segment-cleanup-'));
  try {
    const store: ObjectStore = new LocalObjectStore(dir);
    const parent = { id: newJobId(), attempts: 1, status: 'processing', tenant: undefined } as unknown as Job;
    const child = segmentJobId(parent.id, 0);
    const pieceKey = storageKeys.original(child, 'mp4');
    await store.put(pieceKey, Buffer.from('piece'), 'video/mp4');
    const erased: string[] = [];
    let childReads = 0;
    const queue = {
      // The child was queued by this attempt before (so it is not cut again); the next read of it fails.
      get: async (id: string) => {
        if (id === parent.id) return { ...parent, ...recorded };
        if (id === child && ++childReads === 1) return { id: child, status: 'processing', attempts: 1 } as unknown as Job;
        throw new Error('queue unreachable');
      },
      enqueue: async () => assert.fail('the child was already queued'),
      erase: async (id: string) => (erased.push(id), true),
    };
    const run = { info: { audio: [], videoOffsetSeconds: 0 }, options: { video: {} }, signal: new AbortController().signal, workDir: dir } as unknown as SegmentedRun;
    await assert.rejects(runSegmentJobs(run, { queue: queue as never, store, parent, onWaiting: () => {}, pollMs: 5 }, [plan], [0]), /queue unreachable/);
    return { erased, pieceKept: await store.exists(pieceKey) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('an attempt that ends without joining erases its segment jobs and their objects', async () => {
  const { erased, pieceKept } = await endAttempt({ attempts: 1, status: 'processing' });
  assert.equal(erased.length, 1);
  assert.equal(pieceKept, false);
});

test('an attempt that ends late, while a later attempt of the video runs, leaves the segment jobs to that attempt', async () => {
  const { erased, pieceKept } = await endAttempt({ attempts: 2, status: 'processing' });
  assert.deepEqual(erased, []);
  assert.equal(pieceKept, true, "the later attempt's segment job still needs its piece");
});

test('once the later attempt has finished, a late attempt cleans up what is left', async () => {
  const { erased } = await endAttempt({ attempts: 2, status: 'completed' });
  assert.equal(erased.length, 1);
});
