// `node dist/src/auth/hash-key.js <tenant> [key]` prints an API_KEYS_FILE line (and a new
// random key when none is given), so plain keys never need to be stored on the server.
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { hashApiKey } from './api-keys.js';

export function newApiKey(): string {
  return `pv_${crypto.randomBytes(24).toString('base64url')}`;
}

export function keysFileLine(tenant: string, key: string): string {
  return `${tenant}:${hashApiKey(key)}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [tenant, given] = process.argv.slice(2);
  if (!tenant) {
    console.error('usage: hash-key <tenant> [key]   (prints the API_KEYS_FILE line; generates a key when none is given)');
    process.exit(2);
  }
  const key = given ?? newApiKey();
  if (!given) console.error(`key for ${tenant} (give it to the client; it is not stored): ${key}`);
  console.log(keysFileLine(tenant, key));
}
