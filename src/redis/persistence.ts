import type { Redis } from 'ioredis';

/**
 * Why this Redis would lose accepted jobs on a restart, or undefined when it persists them
 * (AOF on, or RDB snapshots configured). Reads CONFIG GET, and INFO persistence where a managed
 * Redis disables CONFIG.
 */
export async function volatileRedisReason(redis: Redis): Promise<string | undefined> {
  try {
    const [, appendonly] = (await redis.config('GET', 'appendonly')) as string[];
    const [, save] = (await redis.config('GET', 'save')) as string[];
    if (appendonly === 'yes' || (save ?? '').trim() !== '') return undefined;
    return 'it has neither AOF (appendonly no) nor RDB snapshots (save "")';
  } catch {
    const info = await redis.info('persistence');
    if (/^aof_enabled:1\s*$/m.test(info)) return undefined;
    return 'AOF is off (INFO persistence: aof_enabled:0) and CONFIG GET is not allowed, so RDB snapshots cannot be confirmed';
  }
}

export function volatileRedisMessage(reason: string): string {
  return (
    `Redis at REDIS_URL has no persistence: ${reason}. A Redis restart would lose every accepted job ` +
    '(their originals would stay in storage with no job to process them). Turn on AOF (appendonly yes) or RDB ' +
    'snapshots, or set ALLOW_VOLATILE_REDIS=true to accept that risk (tests, throwaway setups).'
  );
}
