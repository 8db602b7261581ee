import { ConfigError, type Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { MemoryJobQueue } from './memory.js';
import { volatileRedisMessage } from '../redis/persistence.js';
import type { JobQueue } from './queue.js';

/** REDIS_URL set → Redis Streams (shared by every node); otherwise the in-process queue. */
/** `durable: false` skips the persistence check (the dlq command only inspects what is there). */
export async function createJobQueue(config: Config, log: Logger, { durable = true } = {}): Promise<JobQueue> {
  if (config.redisUrl) {
    const { RedisStreamQueue } = await import('./redis-streams.js');
    let connected = false;
    const queue = await RedisStreamQueue.connect({
      url: config.redisUrl,
      prefix: config.redisPrefix,
      maxQueueSize: config.maxQueueSize,
      maxAttempts: config.maxAttempts,
      stalledMs: config.stalledMs,
      retryBaseMs: config.retryBaseMs,
      jobTtlSeconds: config.jobTtlSeconds,
      // Before the queue is connected a failure ends start-up with one line of its own (commands/setup-error.ts).
      onError: (err) => connected && log.warn('redis connection error', { error: err.message }),
    });
    connected = true;
    const reason = durable ? await queue.persistenceProblem() : undefined;
    if (reason && durable && !config.allowVolatileRedis) {
      await queue.close();
      throw new ConfigError(volatileRedisMessage(reason));
    }
    if (reason) log.warn('Redis does not persist data (ALLOW_VOLATILE_REDIS=true): a Redis restart loses accepted jobs', { reason });
    return queue;
  }
  return new MemoryJobQueue({ maxQueueSize: config.maxQueueSize, maxAttempts: config.maxAttempts, jobTtlMs: config.jobTtlSeconds * 1000, retryBaseMs: config.retryBaseMs });
}
