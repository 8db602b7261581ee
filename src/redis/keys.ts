// Every Redis key name pixveil uses (queue and rate limiter) is built in this file.
import { invalidOption } from '../errors.js';

/** Consumer group every worker of a queue joins; one group per stream. */
export const CONSUMER_GROUP = 'workers';

/** Every Redis key (and the pub/sub channel) of one queue. */
export interface QueueKeys {
  /** Stream of job ids; acked entries are deleted, so it holds only undelivered and pending jobs. */
  readonly stream: string;
  /** Zset of job ids waiting out a retry backoff, scored by due time (ms). */
  readonly delayed: string;
  /** Dead-letter stream: jobs whose attempts ran out, with the reason and a copy of the job. */
  readonly dead: string;
  /** Zset of consumer names scored by when each last claimed or heartbeated (ms). */
  readonly workers: string;
  /** Zset of job ids whose webhook delivery is due, scored by due time (ms); a lease pushes the score on. */
  readonly webhooks: string;
  readonly completedCount: string;
  readonly failedCount: string;
  /** Pub/sub channel of finished jobs (not a key; named here so all names live in one file). */
  readonly finishedChannel: string;
  readonly group: string;
  /** SCAN pattern matching every key of this queue. */
  readonly pattern: string;
  /** Status hash of one job, with a TTL. */
  job(id: string): string;
  /** What job(id) puts before the id (Lua scripts that visit several jobs build their keys from it). */
  readonly jobPrefix: string;
  /** String held by the node running periodic task `name` (e.g. the storage sweep) until its round ends. */
  round(name: string): string;
  /** String naming the job an Idempotency-Key created (key: hash of tenant and header), with a TTL. */
  idempotency(scopedKey: string): string;
}

/**
 * Keys are `<prefix>:{<queue>}:<name>`: the hash tag puts every key of a queue in
 * one cluster slot, which the Lua scripts need since they touch several at once.
 */
export function queueKeys(prefix: string, queueName: string): QueueKeys {
  if (!queueName || /[{}:\s]/.test(queueName)) {
    throw invalidOption('queueName', 'a non-empty name without braces, colons or spaces', queueName);
  }
  if (/[{}\s]/.test(prefix)) throw invalidOption('prefix', 'a prefix without braces or spaces', prefix);
  const base = `${prefix ? `${prefix}:` : ''}{${queueName}}`;
  return Object.freeze({
    stream: `${base}:stream`,
    delayed: `${base}:delayed`,
    dead: `${base}:dead`,
    workers: `${base}:workers`,
    webhooks: `${base}:webhooks`,
    completedCount: `${base}:completed`,
    failedCount: `${base}:failed`,
    finishedChannel: `${base}:finished`,
    group: CONSUMER_GROUP,
    pattern: `${base}:*`,
    job: (id: string) => `${base}:job:${id}`,
    jobPrefix: `${base}:job:`,
    idempotency: (scopedKey: string) => `${base}:idem:${scopedKey}`,
    round: (name: string) => `${base}:round:${name}`,
  });
}

/** The rate limiter's bucket of one tenant: `<prefix>:ratelimit:<tenant>` (outside any queue's slot). */
export function rateLimitKey(prefix: string, tenant: string): string {
  return `${prefix ? `${prefix}:` : ''}ratelimit:${tenant}`;
}
