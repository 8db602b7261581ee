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

export const storageKeys = {
  original: (jobId: string, ext: ImageExt) => `original/${checkedId(jobId)}.${checkedExt(ext)}`,
  processed: (jobId: string, ext: ImageExt) => `processed/${checkedId(jobId)}.${checkedExt(ext)}`,
  metadata: (jobId: string) => `metadata/${checkedId(jobId)}.json`,
};
