import { ConfigError, type Config } from '../config/config.js';
import { createLogger } from '../observability/logger.js';
import { createJobQueue } from '../queue/index.js';
import type { DeadLetter, DeadLetterOperations } from '../queue/queue.js';
import { createObjectStore } from '../storage/index.js';
import { redactUrl, setupStep } from './setup-error.js';

/** `pixveil dlq list` prints one JSON line per dead letter; `pixveil dlq retry [id…]` requeues them (all when none named). */
export async function runDeadLetterCommand(config: Config, args: string[]): Promise<void> {
  if (!config.redisUrl) throw new ConfigError('The dead-letter stream exists in Redis mode only: set REDIS_URL');
  const [sub, ...ids] = args;
  if (sub !== 'list' && sub !== 'retry') throw new ConfigError('Usage: pixveil dlq list | pixveil dlq retry [entry-or-job-id…]');
  const queue = await setupStep((reason) => `Redis at ${redactUrl(config.redisUrl)} (REDIS_URL) cannot be used: ${reason}`, () =>
    createJobQueue(config, createLogger('error'), { durable: false }),
  );
  const deadLetters = queue.deadLetters;
  try {
    if (!deadLetters) throw new ConfigError(`The ${queue.kind} queue keeps no dead letters`);
    if (sub === 'list') {
      for (const letter of await deadLetters.list({ count: 1000 })) console.log(JSON.stringify(letter));
    } else {
      await retryDeadLetters(config, deadLetters, ids);
    }
  } finally {
    await queue.close();
  }
}

/**
 * The storage sweep deletes a job's original once its record expired (JOB_TTL_SECONDS): such a
 * letter cannot run again, so it stays in the dead-letter stream and is named instead of failing once more.
 */
async function retryDeadLetters(config: Config, deadLetters: DeadLetterOperations, ids: string[]): Promise<void> {
  const store = await setupStep((reason) => `Storage is not usable: ${reason}`, () => createObjectStore(config));
  try {
    const gone: string[] = [];
    const runnable = async (letter: DeadLetter) => {
      if (!letter.job || (await store.exists(letter.job.input.key))) return true;
      gone.push(letter.jobId);
      return false;
    };
    const requeued = ids.length > 0 ? (await Promise.all(ids.map((id) => deadLetters.retry(id, runnable)))).filter(Boolean) : await deadLetters.retryAll(undefined, runnable);
    console.log(`requeued ${requeued.length} job(s)${requeued.length ? `: ${requeued.join(', ')}` : ''}`);
    if (gone.length > 0) console.log(`not requeued, their original expired with their record (JOB_TTL_SECONDS): ${gone.join(', ')}`);
  } finally {
    await store.close?.();
  }
}
