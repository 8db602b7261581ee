import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { createConnection } from '../redis/connection.js';
import { rateLimitKey } from '../redis/keys.js';
import { ScriptSet } from '../redis/scripts.js';

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

const rateLimitScripts = new ScriptSet('auth', { pixveilTokenBucket: 'token-bucket-1.lua' });
// A refused or slow Redis falls back to per-node buckets; waiting longer would delay every request.
const RATE_LIMIT_TIMEOUT_MS = 500;

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
    // Connection errors are reported by take() falling back, once a minute; not per reconnect try.
    this.redis = createConnection(url, 'commands', RATE_LIMIT_TIMEOUT_MS, () => {}, 'ratelimit');
    rateLimitScripts.define(this.redis);
    this.redis.connect().catch(() => {});
  }

  async take(id: string): Promise<RateDecision> {
    try {
      const reply = await rateLimitScripts.run(this.redis, 'pixveilTokenBucket', rateLimitKey(this.prefix, id), this.burst, this.perMinute / 60, 1);
      const [allowed, , waitMs] = reply as [number, number, number];
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
