import { keysFileLine, newApiKey } from '../auth/hash-key.js';
import { ConfigError } from '../config/config.js';

/** `pixveil keys hash <tenant> [key]`: an API_KEYS_FILE line, making a key when none is given. */
export async function runKeysCommand(args: string[]): Promise<void> {
  const [sub, tenant, given] = args;
  if (sub !== 'hash' || !tenant) throw new ConfigError('Usage: pixveil keys hash <tenant> [key]');
  const key = given ?? newApiKey();
  // The key goes to stderr, the file line to stdout, so `>> keys.txt` stores only the hash.
  if (!given) console.error(`key for ${tenant} (give it to the client; it is not stored): ${key}`);
  console.log(keysFileLine(tenant, key));
}
