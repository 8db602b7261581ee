import crypto from 'node:crypto';
import os from 'node:os';
import type { Redis } from 'ioredis';
import { defaults } from '../config/defaults.js';
import { errors, invalidOption } from '../errors.js';
import { isFinished, type Job, type JobProgress, type JobResult } from '../job.js';
import { createConnection, isNoGroupError, toRedisError } from '../redis/connection.js';
import { queueKeys, type QueueKeys } from '../redis/keys.js';
import { RedisDeadLetters } from './dead-letter.js';
import type { FailureReport, JobQueue, QueueStats, Settlement, SettledJob, WebhookDelivery, WebhookPolicy, WebhookQueue } from './queue.js';
import { FinishedEvents } from './redis-events.js';
import type { DeliveryShares } from './webhook-lanes.js';
import { queueScripts } from './redis-scripts.js';
import { volatileRedisReason } from '../redis/persistence.js';
import { decodeJob, encodeJobBase } from './redis-status.js';

export interface RedisQueueOptions {
  /** redis:// or rediss:// URL. */
  url: string;
  /** Namespace of every key (REDIS_PREFIX). */
  prefix: string;
  /** One stream and consumer group per queue name. */
  queueName: string;
  /** Unique per worker process; defaults to hostname-pid-random. */
  consumerName: string;
  /** Backlog (undelivered + pending + waiting out a retry) at which enqueue answers 429. */
  maxQueueSize: number;
  /** Deliveries of one job before it ends failed (and is dead-lettered unless the failure was permanent). */
  maxAttempts: number;
  /** A delivered job idle this long is reclaimed by another worker (XAUTOCLAIM). */
  stalledMs: number;
  /** Status hashes expire this long after their last change. */
  jobTtlSeconds: number;
  /** First retry delay after a transient failure; doubles per attempt. */
  retryBaseMs: number;
  /** Approximate cap of the dead-letter stream. The job stream needs none: acked entries are deleted and admission is capped. */
  streamMaxLen: number;
  /** Bound on every non-blocking command, so callers get a 503 quickly when Redis is away. */
  commandTimeoutMs: number;
  /** stats().consumers counts workers that claimed or heartbeated within this window. */
  consumerActiveMs: number;
  /**
   * Due webhook entries one claim looks at to share them out by tenant. A tenant at its cap has its
   * entries moved behind the others', so even a longer backlog of one tenant is passed within a few polls.
   */
  webhookScan: number;
  /** Connection errors (ioredis reconnects on its own); commands still fail with SERVICE_UNAVAILABLE. */
  onError: (err: Error) => void;
}

/** The settings' defaults (src/config/defaults.ts) plus what only this queue has. */
export const REDIS_QUEUE_DEFAULTS: Readonly<Omit<RedisQueueOptions, 'consumerName'>> = Object.freeze({
  url: 'redis://127.0.0.1:6379',
  prefix: defaults.redisPrefix,
  queueName: 'images',
  maxQueueSize: defaults.maxQueueSize,
  maxAttempts: defaults.maxAttempts,
  stalledMs: defaults.stalledMs,
  jobTtlSeconds: defaults.jobTtlSeconds,
  retryBaseMs: defaults.retryBaseMs,
  streamMaxLen: 10_000,
  commandTimeoutMs: 1500,
  consumerActiveMs: 60_000,
  webhookScan: 1000,
  onError: () => {},
});

// Delayed retries moved back onto the stream per claim call.
const PROMOTE_BATCH = 100;

type StreamEntry = [entryId: string, fields: string[]];

