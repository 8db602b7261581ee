import { ScriptSet } from '../redis/scripts.js';

/** Every state change of the Redis queue; see each file's header for its KEYS and ARGV. */
export const queueScripts = new ScriptSet('queue', {
  enqueue: 'enqueue-3.lua',
  promote: 'promote-2.lua',
  start: 'start-5.lua',
  complete: 'complete-5.lua',
  fail: 'fail-6.lua',
  claimWebhooks: 'claim-webhooks-1.lua',
  recordWebhook: 'record-webhook-2.lua',
  heartbeat: 'heartbeat-1.lua',
  progress: 'progress-1.lua',
  forgetConsumer: 'forget-consumer-1.lua',
  retryDead: 'retry-dead-3.lua',
  reserveIdempotency: 'reserve-idempotency-1.lua',
  releaseIdempotency: 'release-idempotency-1.lua',
});
