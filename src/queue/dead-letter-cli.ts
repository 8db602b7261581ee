import { ConfigError, type Config } from '../config/config.js';
import { listDeadLetters, retryAllDeadLetters, retryDeadLetter } from './dead-letter.js';
import { createJobQueue } from './index.js';
import { createLogger } from '../observability/logger.js';
import type { RedisStreamQueue } from './redis-streams.js';

/** `pixveil dlq list` prints one JSON line per dead letter; `pixveil dlq retry [id…]` requeues them (all when none named). */
export async function runDeadLetterCommand(config: Config, args: string[]): Promise<void> {
  if (!config.redisUrl) throw new ConfigError('The dead-letter stream exists in Redis mode only: set REDIS_URL');
  const [sub, ...ids] = args;
  const queue = (await createJobQueue(config, createLogger('error'), { durable: false })) as RedisStreamQueue;
  try {
    if (sub === 'list') {
      for (const letter of await listDeadLetters(queue, { count: 1000 })) console.log(JSON.stringify(letter));
    } else if (sub === 'retry') {
      const requeued = ids.length > 0 ? (await Promise.all(ids.map((id) => retryDeadLetter(queue, id)))).filter(Boolean) : await retryAllDeadLetters(queue);
      console.log(`requeued ${requeued.length} job(s)${requeued.length ? `: ${requeued.join(', ')}` : ''}`);
    } else {
      throw new ConfigError('Usage: pixveil dlq list | pixveil dlq retry [entry-or-job-id…]');
    }
  } finally {
    await queue.close();
  }
}
