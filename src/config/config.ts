import path from 'node:path';
import type { TObject, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { defaults, profiles } from './defaults.js';
import { ConfigSchema, isSetting, type Config, type SettingSchema } from './schema.js';
import { expectedOf } from '../schema/describe.js';

export type { Config } from './schema.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

// Variables renamed so "worker" names only the node role; the old names keep working.
const ALIASES: Readonly<Record<string, string>> = Object.freeze({
  POOL_THREADS: 'WORKERS',
  POOL_TASKS_PER_THREAD: 'WORKER_CONCURRENCY',
});

function withAliases(env: Env): Env {
  const out: Env = { ...env };
  for (const [name, old] of Object.entries(ALIASES)) {
    if ((out[name] === undefined || out[name] === '') && out[old] !== undefined) out[name] = out[old];
  }
  return out;
}

const BOOLEAN_WORDS: ReadonlyMap<string, boolean> = new Map([
  ...['1', 'true', 'yes', 'on'].map((w) => [w, true] as const),
  ...['0', 'false', 'no', 'off'].map((w) => [w, false] as const),
]);

// Variables whose words are not their schema type's own; the schema still checks what they give.
const PARSE_AS: Readonly<Record<string, (raw: string) => unknown>> = Object.freeze({
  // KEEP_METADATA was a reserved boolean: false still means strip, true the one safe way to keep.
  KEEP_METADATA: (raw: string) => {
    const word = raw.toLowerCase();
    const flag = BOOLEAN_WORDS.get(word);
    return flag === undefined ? word : flag ? 'safe' : 'strip';
  },
  // Only the word `off` means every vehicle (Infinity); a written "Infinity" is refused as before.
  PLATE_CROP_BELOW_PX: (raw: string) => {
    if (raw === 'off') return Infinity;
    const px = Number(raw);
    return Number.isFinite(px) ? px : Number.NaN;
  },
});

// Blank means "unset" except where blank is a value: an empty string, list or map.
const BLANK_IS_A_VALUE: readonly (string | undefined)[] = ['string', 'array', 'object'];

const TENANT = /^(\*|[\w.@:-]{1,128})$/;

/** sharp's message template, <what> read off the variable's schema node. */
function mismatch(schema: SettingSchema, received: string): ConfigError {
  return new ConfigError(`Expected ${expectedOf(schema)} for ${schema.env} but received ${JSON.stringify(received)}`);
}

/** `tenant=value` pairs, comma-separated, into a frozen map (values may hold `=`, not `,`). */
function tenantMap(schema: SettingSchema, raw: string): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const at = entry.indexOf('=');
    const tenant = entry.slice(0, at).trim();
    const value = entry.slice(at + 1).trim();
    if (at <= 0 || !value || !TENANT.test(tenant)) throw mismatch(schema, entry.slice(0, 40));
    out[tenant] = value;
  }
  return Object.freeze(out);
}

/** The string as the value its schema types: a number, a boolean word, trimmed text, a list, a tenant map; enums as written. */
function parse(schema: SettingSchema, raw: string): unknown {
  const special = PARSE_AS[schema.env];
  if (special) return special(raw);
  switch (schema.type) {
    case 'integer': {
      // Past 2^53 a number is no longer the integer that was written: refused like any non-integer.
      const value = Number(raw);
      return Number.isSafeInteger(value) ? value : Number.NaN;
    }
    case 'number':
      return Number(raw);
    case 'boolean':
      return BOOLEAN_WORDS.get(raw.toLowerCase()) ?? raw;
    case 'string':
      return raw.trim();
    case 'array':
      return Object.freeze(raw.split(',').map((v) => v.trim()).filter(Boolean));
    case 'object':
      return tenantMap(schema, raw);
    default:
      return raw;
  }
}

/** One variable's value, checked against its schema node (one with `env`); undefined when the variable is unset. */
function readSetting(node: TSchema, env: Env): unknown {
  const schema = node as SettingSchema;
  const raw = env[schema.env];
  if (raw === undefined || (raw === '' && !BLANK_IS_A_VALUE.includes(schema.type))) return undefined;
  const value = parse(schema, raw);
  if (!Value.Check(schema, value)) throw mismatch(schema, raw);
  return value;
}

/** An object of the schema, frozen: each field its variable's value, else the fallback's (nested objects field by field). */
function readSettings(schema: TObject, env: Env, fallback: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema.properties)) {
    if (isSetting(field)) out[key] = readSetting(field, env) ?? fallback[key];
    else if ('properties' in field) out[key] = readSettings(field as TObject, env, fallback[key] as Record<string, unknown>);
    else out[key] = fallback[key];
  }
  return Object.freeze(out);
}

// The checks below relate settings to each other (and never echo a secret), so they stay code
// after the per-variable schema checks.

/** Default callback URLs must be http(s) and every tenant that has one must have a signing secret. */
function checkWebhookConfig(config: Config): void {
  for (const [tenant, url] of Object.entries(config.webhookDefaults)) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol)) throw new ConfigError(`Expected an http(s) URL for tenant ${tenant} in WEBHOOK_DEFAULTS but received ${JSON.stringify(url)}`);
    if (!config.webhookSecret && !config.webhookSecrets[tenant]) throw new ConfigError(`WEBHOOK_DEFAULTS names tenant ${tenant} but neither WEBHOOK_SECRET nor WEBHOOK_SECRETS gives it a signing secret`);
  }
  for (const [tenant, secret] of [['(default)', config.webhookSecret], ...Object.entries(config.webhookSecrets)]) {
    if (secret && secret.length < 16) throw new ConfigError(`Expected a webhook signing secret of at least 16 characters for ${tenant} (WEBHOOK_SECRET / WEBHOOK_SECRETS)`);
  }
}

/** AUTH=on with nothing to check credentials against would refuse every request: say so at start. */
function checkAuthConfig(config: Config): void {
  if (config.jwtSecret && config.jwtSecret.length < 32) {
    throw new ConfigError('Expected at least 32 characters for JWT_SECRET (an HS256 key) but received a shorter one');
  }
  if (config.jwtSecret && config.jwtJwksUrl) throw new ConfigError('Set JWT_SECRET or JWT_JWKS_URL, not both');
  if (config.auth === 'on' && !config.apiKeys && !config.apiKeysFile && !config.jwtSecret && !config.jwtJwksUrl) {
    throw new ConfigError('AUTH=on needs API_KEYS, API_KEYS_FILE, JWT_SECRET or JWT_JWKS_URL');
  }
}

/** Reads the environment over the frozen defaults; throws ConfigError naming the variable on bad input. */
export function loadConfig(rawEnv: Env = process.env, overrides: Partial<Config> = {}): Config {
  const env = withAliases(rawEnv);
  const asked = (readSetting(ConfigSchema.properties.profile, env) ?? defaults.profile) as Config['profile'];
  const values = readSettings(ConfigSchema, env, { ...defaults, ...profiles[asked] }) as Config;
  const config: Config = {
    ...values,
    // `legacy` is the old name of `ultraface-tiled`.
    profile: asked === 'legacy' ? 'ultraface-tiled' : asked,
    dataDir: path.resolve(values.dataDir),
    modelDir: path.resolve(values.modelDir),
    // A token always names its tenant by some claim.
    jwtTenantClaim: values.jwtTenantClaim || 'sub',
    ...overrides,
  };
  checkAuthConfig(config);
  checkWebhookConfig(config);
  return Object.freeze(config);
}
