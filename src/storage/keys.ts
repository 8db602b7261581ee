// Every object key pixveil writes is built here from a job id it generated itself,
// so no user-supplied string (file name, header) can reach a key.
import { IMAGE_EXTS, type ImageExt } from '../image-format.js';
import { VIDEO_EXTS, type VideoExt } from '../video-format.js';
import { isJobId } from '../job.js';

function checkedId(jobId: string): string {
  if (!isJobId(jobId)) throw new Error(`Refusing to build a storage key from job id ${JSON.stringify(jobId)}`);
  return jobId;
}

function checkedExt(ext: string): string {
  if (!(IMAGE_EXTS as readonly string[]).includes(ext) && !(VIDEO_EXTS as readonly string[]).includes(ext)) throw new Error(`Refusing to build a storage key with extension ${JSON.stringify(ext)}`);
  return ext;
}

function checkedAttempt(attempt: number): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new Error(`Refusing to build a storage key for attempt ${JSON.stringify(attempt)}`);
  return attempt;
}

// Outputs are attempt-scoped: two attempts of one job (a stalled one finishing late, and its
// reclaim) never write the same object, so the one the queue records first keeps its bytes.
export const storageKeys = {
  original: (jobId: string, ext: ImageExt | VideoExt) => `original/${checkedId(jobId)}.${checkedExt(ext)}`,
  processed: (jobId: string, ext: ImageExt | VideoExt, attempt: number) => `processed/${checkedId(jobId)}.${checkedAttempt(attempt)}.${checkedExt(ext)}`,
  metadata: (jobId: string, attempt: number) => `metadata/${checkedId(jobId)}.${checkedAttempt(attempt)}.json`,
  /** A segmented video's frame list (every packet's pts), read by its segment jobs on any node. */
  segmentFrames: (jobId: string) => `segments/${checkedId(jobId)}.frames.json`,
};

/** The folders of job objects; every key under them starts with `<folder><job id>.`. */
export const JOB_OBJECT_FOLDERS = ['original/', 'processed/', 'metadata/', 'segments/'] as const;

/** Listing prefixes that match every object of one job (all extensions and attempts) and no other job's. */
export function jobObjectPrefixes(jobId: string): string[] {
  return JOB_OBJECT_FOLDERS.map((folder) => `${folder}${checkedId(jobId)}.`);
}

/** The job id an object key belongs to, or undefined for anything keys.ts did not build (temp files, strangers). */
export function jobIdOfKey(key: string): string | undefined {
  const folder = JOB_OBJECT_FOLDERS.find((f) => key.startsWith(f));
  if (!folder) return undefined;
  const id = key.slice(folder.length).split('.')[0];
  return isJobId(id) ? id : undefined;
}
