// The segments of a long video as queued jobs of their own: the worker running the video (the
// parent) cuts each piece, stores it where every node can read it and enqueues a child job
// `<parent>-s<n>`; any worker takes the children (several at once, on several nodes), while the
// parent waits holding no pool slot, then fetches their encoded segments to join them here.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { errors, isPixveilError, PixveilError } from '../../errors.js';
import { isFinished, type Job } from '../../job.js';
import { addTimings } from '../../pipeline/stage-timer.js';
import type { JobQueue } from '../../queue/queue.js';
import { deleteJobObjects } from '../../storage/expiry.js';
import { storageKeys } from '../../storage/keys.js';
import type { ObjectStore } from '../../storage/storage.js';
import { abortReason } from '../process-video.js';
import type { TrackRecord } from '../tracker.js';
import { cutPiece } from './piece.js';
import type { SegmentPlan } from './plan.js';
import { segmentJobId, type SegmentOfVideo, type SegmentRecord } from './segment-job.js';
import { segmentSettings, type SegmentedRun, type SegmentJobsLink, type SegmentOutputs } from './segment-run.js';


/** What a segment job stores beside its output (job-runner's metadata record). */
interface SegmentMetadata {
  tracks?: TrackRecord[];
  segment?: SegmentRecord;
}

export async function runSegmentJobs(run: SegmentedRun, link: SegmentJobsLink, plans: SegmentPlan[], pts: readonly number[]): Promise<SegmentOutputs> {
  const { queue, store, parent } = link;
  const ids = plans.map((p) => segmentJobId(parent.id, p.index));
  const framesKey = storageKeys.segmentFrames(parent.id);
  const timings: Record<string, number> = { cut: 0 };
  let finished = false;
  try {
    await store.put(framesKey, Buffer.from(JSON.stringify(pts)), 'application/json');
    const settings = segmentSettings(run.info, run.options);
    for (const plan of plans) {
      const id = ids[plan.index];
      // A parent run again (its worker died) finds the children it queued and queues only the missing ones.
      if (await queue.get(id)) continue;
      const piece = path.join(run.workDir, `piece-${plan.index}.mp4`);
      const cutStart = performance.now();
      await cutPiece(run.ffmpeg, run.input, piece, run.info, plan, run.signal);
      if (run.signal.aborted) throw abortReason(run.signal);
      const key = storageKeys.original(id, 'mp4');
      await store.putFile(key, piece, 'video/mp4');
      const bytes = (await fs.promises.stat(piece)).size;
      await fs.promises.rm(piece, { force: true });
      timings.cut += performance.now() - cutStart;
      const segment: SegmentOfVideo = { parentId: parent.id, index: plan.index, fromTicks: plan.fromTicks, toTicks: plan.toTicks, trackFromTicks: plan.trackFromTicks, firstFrame: plan.firstFrame, frames: plan.frames, info: settings.info, framesKey };
      const now = Date.now();
      // No callback (the parent's webhook reports the video) and no idempotency key; the tenant for the record.
      await queue.enqueue({ id, kind: 'video', status: 'queued', tenant: parent.tenant, createdAt: now, updatedAt: now, attempts: 0, options: settings.options, input: { key, filename: `segment-${plan.index}.mp4`, bytes, format: 'mp4' }, segment }).catch((err) => {
        // A full queue refuses an upload for good (429), but the video was accepted: its attempt is tried again later.
        if (isPixveilError(err) && err.code === 'QUEUE_FULL') throw new PixveilError('QUEUE_FULL', `${err.message} (the video's segment jobs could not be queued)`, { retryable: true });
        throw err;
      });
    }
    link.onWaiting();
    const waitStart = performance.now();
    const children = await waitForChildren(run, link, ids, plans);
    timings.segments = performance.now() - waitStart;
    const fetchStart = performance.now();
    const outputs = await fetchOutputs(run, store, children);
    timings.fetch_segments = performance.now() - fetchStart;
    addTimings(timings, outputs.timings);
    finished = true;
    return { ...outputs, timings };
  } finally {
    // Stopped by a shutdown (not erased, not timed out): the children stay for the parent's next
    // attempt, which finds them by id. However else it ends, they go with their objects.
    const shutdown = !finished && run.signal.aborted && !isPixveilError(run.signal.reason);
    // Queue or store unreachable: what is left expires with its records (JOB_TTL_SECONDS) and the storage
    // sweep; the video's own outcome (or error) is what counts.
    if (!shutdown && !(await supersededAttempt(queue, parent))) await eraseSegmentJobs(queue, store, parent.id, ids.length).catch(() => undefined);
  }
}

