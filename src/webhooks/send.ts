// One delivery attempt: POST to the checked address, no redirects followed, bounded in time.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CallbackTarget } from './address-policy.js';

/** Resolves on a 2xx answer; rejects with a one-line reason (status, timeout, network error) otherwise. */
export function postWebhook(target: CallbackTarget, body: string, headers: Record<string, string>, timeoutMs: number): Promise<void> {
  const { url, addresses } = target;
  const pinned = addresses[0];
  // Connect to the address that passed the check, not to whatever a second lookup returns (DNS rebinding).
  const lookup: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: typeof addresses) => void)(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    const request = client.request(url, {
      method: 'POST',
      lookup,
      headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
      timeout: timeoutMs,
      agent: false,
    });
    const tooSlow = () => new Error(`no answer within ${timeoutMs} ms (WEBHOOK_TIMEOUT_MS)`);
    // The whole attempt, body of the answer included, ends by the deadline, whatever the receiver does.
    const timer = setTimeout(() => {
      done(tooSlow());
      request.destroy();
    }, timeoutMs);
    request.on('timeout', () => {
      done(tooSlow());
      request.destroy();
    });
    request.on('error', (err) => done(err));
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      response.on('error', (err) => done(err));
      response.on('end', () => {
        if (status >= 200 && status < 300) done();
        else if (status >= 300 && status < 400) done(new Error(`answered ${status}; redirects are not followed`));
        else done(new Error(`answered ${status}`));
      });
    });
    request.end(body);
  });
}
