// What stops a node from starting (Redis, storage) becomes one line the operator can act on: a
// ConfigError, which the command line prints without a stack and ends with exit status 2.
import { ConfigError } from '../config/config.js';

export class SetupError extends ConfigError {
  constructor(message: string) {
    super(message);
    this.name = 'SetupError';
  }
}

/** A URL as logs may show it: credentials replaced, so a password never reaches the terminal. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.username || url.password) {
      url.username = '***';
      url.password = '';
    }
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable URL)';
  }
}

function reason(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  // Connection trouble arrives as SERVICE_UNAVAILABLE wrapping the client's own error, which says what happened.
  const inner = cause instanceof Error ? cause : err instanceof Error ? err : undefined;
  const text = inner ? inner.message || inner.name : String(err);
  return text.split('\n')[0];
}

/** Runs one start-up step; any failure other than a ConfigError comes back as a SetupError saying what `step` needed. */
export async function setupStep<T>(describe: (reason: string) => string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new SetupError(describe(reason(err)));
  }
}
