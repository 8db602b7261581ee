import { ConfigError, type Config } from '../config/config.js';
import { createLogger } from '../observability/logger.js';
import { createJobQueue } from '../queue/index.js';
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
      const requeued = ids.length > 0 ? (await Promise.all(ids.map((id) => deadLetters.retry(id)))).filter(Boolean) : await deadLetters.retryAll();
      console.log(`requeued ${requeued.length} job(s)${requeued.length ? `: ${requeued.join(', ')}` : ''}`);
    }
  } finally {
    await queue.close();
  }
}
