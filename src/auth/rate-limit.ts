import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { rateLimitKey } from './rate-limit-keys.js';

export interface RateDecision {
  allowed: boolean;
  /** Whole seconds until a request would be allowed (≥ 1 when refused). */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  readonly perMinute: number;
  take(id: string): Promise<RateDecision>;
  close(): Promise<void>;
}

const ALLOW: RateDecision = Object.freeze({ allowed: true, retryAfterSeconds: 0 });
const MAX_BUCKETS = 100_000;

/** RATE_LIMIT_PER_MINUTE=0. */
export class UnlimitedRateLimiter implements RateLimiter {
  readonly perMinute = 0;
  async take(): Promise<RateDecision> {
    return ALLOW;
  }
  async close(): Promise<void> {}
}

/** One token bucket per tenant in this process: `burst` tokens, refilled at perMinute/60 per second. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(readonly perMinute: number, private readonly burst: number, private readonly now: () => number = Date.now) {}

  takeSync(id: string): RateDecision {
    const rate = this.perMinute / 60_000;
    const now = this.now();
    let bucket = this.buckets.get(id);
    if (!bucket) {
      // Full buckets carry no state; dropping them bounds memory when ids churn.
      if (this.buckets.size >= MAX_BUCKETS) this.prune(now, rate);
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(id, bucket);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * rate);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return ALLOW;
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / rate / 1000)) };
  }

  async take(id: string): Promise<RateDecision> {
    return this.takeSync(id);
  }

  /** Whether a take would be allowed now, without taking. */
  peek(id: string): RateDecision {
    const bucket = this.buckets.get(id);
    if (!bucket) return ALLOW;
    const rate = this.perMinute / 60_000;
    const tokens = Math.min(this.burst, bucket.tokens + (this.now() - bucket.at) * rate);
    return tokens >= 1 ? ALLOW : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / rate / 1000)) };
  }

  private prune(now: number, rate: number): void {
    for (const [id, b] of this.buckets) if (b.tokens + (now - b.at) * rate >= this.burst) this.buckets.delete(id);
    if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear();
  }

  async close(): Promise<void> {}
}

// From src/auth/ under tsx; compiled code runs from dist/src/auth/ and reads the source tree.
function readScript(file: string): string {
  for (const dir of ['./lua/', '../../../src/auth/lua/']) {
    try {
      return readFileSync(new URL(dir + file, import.meta.url), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw new Error(`Lua script ${file} not found next to ${import.meta.url} or in src/auth/lua; ship src/auth/lua with the build`);
}

/**
 * One bucket per tenant in Redis, shared by every API node. While Redis is unreachable the
 * node falls back to its own in-memory buckets rather than refusing or waving everything through.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis;
  private readonly fallback: MemoryRateLimiter;
  private warnedAt = 0;

  constructor(url: string, private readonly prefix: string, readonly perMinute: number, private readonly burst: number, private readonly log: Logger) {
    this.fallback = new MemoryRateLimiter(perMinute, burst);
    this.redis = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 500,
      connectionName: 'pixveil-ratelimit',
      retryStrategy: (times) => Math.min(100 * 2 ** Math.max(0, times - 1), 2000),
    });
    this.redis.on('error', () => {});
    this.redis.defineCommand('pixveilTokenBucket', { numberOfKeys: 1, lua: readScript('token-bucket-1.lua') });
    this.redis.connect().catch(() => {});
  }

  async take(id: string): Promise<RateDecision> {
    try {
      const run = (this.redis as unknown as { pixveilTokenBucket(key: string, ...args: number[]): Promise<[number, number, number]> }).pixveilTokenBucket;
      const [allowed, , waitMs] = await run.call(this.redis, rateLimitKey(this.prefix, id), this.burst, this.perMinute / 60, 1);
      return allowed === 1 ? ALLOW : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    } catch (err) {
      if (Date.now() - this.warnedAt > 60_000) {
        this.warnedAt = Date.now();
        this.log.warn('rate limiter: Redis unavailable, using per-node buckets', { error: (err as Error).message });
      }
      return this.fallback.takeSync(id);
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

export function createRateLimiter(config: Config, log: Logger): RateLimiter {
  if (config.rateLimitPerMinute === 0) return new UnlimitedRateLimiter();
  if (config.redisUrl) return new RedisRateLimiter(config.redisUrl, config.redisPrefix, config.rateLimitPerMinute, config.rateLimitBurst, log);
  return new MemoryRateLimiter(config.rateLimitPerMinute, config.rateLimitBurst);
}
