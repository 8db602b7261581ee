import type { Redis } from 'ioredis';
import { toRedisError } from '../redis/connection.js';
import type { QueueKeys } from '../redis/keys.js';
import type { DeadLetter, DeadLetterOperations } from './queue.js';
import { queueScripts } from './redis-scripts.js';

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

/** The Redis queue's dead-letter stream; reached as `queue.deadLetters`, sharing the queue's connection. */
export class RedisDeadLetters implements DeadLetterOperations {
  constructor(
    private readonly redis: Redis,
    private readonly keys: QueueKeys,
    private readonly jobTtlSeconds: number,
  ) {}

  async list(options: { count?: number; afterEntryId?: string } = {}): Promise<DeadLetter[]> {
    const start = options.afterEntryId ? `(${options.afterEntryId}` : '-';
    try {
      const entries = await this.redis.xrange(this.keys.dead, start, '+', 'COUNT', options.count ?? 100);
      return entries.map(toDeadLetter);
    } catch (err) {
      throw toRedisError(err);
    }
  }


  /**
   * Requeues one dead-lettered job with fresh attempts, by entry id or job id
   * (the newest entry of that job). Returns the requeued job id, or undefined when
   * there is no such entry. Bypasses MAX_QUEUE_SIZE: it is an operator's request.
   */
  async retry(entryOrJobId: string, runnable?: (letter: DeadLetter) => Promise<boolean>): Promise<string | undefined> {
    const { redis, keys } = this;
    try {
      let entry: DeadLetter | undefined;
      if (/^\d+-\d+$/.test(entryOrJobId)) {
        const found = await redis.xrange(keys.dead, entryOrJobId, entryOrJobId);
        entry = found[0] && toDeadLetter(found[0]);
      } else {
        entry = await this.findNewest(entryOrJobId);
      }
      if (!entry || (runnable && !(await runnable(entry)))) return undefined;
      const requeued = await queueScripts.run(redis, 'retryDead', keys.stream, keys.dead, keys.job(entry.jobId), entry.entryId, entry.jobId, this.jobTtlSeconds);
      return requeued ? entry.jobId : undefined;
    } catch (err) {
      throw toRedisError(err);
    }
  }

  async retryAll(max = 1000, runnable?: (letter: DeadLetter) => Promise<boolean>): Promise<string[]> {
    const requeued: string[] = [];
    let afterEntryId: string | undefined;
    while (requeued.length < max) {
      const batch = await this.list({ count: Math.min(100, max - requeued.length), afterEntryId });
      if (batch.length === 0) break;
      for (const entry of batch) {
        const id = await this.retry(entry.entryId, runnable);
        if (id) requeued.push(id);
      }
      afterEntryId = batch[batch.length - 1].entryId;
    }
    return requeued;
  }

  private async findNewest(jobId: string): Promise<DeadLetter | undefined> {
    let end = '+';
    for (;;) {
      const entries = await this.redis.xrevrange(this.keys.dead, end, '-', 'COUNT', 500);
      if (entries.length === 0) return undefined;
      const match = entries.map(toDeadLetter).find((entry) => entry.jobId === jobId);
      if (match) return match;
      end = `(${entries[entries.length - 1][0]}`;
    }
  }
}
