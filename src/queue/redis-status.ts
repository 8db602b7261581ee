import type { Job, JobStatus, WebhookState } from '../job.js';

// A job's status hash: `job` holds the JSON of the fields that never change
// (id, tenant, createdAt, options, input); the Lua scripts only touch the flat
// fields below, so they never re-encode JSON (cjson turns [] into {}).
//   status, attempts, updatedAt, startedAt, finishedAt  plain values
//   result, error                                      JSON written once
//   framesDone, framesTotal                            a video job's progress (progress-1.lua)
//   entry                                              stream entry id of the current delivery
//   webhookDelivery, webhookEvent, webhookStatus,      the finished job's one webhook delivery
//   webhookAttempts, webhookError

export type JobFields = Record<string, string>;

/** The immutable part of a job, stored once at enqueue. */
export function encodeJobBase(job: Job): string {
  const { status: _s, attempts: _a, updatedAt: _u, startedAt: _st, finishedAt: _f, result: _r, error: _e, webhook: _w, progress: _p, ...base } = job;
  return JSON.stringify(base);
}

/** Accepts HGETALL as ioredis returns it (object) or as a Lua script returns it (flat array). */
export function toFields(reply: unknown): JobFields {
  if (!Array.isArray(reply)) return (reply ?? {}) as JobFields;
  const fields: JobFields = {};
  for (let i = 0; i + 1 < reply.length; i += 2) fields[String(reply[i])] = String(reply[i + 1]);
  return fields;
}

/** undefined when the hash is empty (unknown or expired job). */
export function decodeJob(reply: unknown): Job | undefined {
  const fields = toFields(reply);
  if (!fields.job) return undefined;
  const base = JSON.parse(fields.job) as Omit<Job, 'status' | 'attempts' | 'updatedAt'>;
  const job: Job = {
    ...base,
    status: fields.status as JobStatus,
    attempts: Number(fields.attempts ?? 0),
    updatedAt: Number(fields.updatedAt ?? base.createdAt),
  };
  if (fields.startedAt) job.startedAt = Number(fields.startedAt);
  if (fields.finishedAt) job.finishedAt = Number(fields.finishedAt);
  if (fields.result) job.result = JSON.parse(fields.result);
  if (fields.error) job.error = JSON.parse(fields.error);
  if (fields.framesTotal) job.progress = { framesDone: Number(fields.framesDone ?? 0), framesTotal: Number(fields.framesTotal) };
  if (fields.webhookDelivery) {
    job.webhook = {
      deliveryId: fields.webhookDelivery,
      event: fields.webhookEvent as WebhookState['event'],
      status: fields.webhookStatus as WebhookState['status'],
      attempts: Number(fields.webhookAttempts ?? 0),
    };
    if (fields.webhookError) job.webhook.lastError = fields.webhookError;
  }
  return job;
}
