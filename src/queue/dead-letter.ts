import type { Redis } from 'ioredis';
import type { Job } from '../job.js';
import { toQueueError } from './redis-connection.js';
import type { QueueKeys } from './redis-keys.js';
import { runScript } from './redis-scripts.js';

/** What the dead-letter commands need; a connected RedisStreamQueue is one. */
export interface DeadLetterTarget {
  readonly redis: Redis;
  readonly keys: QueueKeys;
  readonly options: { readonly jobTtlSeconds: number };
}

export interface DeadLetter {
  /** Dead-letter stream entry id; pass it to retryDeadLetter. */
  entryId: string;
  jobId: string;
  /** `exhausted`: transient failures used every attempt; `stalled`: workers died or hung holding it every time. */
  reason: string;
  code: string;
  message: string;
  attempts: number;
  failedAt: number;
  /** The job as enqueued (options, input); undefined if the entry lacks it. */
  job?: Pick<Job, 'id' | 'createdAt' | 'options' | 'input' | 'tenant'>;
}

function toDeadLetter([entryId, raw]: [string, string[]]): DeadLetter {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) fields[raw[i]] = raw[i + 1];
  return {
    entryId,
    jobId: fields.id ?? '',
    reason: fields.reason ?? '',
    code: fields.code ?? '',
    message: fields.message ?? '',
    attempts: Number(fields.attempts ?? 0),
    failedAt: Number(fields.failedAt ?? 0),
    job: fields.job ? JSON.parse(fields.job) : undefined,
  };
}

/** Oldest first, at most `count`, starting after `afterEntryId` (for paging). */
export async function listDeadLetters(target: DeadLetterTarget, options: { count?: number; afterEntryId?: string } = {}): Promise<DeadLetter[]> {
  const start = options.afterEntryId ? `(${options.afterEntryId}` : '-';
  try {
    const entries = await target.redis.xrange(target.keys.dead, start, '+', 'COUNT', options.count ?? 100);
    return entries.map(toDeadLetter);
  } catch (err) {
    throw toQueueError(err);
  }
}

/**
 * Requeues one dead-lettered job with fresh attempts, by entry id or job id
 * (the newest entry of that job). Returns the requeued job id, or undefined when
 * there is no such entry. Bypasses MAX_QUEUE_SIZE: it is an operator's request.
 */
export async function retryDeadLetter(target: DeadLetterTarget, entryOrJobId: string): Promise<string | undefined> {
  const { redis, keys, options } = target;
  try {
    let entry: DeadLetter | undefined;
    if (/^\d+-\d+$/.test(entryOrJobId)) {
      const found = await redis.xrange(keys.dead, entryOrJobId, entryOrJobId);
      entry = found[0] && toDeadLetter(found[0]);
    } else {
      entry = await findNewest(target, entryOrJobId);
    }
    if (!entry) return undefined;
    const requeued = await runScript(redis, 'retryDead', keys.stream, keys.dead, keys.job(entry.jobId), entry.entryId, entry.jobId, options.jobTtlSeconds);
    return requeued ? entry.jobId : undefined;
  } catch (err) {
    throw toQueueError(err);
  }
}

/** Requeues up to `max` dead-lettered jobs, oldest first; returns their ids. */
export async function retryAllDeadLetters(target: DeadLetterTarget, max = 1000): Promise<string[]> {
  const requeued: string[] = [];
  let afterEntryId: string | undefined;
  while (requeued.length < max) {
    const batch = await listDeadLetters(target, { count: Math.min(100, max - requeued.length), afterEntryId });
    if (batch.length === 0) break;
    for (const entry of batch) {
      const id = await retryDeadLetter(target, entry.entryId);
      if (id) requeued.push(id);
    }
    afterEntryId = batch[batch.length - 1].entryId;
  }
  return requeued;
}

async function findNewest(target: DeadLetterTarget, jobId: string): Promise<DeadLetter | undefined> {
  let end = '+';
  for (;;) {
    const entries = await target.redis.xrevrange(target.keys.dead, end, '-', 'COUNT', 500);
    if (entries.length === 0) return undefined;
    const match = entries.map(toDeadLetter).find((entry) => entry.jobId === jobId);
    if (match) return match;
    end = `(${entries[entries.length - 1][0]}`;
  }
}
