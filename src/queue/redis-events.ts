import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { errors } from '../errors.js';
import type { Job } from '../job.js';
import { createConnection } from '../redis/connection.js';
import { decodeJob } from './redis-status.js';

export interface FinishedWaiter {
  /** The finished job, or undefined when `timeoutMs` passes first. */
  until(timeoutMs: number): Promise<Job | undefined>;
  cancel(): void;
}

/**
 * Finished-job events of one queue, from every node: the Lua scripts PUBLISH the
 * job's hash fields on the channel; one subscriber connection per queue instance
 * fans them out. Events published while the subscriber is disconnected are
 * lost; waitForFinish then falls back to reading the status at its timeout.
 */
export class FinishedEvents {
  private subscriber?: Redis;
  private subscribed?: Promise<void>;
  private readonly emitter = new EventEmitter();

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly timeoutMs: number,
    private readonly onError: (err: Error) => void,
  ) {
    this.emitter.setMaxListeners(0);
  }

  /** Resolves once the channel is subscribed; throws SERVICE_UNAVAILABLE if that takes longer than `withinMs`. */
  async ready(withinMs = this.timeoutMs): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(errors.unavailable('Redis')), withinMs);
    });
    try {
      await Promise.race([this.subscribe(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private subscribe(): Promise<void> {
    if (!this.subscribed) {
      const subscriber = createConnection(this.url, 'subscriber', this.timeoutMs, this.onError);
      subscriber.on('message', (channel: string, message: string) => {
        if (channel === this.channel) this.dispatch(message);
      });
      this.subscriber = subscriber;
      // The offline queue holds SUBSCRIBE until connected; autoResubscribe renews it after reconnects.
      this.subscribed = subscriber.subscribe(this.channel).then(
        () => undefined,
        (err: unknown) => {
          this.subscribed = undefined;
          this.subscriber = undefined;
          subscriber.disconnect();
          throw err;
        },
      );
      this.subscribed.catch(() => undefined);
    }
    return this.subscribed;
  }

  private dispatch(message: string): void {
    let job: Job | undefined;
    try {
      job = decodeJob(JSON.parse(message));
    } catch (err) {
      this.onError(err as Error);
      return;
    }
    if (!job) return;
    this.emitter.emit(`job:${job.id}`, job);
    this.emitter.emit('finished', job);
  }

  listen(listener: (job: Job) => void): () => void {
    this.subscribe().catch(() => undefined);
    this.emitter.on('finished', listener);
    return () => this.emitter.off('finished', listener);
  }

  /** Starts listening for one job now, so an event between this call and `until` is not missed. */
  waitFor(id: string): FinishedWaiter {
    const event = `job:${id}`;
    let seen: Job | undefined;
    let wake: ((job: Job | undefined) => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const onEvent = (job: Job) => {
      seen = job;
      wake?.(job);
    };
    this.emitter.on(event, onEvent);
    const cancel = () => {
      clearTimeout(timer);
      this.emitter.off(event, onEvent);
    };
    return {
      cancel,
      until: (timeoutMs) =>
        seen
          ? Promise.resolve(seen)
          : new Promise((resolve) => {
              wake = resolve;
              timer = setTimeout(() => resolve(undefined), Math.max(0, timeoutMs));
            }),
    };
  }

  close(): void {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
    this.subscribed = undefined;
    this.emitter.removeAllListeners();
  }
}