function positiveInt(options: RedisQueueOptions, name: keyof RedisQueueOptions): void {
  const value = options[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalidOption(name, 'a positive integer', value);
}

/**
 * The distributed queue (REDIS_URL): a Redis stream of job ids read by one
 * consumer group, a status hash per job, a delayed zset for retries and a
 * dead-letter stream. Every state change is one Lua script, so a worker dying
 * between steps never leaves a job half-moved. See src/queue/lua/ for each step.
 *
 * When Redis is away every method throws SERVICE_UNAVAILABLE (503) within about
 * commandTimeoutMs and the connections reconnect by themselves; a worker loop
 * should catch that from claim() and call it again after a short delay.
 */
export class RedisStreamQueue implements JobQueue {
  readonly kind = 'redis' as const;
  readonly options: Readonly<RedisQueueOptions>;
  /** Key names only (tests and the deploy check compare them); the connections stay private. */
  readonly keys: QueueKeys;
  readonly deadLetters: RedisDeadLetters;
  readonly webhooks: WebhookQueue = {
    claimDeliveries: (max, leaseMs, shares) => this.claimDeliveries(max, leaseMs, shares),
    recordDelivery: (delivery, error, policy) => this.recordDelivery(delivery, error, policy),
  };
  /** Commands; never blocks, so other calls are not stuck behind a claim. */
  private readonly redis: Redis;
  private readonly blocking: Redis;
  private readonly events: FinishedEvents;
  /** Jobs this consumer holds → their stream entry ids, refreshed by the heartbeat. */
  private readonly held = new Map<string, string>();
  private readonly heartbeat: NodeJS.Timeout;
  private autoclaimCursor = '0-0';
  /** Set by the first claim: only workers are counted in stats().consumers. */
  private claiming = false;
  private closed = false;

  constructor(options: Partial<RedisQueueOptions> = {}) {
    const consumerName = options.consumerName ?? `${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
    this.options = Object.freeze({ ...REDIS_QUEUE_DEFAULTS, ...options, consumerName });
    for (const name of ['maxQueueSize', 'maxAttempts', 'stalledMs', 'jobTtlSeconds', 'retryBaseMs', 'streamMaxLen', 'commandTimeoutMs', 'consumerActiveMs', 'webhookScan'] as const) {
      positiveInt(this.options, name);
    }
    this.keys = queueKeys(this.options.prefix, this.options.queueName);
    const { url, commandTimeoutMs, onError } = this.options;
    this.redis = createConnection(url, 'commands', commandTimeoutMs, onError);
    this.blocking = createConnection(url, 'blocking', commandTimeoutMs, onError);
    queueScripts.define(this.redis);
    this.deadLetters = new RedisDeadLetters(this.redis, this.keys, this.options.jobTtlSeconds);
    this.events = new FinishedEvents(url, this.keys.finishedChannel, commandTimeoutMs, onError);
    // Keep held entries fresh well inside both the stall timeout and the "consumer seen" window.
    const beatMs = Math.max(50, Math.floor(Math.min(this.options.stalledMs, this.options.consumerActiveMs) / 3));
    this.heartbeat = setInterval(() => void this.refreshHeld().catch(() => undefined), beatMs);
    this.heartbeat.unref();
  }

  /** Connects and creates the consumer group (and the stream) if missing. Throws SERVICE_UNAVAILABLE when Redis is unreachable. */
  static async connect(options: Partial<RedisQueueOptions> = {}): Promise<RedisStreamQueue> {
    const queue = new RedisStreamQueue(options);
    // connect() rejects with "Connection is closed"; the socket's own error says why (ECONNREFUSED, ENOTFOUND, auth).
    let socketError: Error | undefined;
    const remember = (err: Error) => (socketError ??= err);
    queue.redis.on('error', remember);
    try {
      await Promise.all([queue.redis.connect(), queue.blocking.connect()]);
      await queue.ensureGroup();
    } catch (err) {
      await queue.close();
      throw toRedisError(socketError ?? err);
    } finally {
      queue.redis.off('error', remember);
    }
    return queue;
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.keys.stream, this.keys.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err;
    }
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw toRedisError(err);
    }
  }

  async enqueue(job: Job): Promise<void> {
    const { keys, options } = this;
    const entry = await this.guard(() =>
      queueScripts.run(this.redis, 'enqueue', keys.stream, keys.delayed, keys.job(job.id), job.id, encodeJobBase(job), job.attempts, options.jobTtlSeconds, options.maxQueueSize),
    );
    if (!entry) throw errors.queueFull(options.maxQueueSize, 1);
  }

  /** Why this Redis would lose accepted jobs on a restart; undefined when it persists them. */
  persistenceProblem(): Promise<string | undefined> {
    return volatileRedisReason(this.redis);
  }

  async reserveIdempotencyKey(key: string, jobId: string, ttlSeconds: number): Promise<string> {
    const holder = await this.guard(() => queueScripts.run(this.redis, 'reserveIdempotency', this.keys.idempotency(key), jobId, ttlSeconds));
    return String(holder);
  }

  async releaseIdempotencyKey(key: string, jobId: string): Promise<void> {
    await this.guard(() => queueScripts.run(this.redis, 'releaseIdempotency', this.keys.idempotency(key), jobId));
  }

  async claim(max: number, blockMs: number): Promise<Job[]> {
    if (this.closed || max < 1) return [];
    try {
      return await this.claimNow(max, blockMs);
    } catch (err) {
      if (this.closed) return [];
      // The stream was lost (Redis restarted without persistence, or flushed): recreate the group.
      if (isNoGroupError(err)) {
        await this.guard(() => this.ensureGroup());
        return [];
      }
      throw toRedisError(err);
    }
  }

  private async claimNow(max: number, blockMs: number): Promise<Job[]> {
    const { keys, options } = this;
    this.claiming = true;
    const now = Date.now();
    const pipeline = this.redis.pipeline();
    pipeline.zadd(keys.workers, now, options.consumerName);
    pipeline.zremrangebyscore(keys.workers, '-inf', now - options.consumerActiveMs);
    queueScripts.queue(pipeline, 'promote', keys.stream, keys.delayed, PROMOTE_BATCH);
    const results = (await pipeline.exec()) ?? [];
    for (const [err] of results) if (err) throw err;
    const nextDueMs = Number(results[2]?.[1] ?? -1);
    const jobs = await this.start(await this.reclaimStalled(max));
    if (jobs.length >= max) return jobs;
    // Wake up in time for the next retry; don't block at all when we already have work.
    let waitMs = jobs.length > 0 ? 0 : blockMs;
    if (nextDueMs >= 0) waitMs = Math.min(waitMs, nextDueMs);
    const fresh = await this.readNew(max - jobs.length, waitMs);
    return jobs.concat(await this.start(fresh));
  }

  /** Entries other consumers took and left idle longer than stalledMs (they died or hung). */
  private async reclaimStalled(count: number): Promise<StreamEntry[]> {
    const { keys, options } = this;
    const reply = (await this.redis.xautoclaim(keys.stream, keys.group, options.consumerName, options.stalledMs, this.autoclaimCursor, 'COUNT', count)) as unknown as [string, StreamEntry[]];
    this.autoclaimCursor = reply[0];
    return reply[1].filter((entry) => entry[1] !== null);
  }

  private async readNew(count: number, waitMs: number): Promise<StreamEntry[]> {
    const { keys, options } = this;
    const head = ['GROUP', keys.group, options.consumerName, 'COUNT', String(count)];
    const tail = ['STREAMS', keys.stream, '>'];
    const reply =
      waitMs >= 1
        ? await this.blocking.call('XREADGROUP', ...head, 'BLOCK', String(Math.ceil(waitMs)), ...tail)
        : await this.redis.call('XREADGROUP', ...head, ...tail);
    const streams = reply as Array<[string, StreamEntry[]]> | null;
    return streams?.[0]?.[1] ?? [];
  }

  /** Marks delivered entries as started attempts; entries whose attempts ran out are dead-lettered instead. */
  private async start(entries: StreamEntry[]): Promise<Job[]> {
    if (entries.length === 0) return [];
    const { keys, options } = this;
    const pipeline = this.redis.pipeline();
    const entryIds = entries.map(([entryId, fields]) => {
      const id = fields[fields.indexOf('id') + 1] ?? '';
      queueScripts.queue(pipeline, 'start', keys.stream, keys.job(id), keys.dead, keys.failedCount, keys.webhooks, keys.group, entryId, options.maxAttempts, options.jobTtlSeconds, keys.finishedChannel, options.streamMaxLen, id);
      return entryId;
    });
    const results = (await pipeline.exec()) ?? [];
    // On any error return nothing and hold nothing: entries not handed out must go stale so others reclaim them.
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
    const started: Array<[Job, string]> = [];
    results.forEach(([, reply], i) => {
      const [outcome, fields] = (reply ?? []) as [string?, string[]?];
      const job = outcome === 'started' ? decodeJob(fields) : undefined;
      if (job) started.push([job, entryIds[i]]);
    });
    for (const [job, entryId] of started) this.held.set(job.id, entryId);
    return started.map(([job]) => job);
  }

  async complete(id: string, result: JobResult): Promise<SettledJob> {
    const { keys, options } = this;
    const reply = await this.recording(id, () =>
      queueScripts.run(this.redis, 'complete', keys.stream, keys.job(id), keys.delayed, keys.completedCount, keys.webhooks, keys.group, JSON.stringify(result), options.jobTtlSeconds, keys.finishedChannel, id),
    );
    return this.settled(id, reply);
  }

  async fail(id: string, failure: FailureReport, attempt?: number): Promise<SettledJob> {
    const { keys, options } = this;
    const reply = await this.recording(id, () =>
      queueScripts.run(
        this.redis, 'fail',
        keys.stream, keys.job(id), keys.delayed, keys.dead, keys.failedCount, keys.webhooks,
        keys.group, failure.code, failure.message, failure.retryable ? '0' : '1', options.maxAttempts,
        options.retryBaseMs, options.jobTtlSeconds, keys.finishedChannel, id, options.streamMaxLen, attempt ?? '',
      ),
    );
    return this.settled(id, reply);
  }

  private async claimDeliveries(max: number, leaseMs: number, shares?: DeliveryShares): Promise<WebhookDelivery[]> {
    const { keys } = this;
    const loads = shares ? [...shares.inFlight].flatMap(([lane, n]) => [lane, n]) : [];
    const reply = (await this.guard(() =>
      queueScripts.run(this.redis, 'claimWebhooks', keys.webhooks, keys.jobPrefix, max, Math.max(1, Math.ceil(leaseMs)), this.options.webhookScan, shares?.perLane ?? 0, ...loads),
    )) as unknown[];
    const out: WebhookDelivery[] = [];
    for (const fields of reply) {
      const job = decodeJob(fields);
      if (!job?.webhook || !job.callback) continue;
      out.push({ job, url: job.callback.url, deliveryId: job.webhook.deliveryId, event: job.webhook.event, attempt: job.webhook.attempts });
    }
    return out;
  }

  private async recordDelivery(delivery: Pick<WebhookDelivery, 'job' | 'deliveryId'>, error: string | undefined, policy: WebhookPolicy): Promise<void> {
    const { keys } = this;
    const id = delivery.job.id;
    await this.guard(() =>
      queueScripts.run(this.redis, 'recordWebhook', keys.webhooks, keys.job(id), id, delivery.deliveryId, error === undefined ? '' : error.slice(0, 500) || 'failed', policy.maxAttempts, policy.retryBaseMs, policy.maxDelayMs),
    );
  }

  /**
   * Runs complete/fail. If it fails the heartbeat stops refreshing the job, so it goes stale and
   * is reclaimed unless a retry of the call succeeds first; otherwise a worker that gave up on
   * recording would keep the job from every other worker for as long as it lives.
   */
  private async recording<T>(id: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      this.held.delete(id);
      throw toRedisError(err);
    }
  }

  private settled(id: string, reply: unknown): SettledJob {
    const [outcome, fields] = (reply || []) as [string?, string[]?];
    const job = decodeJob(fields);
    if (!job) throw errors.jobNotFound(id);
    this.held.delete(id);
    const settlement: Settlement = outcome === 'completed' || outcome === 'failed' || outcome === 'retrying' ? outcome : 'stale';
    return { ...job, settlement };
  }

  async reportProgress(id: string, progress: JobProgress): Promise<boolean> {
    const present = await this.guard(() => queueScripts.run(this.redis, 'progress', this.keys.job(id), progress.framesDone, progress.framesTotal));
    return Number(present) === 1;
  }

  async get(id: string): Promise<Job | undefined> {
    return decodeJob(await this.guard(() => this.redis.hgetall(this.keys.job(id))));
  }

  async erase(id: string): Promise<boolean> {
    const { keys } = this;
    // Without its status hash a late complete/fail finds no job (complete-5.lua, fail-6.lua) and a
    // stream entry still there is dropped at claim (start-5.lua); acking the entry now just keeps
    // XPENDING (the processing count) honest.
    return this.guard(async () => {
      const entry = await this.redis.hget(keys.job(id), 'entry');
      const tx = this.redis.multi().del(keys.job(id)).zrem(keys.delayed, id);
      if (entry) tx.xack(keys.stream, keys.group, entry).xdel(keys.stream, entry);
      const results = await tx.exec();
      return Number(results?.[0]?.[1] ?? 0) > 0;
    });
  }

  async waitForFinish(id: string, timeoutMs: number): Promise<Job | undefined> {
    if (timeoutMs <= 0) return this.get(id);
    const deadline = Date.now() + timeoutMs;
    // Subscribe and listen before reading the status, so a finish in between is not missed.
    await this.events.ready(Math.min(timeoutMs, this.options.commandTimeoutMs));
    const waiter = this.events.waitFor(id);
    try {
      const job = await this.get(id);
      if (!job || isFinished(job)) return job;
      return (await waiter.until(deadline - Date.now())) ?? (await this.get(id));
    } finally {
      waiter.cancel();
    }
  }

  onFinished(listener: (job: Job) => void): () => void {
    return this.events.listen(listener);
  }

  /**
   * Cluster-wide numbers. waiting = undelivered stream entries + retries waiting
   * out their backoff; processing = delivered, not yet acked (XPENDING);
   * consumers = workers seen within consumerActiveMs. That comes from our own
   * presence zset, not XINFO CONSUMERS: Redis 7.0 creates a consumer only when
   * something is delivered to it, so idle workers would not be counted.
   */
  async stats(): Promise<QueueStats> {
    const { keys, options } = this;
    return this.guard(async () => {
      const results = await this.redis
        .pipeline()
        .xlen(keys.stream)
        .zcard(keys.delayed)
        .xpending(keys.stream, keys.group)
        .mget(keys.completedCount, keys.failedCount)
        .xlen(keys.dead)
        .zcount(keys.workers, Date.now() - options.consumerActiveMs, '+inf')
        .xinfo('GROUPS', keys.stream)
        .time()
        .exec();
      const values = (results ?? []).map(([err, value]) => {
        if (err) throw err;
        return value;
      });
      const [streamLength, delayed, pending, counters, deadLetter, consumers, groups, time] = values as [number, number, [number], Array<string | null>, number, number, unknown[][], [string, string]];
      const processing = Number(pending[0] ?? 0);
      const undelivered = Math.max(0, streamLength - processing);
      return {
        waiting: undelivered + delayed,
        processing,
        oldestWaitingMs: undelivered > 0 ? await this.oldestWaitingMs(groups, time) : 0,
        completed: Number(counters[0] ?? 0),
        failed: Number(counters[1] ?? 0),
        deadLetter,
        consumers,
      };
    });
  }

  /**
   * Age of the first entry after the group's last-delivered id, by Redis' own clock (stream ids
   * are XADD times in ms, so API and Redis clocks need not agree).
   */
  private async oldestWaitingMs(groups: unknown[][], time: [string, string]): Promise<number> {
    const group = groups.find((g) => g[g.indexOf('name') + 1] === this.keys.group);
    const lastDelivered = group ? String(group[group.indexOf('last-delivered-id') + 1]) : '0-0';
    const [first] = (await this.redis.xrange(this.keys.stream, `(${lastDelivered}`, '+', 'COUNT', 1)) as StreamEntry[];
    if (!first) return 0;
    const nowMs = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
    return Math.max(0, nowMs - Number(first[0].split('-')[0]));
  }

  async claimRound(name: string, ms: number): Promise<boolean> {
    const { keys, options } = this;
    const taken = await this.guard(() => this.redis.set(keys.round(name), options.consumerName, 'PX', Math.max(1, Math.floor(ms)), 'NX'));
    return taken === 'OK';
  }

  async check(): Promise<void> {
    await this.guard(() => this.redis.ping());
  }

  /**
   * Resets the idle time of jobs this process still works on, so they are not
   * reclaimed while it lives, and keeps a busy worker counted as a consumer.
   */
  private async refreshHeld(): Promise<void> {
    if (!this.claiming || this.redis.status !== 'ready') return;
    const { keys, options } = this;
    await this.redis.zadd(keys.workers, Date.now(), options.consumerName);
    if (this.held.size > 0) await queueScripts.run(this.redis, 'heartbeat', keys.stream, keys.group, options.consumerName, ...this.held.values());
  }

  /**
   * Stops blocking reads at once and closes the connections. Jobs still held are
   * not given back: once idle past stalledMs, live workers reclaim them.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.blocking.disconnect();
    this.events.close();
    if (this.redis.status === 'ready') {
      await this.redis.zrem(this.keys.workers, this.options.consumerName).catch(() => undefined);
      await queueScripts.run(this.redis, 'forgetConsumer', this.keys.stream, this.keys.group, this.options.consumerName).catch(() => undefined);
      await this.redis.quit().catch(() => undefined);
    }
    this.redis.disconnect();
  }
}
