import { ThroughputWindow, type FinishedKind } from './throughput.js';

// Tenants beyond this are forgotten oldest first, so a churn of tenants cannot grow memory.
const MAX_TENANTS = 10_000;

/** A throughput window per tenant, fed by every finished job this node hears of (all nodes in Redis mode). */
export class TenantThroughput {
  private readonly windows = new Map<string, ThroughputWindow>();

  /**
   * `startedAt`: when this node began hearing of finished jobs. Every tenant's window counts from
   * then, not from the tenant's first job, which would divide a handful of images by a second or two.
   */
  constructor(private readonly startedAt = Date.now()) {}

  record(tenant: string | undefined, finishedAt: number, latencyMs: number, ok: boolean, kind: FinishedKind = 'image'): void {
    if (tenant === undefined) return;
    let window = this.windows.get(tenant);
    if (!window) {
      if (this.windows.size >= MAX_TENANTS) this.windows.delete(this.windows.keys().next().value!);
      window = new ThroughputWindow(undefined, undefined, this.startedAt);
      this.windows.set(tenant, window);
    }
    window.record(finishedAt, latencyMs, ok, kind);
  }

  /** The tenant's window; a fresh, empty one for a tenant with no finished job yet. */
  of(tenant: string): ThroughputWindow {
    return this.windows.get(tenant) ?? new ThroughputWindow(undefined, undefined, this.startedAt);
  }
}
