import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { MemoryJobQueue } from './memory.js';
import type { JobQueue } from './queue.js';

/** REDIS_URL set → Redis Streams (shared by every node); otherwise the in-process queue. */
export async function createJobQueue(config: Config, log: Logger): Promise<JobQueue> {
  if (config.redisUrl) {
    const { RedisStreamQueue } = await import('./redis-streams.js');
    return RedisStreamQueue.connect({
      url: config.redisUrl,
      prefix: config.redisPrefix,
      maxQueueSize: config.maxQueueSize,
      maxAttempts: config.maxAttempts,
      stalledMs: config.stalledMs,
      retryBaseMs: config.retryBaseMs,
      jobTtlSeconds: config.jobTtlSeconds,
      onError: (err) => log.warn('redis connection error', { error: err.message }),
    });
  }
  return new MemoryJobQueue({ maxQueueSize: config.maxQueueSize, maxAttempts: config.maxAttempts, jobTtlMs: config.jobTtlSeconds * 1000, retryBaseMs: config.retryBaseMs });
}
