import { Redis, type RedisOptions } from 'ioredis';
import { errors, isPixveilError } from '../errors.js';

// The one way pixveil opens a Redis connection, for the queue and the rate limiter alike.

export type ConnectionRole = 'commands' | 'blocking' | 'subscriber';

/** Reconnect delay after the n-th failed try: 100 ms doubling, capped at 2 s. */
export function reconnectDelay(times: number): number {
  return Math.min(100 * 2 ** Math.max(0, times - 1), 2000);
}

/**
 * One connection per role. Commands fail fast while Redis is away (no offline
 * queue, a command timeout, no resend after a drop) so callers get a 503 in
 * bounded time; ioredis keeps reconnecting in the background. The subscriber
 * keeps its offline queue so SUBSCRIBE is sent (and re-sent) once connected.
 */
export function createConnection(url: string, role: ConnectionRole, timeoutMs: number, onError: (err: Error) => void, user = 'queue'): Redis {
  const common: RedisOptions = {
    lazyConnect: true,
    retryStrategy: reconnectDelay,
    connectTimeout: Math.max(timeoutMs, 1000),
    // `pixveil-queue-commands`, `pixveil-ratelimit-commands`…: CLIENT LIST says who holds what.
    connectionName: `pixveil-${user}-${role}`,
  };
  const byRole: Record<ConnectionRole, RedisOptions> = {
    commands: { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: timeoutMs },
    // No command timeout: XREADGROUP BLOCK legitimately waits; blockingTimeout is the safety net for a dead socket.
    blocking: { enableOfflineQueue: false, maxRetriesPerRequest: 0, blockingTimeout: timeoutMs, blockingTimeoutGrace: timeoutMs },
    subscriber: { enableOfflineQueue: true, maxRetriesPerRequest: null, autoResubscribe: true },
  };
  const redis = new Redis(url, { ...common, ...byRole[role] });
  redis.on('error', onError);
  return redis;
}

// Replies that mean "Redis cannot serve right now", not "this command is wrong".
const UNAVAILABLE_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|OOM|NOREPLICAS)\b/;

/** Connection trouble becomes SERVICE_UNAVAILABLE; our own errors and real command errors pass through. */
export function toRedisError(err: unknown): unknown {
  if (isPixveilError(err)) return err;
  if (err instanceof Error && err.name === 'ReplyError' && !UNAVAILABLE_REPLY.test(err.message)) return err;
  const unavailable = errors.unavailable('Redis');
  unavailable.cause = err;
  return unavailable;
}

export function isNoGroupError(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOGROUP');
}
