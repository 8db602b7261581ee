// Redis keys of the rate limiter, on the queue's prefix convention `<prefix>:<what>:<id>`.
export function rateLimitKey(prefix: string, tenant: string): string {
  return `${prefix ? `${prefix}:` : ''}ratelimit:${tenant}`;
}
