import type { Config } from '../config/config.js';

/** The signing secret of a tenant's webhooks: its WEBHOOK_SECRETS entry, else WEBHOOK_SECRET; undefined when neither is set. */
export function webhookSecretFor(config: Pick<Config, 'webhookSecret' | 'webhookSecrets'>, tenant: string | undefined): string | undefined {
  const own = tenant === undefined ? undefined : config.webhookSecrets[tenant];
  return own || config.webhookSecret || undefined;
}
