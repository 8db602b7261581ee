// Every object key pixveil writes is built here from a job id it generated itself,
// so no user-supplied string (file name, header) can reach a key.

const JOB_ID = /^[A-Za-z0-9_-]{16,64}$/;
const EXTENSIONS = new Set(['jpg', 'png', 'webp']);

export type ImageExt = 'jpg' | 'png' | 'webp';

function checkedId(jobId: string): string {
  if (!JOB_ID.test(jobId)) throw new Error(`Refusing to build a storage key from job id ${JSON.stringify(jobId)}`);
  return jobId;
}

function checkedExt(ext: string): string {
  if (!EXTENSIONS.has(ext)) throw new Error(`Refusing to build a storage key with extension ${JSON.stringify(ext)}`);
  return ext;
}

export const storageKeys = {
  original: (jobId: string, ext: ImageExt) => `original/${checkedId(jobId)}.${checkedExt(ext)}`,
  processed: (jobId: string, ext: ImageExt) => `processed/${checkedId(jobId)}.${checkedExt(ext)}`,
  metadata: (jobId: string) => `metadata/${checkedId(jobId)}.json`,
};

export const contentTypes: Record<ImageExt, string> = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };
