// Every object key pixveil writes is built here from a job id it generated itself,
// so no user-supplied string (file name, header) can reach a key.
import { IMAGE_EXTS, type ImageExt } from '../image-format.js';
import { isJobId } from '../job.js';

function checkedId(jobId: string): string {
  if (!isJobId(jobId)) throw new Error(`Refusing to build a storage key from job id ${JSON.stringify(jobId)}`);
  return jobId;
}

function checkedExt(ext: string): string {
  if (!(IMAGE_EXTS as readonly string[]).includes(ext)) throw new Error(`Refusing to build a storage key with extension ${JSON.stringify(ext)}`);
  return ext;
}

function checkedAttempt(attempt: number): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new Error(`Refusing to build a storage key for attempt ${JSON.stringify(attempt)}`);
  return attempt;
}

// Outputs are attempt-scoped: two attempts of one job (a stalled one finishing late, and its
// reclaim) never write the same object, so the one the queue records first keeps its bytes.
export const storageKeys = {
  original: (jobId: string, ext: ImageExt) => `original/${checkedId(jobId)}.${checkedExt(ext)}`,
  processed: (jobId: string, ext: ImageExt, attempt: number) => `processed/${checkedId(jobId)}.${checkedAttempt(attempt)}.${checkedExt(ext)}`,
  metadata: (jobId: string, attempt: number) => `metadata/${checkedId(jobId)}.${checkedAttempt(attempt)}.json`,
};
