import type { Logger } from '../observability/logger.js';
import type { Principal } from './authenticator.js';

export interface AuditEntry {
  principal?: Principal;
  method: string;
  /** The route pattern (`/v1/jobs/:id`), never the raw URL: its query may carry ?access_token=. */
  route: string;
  jobIds: string[];
  status: number;
  code?: string;
  bytesIn: number;
  durationMs: number;
  remote: string;
}

// Probes and scrapes would drown the audit trail at info.
const QUIET = new Set(['/v1/health', '/health', '/v1/ready', '/metrics']);

/** One line per request: who, what, which job, outcome, size, time. Never bodies, tokens or keys. */
export function writeAudit(log: Logger, e: AuditEntry): void {
  const fields = {
    audit: true,
    tenant: e.principal?.tenant ?? null,
    key_id: e.principal?.keyId ?? null,
    auth: e.principal?.method ?? null,
    method: e.method,
    route: e.route,
    job_id: e.jobIds.length === 1 ? e.jobIds[0] : e.jobIds.length === 0 ? null : e.jobIds,
    status: e.status,
    code: e.code ?? null,
    bytes_in: e.bytesIn,
    duration_ms: Math.round(e.durationMs * 10) / 10,
    remote: e.remote,
  };
  if (QUIET.has(e.route) && e.status < 400) log.debug('request', fields);
  else log.info('request', fields);
}
