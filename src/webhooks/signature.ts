// Webhook signatures: HMAC-SHA256 over `<unix seconds>.<raw body>`, sent as
// `Pixveil-Signature: t=<unix seconds>,v1=<hex>`. README's verification snippet is this code.
import crypto from 'node:crypto';

export function signatureHeader(secret: string, timestampSeconds: number, body: string): string {
  const v1 = crypto.createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${v1}`;
}

/** What a receiver runs: true when the header signs `body` with `secret` within `toleranceSeconds` of now. */
export function verifySignature(secret: string, header: string, body: string, toleranceSeconds = 300, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2)));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds || !/^[0-9a-f]{64}$/.test(parts.v1 ?? '')) return false;
  const expected = crypto.createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return crypto.timingSafeEqual(expected, Buffer.from(parts.v1, 'hex'));
}
