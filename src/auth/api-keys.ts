import crypto from 'node:crypto';
import fs from 'node:fs';
import { ConfigError } from '../config/config.js';

export interface KeyMatch {
  tenant: string;
  /** Safe to log: a prefix of the key's sha256, never the key. */
  keyId: string;
}

interface StoredKey {
  tenant: string;
  hash: Buffer;
}

export function hashApiKey(key: string): string {
  return crypto.createHash('sha256').update(key, 'utf8').digest('hex');
}

const TENANT = /^[\w.@-]{1,128}$/;

function parseEntry(entry: string, where: string, hashed: boolean): StoredKey {
  const at = entry.indexOf(':');
  const tenant = entry.slice(0, at).trim();
  const secret = entry.slice(at + 1).trim();
  if (at <= 0 || !TENANT.test(tenant) || !secret) {
    throw new ConfigError(`Expected "tenant:${hashed ? 'sha256hex' : 'key'}" entries in ${where} (tenant: letters, digits, . _ @ -)`);
  }
  if (hashed) {
    const hex = secret.replace(/^sha256:/, '');
    if (!/^[0-9a-f]{64}$/i.test(hex)) throw new ConfigError(`Expected a sha256 hex digest for tenant ${tenant} in ${where}; hash keys with "pixveil keys hash <tenant>"`);
    return { tenant, hash: Buffer.from(hex, 'hex') };
  }
  if (secret.length < 16) throw new ConfigError(`Expected API keys of at least 16 characters in ${where} (tenant ${tenant})`);
  return { tenant, hash: Buffer.from(hashApiKey(secret), 'hex') };
}

/**
 * API keys, held only as sha256 digests. A presented key is hashed and compared with every
 * stored digest in constant time, without stopping at the first match, so neither the
 * comparison nor the position of a key in the list shows in the timing.
 */
export class ApiKeyStore {
  private constructor(private readonly keys: readonly StoredKey[]) {}

  /** API_KEYS (`tenant:key,…`, plain) and API_KEYS_FILE (`tenant:sha256hex` per line, # comments). */
  static load(apiKeys: string, apiKeysFile: string): ApiKeyStore {
    const keys: StoredKey[] = [];
    for (const entry of apiKeys.split(',').map((s) => s.trim()).filter(Boolean)) keys.push(parseEntry(entry, 'API_KEYS', false));
    if (apiKeysFile) {
      let text: string;
      try {
        text = fs.readFileSync(apiKeysFile, 'utf8');
      } catch (err) {
        throw new ConfigError(`Cannot read API_KEYS_FILE ${apiKeysFile}: ${(err as Error).message}`);
      }
      for (const line of text.split(/\r?\n/).map((s) => s.trim())) {
        if (line && !line.startsWith('#')) keys.push(parseEntry(line, `API_KEYS_FILE ${apiKeysFile}`, true));
      }
    }
    return new ApiKeyStore(keys);
  }

  get size(): number {
    return this.keys.length;
  }

  match(presented: string): KeyMatch | undefined {
    const digest = crypto.createHash('sha256').update(presented, 'utf8').digest();
    let found: StoredKey | undefined;
    for (const key of this.keys) {
      if (crypto.timingSafeEqual(digest, key.hash) && !found) found = key;
    }
    return found ? { tenant: found.tenant, keyId: `key:${found.hash.toString('hex').slice(0, 8)}` } : undefined;
  }
}
