// `pixveil keys hash <tenant> [key]` prints an API_KEYS_FILE line (and a new random key when
// none is given), so plain keys never need to be stored on the server.
import crypto from 'node:crypto';
import { hashApiKey } from './api-keys.js';

export function newApiKey(): string {
  return `pv_${crypto.randomBytes(24).toString('base64url')}`;
}

export function keysFileLine(tenant: string, key: string): string {
  return `${tenant}:${hashApiKey(key)}`;
}