/** Waits until every child completed, summing their frames as the parent's progress; a child that failed for good fails the parent. */
async function waitForChildren(run: SegmentedRun, link: SegmentJobsLink, ids: string[], plans: SegmentPlan[]): Promise<Job[]> {
  const done = new Map<string, Job>();
  let lastReported = -1;
  for (;;) {
    if (run.signal.aborted) throw abortReason(run.signal);
    let framesDone = 0;
    for (const [i, id] of ids.entries()) {
      const finished = done.get(id);
      if (finished) {
        framesDone += plans[i].frames;
        continue;
      }
      const child = await link.queue.get(id);
      if (!child) throw errors.segmentFailed(plans[i].index, 'SEGMENT_LOST', 'its job record is gone (erased or expired)');
      if (child.status === 'failed') throw errors.segmentFailed(plans[i].index, child.error?.code ?? 'INTERNAL', child.error?.message ?? 'no reason recorded');
      if (child.status === 'completed') {
        done.set(id, child);
        framesDone += plans[i].frames;
      } else {
        framesDone += Math.min(child.progress?.framesDone ?? 0, plans[i].frames);
      }
    }
    if (framesDone !== lastReported) run.onProgress?.(framesDone);
    lastReported = framesDone;
    if (done.size === ids.length) return ids.map((id) => done.get(id)!);
    await pause(link.pollMs, run.signal);
  }
}

/** Each child's encoded segment into the work folder, and its tracks and timings from its metadata record. */
async function fetchOutputs(run: SegmentedRun, store: ObjectStore, children: Job[]): Promise<SegmentOutputs> {
  const files: string[] = [];
  const tracks: TrackRecord[] = [];
  const timings: Record<string, number> = {};
  const models: Record<string, string> = {};
  const records: NonNullable<SegmentOutputs['records']> = [];
  for (const [index, child] of children.entries()) {
    const result = child.result!;
    const file = path.join(run.workDir, `segment-${index}.mp4`);
    const { stream } = await store.getStream(result.processedKey);
    await pipeline(stream, fs.createWriteStream(file));
    files.push(file);
    const metadata = JSON.parse((await store.get(result.metadataKey)).toString('utf8')) as SegmentMetadata;
    // A worker that does not know segment jobs (a rolling upgrade) runs the piece as a whole video: never join that.
    if (!metadata.segment || result.video?.frames !== child.segment?.frames) throw errors.segmentFailed(index, 'NOT_A_SEGMENT', `job ${child.id} was run as a whole video (${result.video?.frames} frames), by a worker that does not know segment jobs`);
    tracks.push(...(metadata.tracks ?? []));
    records.push({ job_id: child.id, ...metadata.segment });
    // The stages the children ran (decode, detect, blur, encode...), summed as the in-process run sums them.
    for (const [stage, ms] of Object.entries(result.timings)) {
      if (stage === 'queue_wait' || stage === 'store' || stage === 'fetch_original') continue;
      timings[stage] = (timings[stage] ?? 0) + ms;
    }
    Object.assign(models, result.models);
  }
  return { files, tracks, timings, models, records };
}

/**
 * Erases a video's segment jobs and every object they and the video's frame list left: records
 * (a child still running elsewhere is then stopped at its next progress report), pieces, outputs.
 * `count` absent: ids are tried from s0 on until one has neither a record nor objects (DELETE).
 */
export async function eraseSegmentJobs(queue: Pick<JobQueue, 'erase'>, store: ObjectStore, parentId: string, count?: number): Promise<number> {
  let erased = 0;
  for (let index = 0; count === undefined || index < count; index++) {
    const id = segmentJobId(parentId, index);
    const hadRecord = await queue.erase(id);
    const objects = await deleteJobObjects(store, id);
    if (count === undefined && !hadRecord && objects === 0) break;
    if (hadRecord || objects > 0) erased++;
  }
  await store.delete(storageKeys.segmentFrames(parentId));
  return erased;
}

/**
 * Whether a later attempt of the video runs now: this one stalled, was reclaimed, and ends late. The
 * children are that attempt's too (it found them by id), so they are left for it to join and erase.
 */
async function supersededAttempt(queue: Pick<JobQueue, 'get'>, parent: Job): Promise<boolean> {
  const current = await queue.get(parent.id).catch(() => undefined);
  return current !== undefined && current.attempts > parent.attempts && !isFinished(current);
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
