import { errors } from '../errors.js';
import type { JobCallback } from '../job.js';
import { checkCallbackTarget } from '../webhooks/address-policy.js';
import { webhookSecretFor } from '../webhooks/secrets.js';
import type { IngestContext } from './context.js';

/**
 * The webhook of an upload: its `callback_url` (checked now, DNS included: a clear 400 instead
 * of a delivery that can never succeed), else the tenant's default from WEBHOOK_DEFAULTS (an
 * operator's setting, checked at delivery). Undefined when neither applies.
 */
export async function callbackFor(ctx: IngestContext, params: URLSearchParams, tenant: string | undefined): Promise<JobCallback | undefined> {
  const { config } = ctx;
  const raw = params.get('callback_url');
  const url = raw ?? config.webhookDefaults[tenant ?? '*'] ?? config.webhookDefaults['*'];
  if (url === undefined || url === '') return undefined;
  if (!webhookSecretFor(config, tenant)) {
    throw errors.invalidCallbackUrl('webhooks are not configured on this server (no WEBHOOK_SECRET to sign them with)');
  }
  if (raw !== null) await checkCallbackTarget(raw, config.webhookAllowPrivate);
  return { url };
}
