import type { Job } from '../job.js';
import type { Logger } from '../observability/logger.js';
import type { JobQueue, WebhookDelivery, WebhookPolicy } from '../queue/queue.js';
import { webhookLane } from '../queue/webhook-lanes.js';
import { checkCallbackTarget, type ResolveHost } from './address-policy.js';
import { postWebhook } from './send.js';
import { signatureHeader } from './signature.js';

export interface WebhookDispatcherOptions {
  /** The job as GET /v1/jobs/:id shows it (ingest's view, handed in by the node). */
  view: (job: Job) => object;
  /** Signing secret of a tenant; undefined when none is configured. */
  secretFor: (tenant: string | undefined) => string | undefined;
  allowPrivate: boolean;
  timeoutMs: number;
  policy: WebhookPolicy;
  /** Pause between polls of the delivery schedule when nothing was due. */
  pollMs: number;
  /** Deliveries in flight at once on this node (WEBHOOK_CONCURRENCY). */
  concurrency: number;
  /** Of those, at most this many for one tenant (one callback host without a tenant): WEBHOOK_TENANT_CONCURRENCY. */
  perTenantConcurrency: number;
  /** Name resolution for the delivery-time address check; getaddrinfo unless a test hands in its own. */
  resolve?: ResolveHost;
  log: Logger;
  /** Called after each attempt (metrics). */
  onAttempt?: (delivered: boolean) => void;
}

// Pause after the queue backend failed, before polling it again.
const ERROR_BACKOFF_MS = 1000;

/** The webhook request of one attempt: JSON body and headers, signed. */
export function webhookRequest(delivery: WebhookDelivery, view: (job: Job) => object, secret: string, nowMs = Date.now()): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({
    id: delivery.deliveryId,
    type: delivery.event,
    created_at: new Date(delivery.job.finishedAt ?? nowMs).toISOString(),
    attempt: delivery.attempt,
    job: view(delivery.job),
  });
  const timestamp = Math.floor(nowMs / 1000);
  return {
    body,
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': 'pixveil-webhooks/1',
      'Pixveil-Delivery': delivery.deliveryId,
      'Pixveil-Event': delivery.event,
      'Pixveil-Signature': signatureHeader(secret, timestamp, body),
    },
  };
}

/**
 * Sends the webhook deliveries the queue has due, on every node that runs jobs. A delivery is
 * leased, not taken: if this process dies mid-attempt the queue hands it out again when the
 * lease ends, with the same delivery id (at-least-once; receivers deduplicate by the id).
 */
export class WebhookDispatcher {
  private running = false;
  private loop?: Promise<void>;
  private readonly inFlight = new Set<Promise<void>>();
  /** Lane (tenant, or callback host) → deliveries in flight: what claimDeliveries shares the slots by. */
  private readonly laneLoad = new Map<string, number>();
  private wake?: () => void;
  /** Set while the queue backend fails, so an outage is logged once, not on every poll. */
  private failing = false;

  constructor(
    private readonly queue: JobQueue,
    private readonly options: WebhookDispatcherOptions,
  ) {}

  /** Longer than any attempt can take (DNS, connect, answer), so a live attempt is never handed out twice. */
  get leaseMs(): number {
    return this.options.timeoutMs * 2 + 5000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const free = this.options.concurrency - this.inFlight.size;
      let due: WebhookDelivery[] = [];
      let pauseMs = this.options.pollMs;
      if (free > 0) {
        try {
          due = await this.queue.webhooks.claimDeliveries(free, this.leaseMs, { perLane: Math.min(this.options.perTenantConcurrency, this.options.concurrency), inFlight: this.laneLoad });
          if (this.failing) this.options.log.info('webhook deliveries readable again');
          this.failing = false;
        } catch (err) {
          if (!this.failing) this.options.log.warn('could not read due webhook deliveries; retrying', { error: (err as Error).message });
          this.failing = true;
          pauseMs = Math.max(pauseMs, ERROR_BACKOFF_MS);
        }
      }
      for (const delivery of due) {
        const lane = webhookLane(delivery.job);
        this.laneLoad.set(lane, (this.laneLoad.get(lane) ?? 0) + 1);
        const task = this.deliver(delivery).finally(() => {
          this.inFlight.delete(task);
          const left = (this.laneLoad.get(lane) ?? 1) - 1;
          if (left > 0) this.laneLoad.set(lane, left);
          else this.laneLoad.delete(lane);
          // A slot came free: look for due deliveries now rather than after the poll pause.
          this.wake?.();
        });
        this.inFlight.add(task);
      }
      if (due.length === 0 && this.running) await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pauseMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private async deliver(delivery: WebhookDelivery): Promise<void> {
    const { log, policy } = this.options;
    const hookLog = log.child({ job_id: delivery.job.id, delivery_id: delivery.deliveryId });
    let error: string | undefined;
    try {
      const secret = this.options.secretFor(delivery.job.tenant);
      if (!secret) throw new Error('no signing secret for this tenant (WEBHOOK_SECRET, WEBHOOK_SECRETS)');
      // Checked again now: the name may resolve elsewhere than at upload (DNS rebinding).
      const target = await checkCallbackTarget(delivery.url, this.options.allowPrivate, Math.min(5000, this.options.timeoutMs), this.options.resolve);
      const { body, headers } = webhookRequest(delivery, this.options.view, secret);
      await postWebhook(target, body, headers, this.options.timeoutMs);
    } catch (err) {
      error = (err as Error).message || String(err);
    }
    this.options.onAttempt?.(error === undefined);
    if (error === undefined) hookLog.info('webhook delivered', { attempt: delivery.attempt });
    else hookLog.warn('webhook attempt failed', { attempt: delivery.attempt, error, final: delivery.attempt >= policy.maxAttempts });
    try {
      await this.queue.webhooks.recordDelivery(delivery, error, policy);
    } catch (err) {
      // Not recorded: the lease runs out and the delivery is sent again (same id).
      hookLog.warn('could not record the webhook attempt; it will be retried when its lease ends', { error: (err as Error).message });
    }
  }

  /** Stops polling and waits up to graceMs for attempts in flight; unfinished ones are retried after their lease. */
  async stop(graceMs: number): Promise<void> {
    this.running = false;
    this.wake?.();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([this.loop, ...this.inFlight]), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
  }
}
