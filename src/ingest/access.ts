import { performance } from 'node:perf_hooks';
import { writeAudit, type AuditEntry } from '../auth/audit.js';
import { ANONYMOUS, type Authenticator, type Principal } from '../auth/authenticator.js';
import { MemoryRateLimiter, type RateLimiter } from '../auth/rate-limit.js';
import type { Config } from '../config/config.js';
import { errors, isPixveilError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Reply, RequestInfo } from './http.js';
import type { SpooledBody } from './upload-file.js';
import type { HttpResponse } from './uws.js';

// Who is calling, whose jobs they touch, which budgets they spend, and the audit line:
// the same for HTTP routes and the WebSocket stream.

/** One HTTP request as a route handler sees it. */
export interface Call {
  reply: Reply;
  info: RequestInfo;
  res: HttpResponse;
  principal: Principal;
  /** Started before authentication (uWS drops body bytes not claimed at once); present on upload routes. */
  body?: Promise<Buffer>;
  /** The same for routes whose body goes to a temporary file (BodyRule.onDisk); removed when the route ends. */
  upload?: Promise<SpooledBody>;
}

/** open: health, readiness; metrics: open unless METRICS_TOKEN; tenant: needs credentials when AUTH=on. */
export type AccessLevel = 'open' | 'metrics' | 'tenant';

/** Jobs are stamped with their tenant only when AUTH=on; anonymous jobs have none. */
export function tenantOf(principal: Principal): string | undefined {
  return principal.method === 'none' ? undefined : principal.tenant;
}

/** Tenant when authenticated, client address with AUTH=off (upload slots). */
export function limitKey(principal: Principal, remoteAddress: string): string {
  return principal.method === 'none' ? `ip:${remoteAddress}` : `tenant:${principal.tenant}`;
}

/** An audit entry as the route knows it: when it started rather than how long it took. */
export type AuditFields = Omit<AuditEntry, 'durationMs'> & { startedAt: number };

export class Access {
  /** Failed authentications per client address; a guesser gets 429 before any key is checked. */
  private readonly failures: MemoryRateLimiter | undefined;

  constructor(
    private readonly auth: Authenticator,
    private readonly rateLimiter: RateLimiter,
    private readonly log: Logger,
    config: Pick<Config, 'authFailuresPerMinute' | 'trustedProxies'>,
  ) {
    const perMinute = config.authFailuresPerMinute;
    this.failures = perMinute > 0 ? new MemoryRateLimiter(perMinute, perMinute) : undefined;
    this.trustedProxies = new Set(config.trustedProxies);
  }

  private readonly trustedProxies: ReadonlySet<string>;

  /**
   * The client's address: the socket's peer, or, when that peer is one of TRUSTED_PROXIES, the
   * rightmost X-Forwarded-For entry that is not (entries further left are the client's own claims).
   */
  clientAddress(peer: string, headers: Record<string, string>): string {
    if (!this.trustedProxies.has(peer)) return peer;
    const hops = (headers['x-forwarded-for'] ?? '').split(',').map((h) => h.trim()).filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) if (!this.trustedProxies.has(hops[i])) return hops[i];
    return peer;
  }

  get required(): boolean {
    return this.auth.required;
  }

  /**
   * The caller at `level`, after the failed-auth throttle and, with `spend`, one request from
   * the tenant's budget (a WebSocket upgrade spends none: each image it carries spends one).
   */
  async admit(level: AccessLevel, headers: Record<string, string>, remoteAddress: string, { queryToken, spend = true }: { queryToken?: string; spend?: boolean } = {}): Promise<Principal> {
    if (level === 'open') return ANONYMOUS;
    // Only routes that check credentials are throttled: an open /metrics stays open to a guesser's address.
    const checked = level === 'tenant' ? this.auth.required : this.auth.protectsMetrics;
    const blocked = checked ? this.failures?.peek(remoteAddress) : undefined;
    if (blocked && !blocked.allowed) throw this.throttled(blocked.retryAfterSeconds);
    let principal: Principal;
    try {
      if (level === 'metrics') {
        this.auth.checkMetrics(headers);
        return ANONYMOUS;
      }
      principal = await this.auth.authenticate({ headers, queryToken });
    } catch (err) {
      if (isPixveilError(err) && err.code === 'UNAUTHENTICATED' && this.failures) {
        const decision = this.failures.takeSync(remoteAddress);
        if (!decision.allowed) throw this.throttled(decision.retryAfterSeconds);
      }
      throw err;
    }
    if (spend) await this.spend(principal);
    return principal;
  }

  /** One request from the tenant's token bucket; with AUTH=off there is no tenant to budget. */
  async spend(principal: Principal): Promise<void> {
    if (principal.method === 'none') return;
    const decision = await this.rateLimiter.take(principal.tenant);
    if (!decision.allowed) throw errors.rateLimited(this.rateLimiter.perMinute, decision.retryAfterSeconds);
  }

  audit(fields: AuditFields): void {
    const { startedAt, ...entry } = fields;
    writeAudit(this.log, { ...entry, durationMs: performance.now() - startedAt });
  }

  private throttled(retryAfterSeconds: number) {
    const perMinute = this.failures?.perMinute ?? 0;
    return errors.authThrottled(perMinute, retryAfterSeconds);
  }
}
