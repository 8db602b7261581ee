import { errors } from '../errors.js';
import { contentTypes } from '../image-format.js';
import { newJobId, type Job, type JobOptions } from '../job.js';
import { storageKeys } from '../storage/keys.js';
import type { IngestContext } from './context.js';
import { describeUnsupported, sniffImageType } from './sniff.js';

/** Only printable, short, path-free names are kept; the name never reaches a storage key. */
export function cleanFilename(name: string | undefined, fallback: string): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const cleaned = base.replace(/[^\w.\- ]+/g, '_').slice(0, 200).trim();
  return cleaned || fallback;
}

/**
 * Accepts one image: sniff, store the original, enqueue. If enqueue fails the original is
 * deleted again, so a refused upload leaves nothing behind.
 */
export async function acceptImage(ctx: IngestContext, bytes: Buffer, filename: string | undefined, options: JobOptions, tenant?: string): Promise<Job> {
  if (bytes.length === 0) throw errors.emptyBody();
  const format = sniffImageType(bytes);
  if (!format) throw errors.unsupportedMediaType(describeUnsupported(bytes));
  const id = newJobId();
  const key = storageKeys.original(id, format);
  const now = Date.now();
  const job: Job = {
    id,
    status: 'queued',
    tenant,
    createdAt: now,
    updatedAt: now,
    attempts: 0,
    options,
    input: { key, filename: cleanFilename(filename, `upload.${format}`), bytes: bytes.length, format },
  };
  await ctx.store.put(key, bytes, contentTypes[format]);
  try {
    await ctx.queue.enqueue(job);
  } catch (err) {
    await ctx.store.delete(key).catch(() => {});
    throw err;
  }
  ctx.metrics.uploadBytes.observe(bytes.length);
  return job;
}
