import crypto from 'node:crypto';
import type { Config } from '../config/config.js';
import { errors } from '../errors.js';
import { ApiKeyStore } from './api-keys.js';
import { JwtVerifier } from './jwt.js';

export interface Principal {
  /** Owner of the jobs this request creates or reads. */
  tenant: string;
  /** What the audit log names: `key:<hash prefix>`, `jwt:<sub>`, or `anonymous`. */
  keyId: string;
  method: 'api_key' | 'jwt' | 'none';
  /** Sees cluster-wide /v1/stats and /v1/queue (ADMIN_TENANTS, ADMIN_SCOPE; everyone with AUTH=off). */
  admin: boolean;
}

export interface Credentials {
  headers: Record<string, string>;
  /** Only WebSocket upgrades: `?access_token=` or the `pixveil.bearer.` subprotocol (browsers cannot set headers there). */
  queryToken?: string;
}

const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

export const ANONYMOUS: Principal = Object.freeze({ tenant: 'anonymous', keyId: 'anonymous', method: 'none' as const, admin: true });

/**
 * Turns request credentials into a tenant. `Authorization: Bearer <jwt or key>` or `X-API-Key`;
 * a JWT-shaped bearer goes to the JWT verifier when one is configured, anything else is an API key.
 */
export class Authenticator {
  private constructor(
    readonly required: boolean,
    private readonly keys: ApiKeyStore,
    private readonly jwt: JwtVerifier | undefined,
    private readonly metricsToken: Buffer | undefined,
    private readonly admins: { tenants: ReadonlySet<string>; scope: string },
  ) {}

  static fromConfig(config: Config): Authenticator {
    const keys = ApiKeyStore.load(config.apiKeys, config.apiKeysFile);
    const jwt =
      config.jwtSecret || config.jwtJwksUrl
        ? new JwtVerifier({
            secret: config.jwtSecret,
            jwksUrl: config.jwtJwksUrl,
            issuer: config.jwtIssuer,
            audience: config.jwtAudience,
            tenantClaim: config.jwtTenantClaim,
            tenantPrefix: config.jwtTenantPrefix,
            requiredScope: config.jwtRequiredScope,
          })
        : undefined;
    const metrics = config.metricsToken ? crypto.createHash('sha256').update(config.metricsToken).digest() : undefined;
    return new Authenticator(config.auth === 'on', keys, jwt, metrics, { tenants: new Set(config.adminTenants), scope: config.adminScope });
  }

  /** ANONYMOUS when AUTH=off; otherwise the caller's tenant, or a 401/403 PixveilError. */
  async authenticate(creds: Credentials): Promise<Principal> {
    if (!this.required) return ANONYMOUS;
    const token = presentedToken(creds);
    if (!token) throw errors.unauthenticated('Authentication required: send "Authorization: Bearer <token or API key>" or "X-API-Key: <key>"');
    if (this.jwt && JWT_SHAPE.test(token)) {
      const { scopes, ...claims } = await this.jwt.verify(token);
      const admin = this.admins.tenants.has(claims.tenant) || (this.admins.scope !== '' && scopes.includes(this.admins.scope));
      return { ...claims, method: 'jwt', admin };
    }
    const match = this.keys.match(token);
    if (!match) throw errors.unauthenticated('The API key is not valid', 'Bearer realm="pixveil", error="invalid_token", error_description="unknown API key"');
    return { ...match, method: 'api_key', admin: this.admins.tenants.has(match.tenant) };
  }

  /** Whether /metrics checks a token (METRICS_TOKEN is set). */
  get protectsMetrics(): boolean {
    return this.metricsToken !== undefined;
  }

  /** With METRICS_TOKEN set, /metrics wants it as a bearer token. */
  checkMetrics(headers: Record<string, string>): void {
    if (!this.metricsToken) return;
    const token = presentedToken({ headers }) ?? '';
    const digest = crypto.createHash('sha256').update(token).digest();
    if (!crypto.timingSafeEqual(digest, this.metricsToken)) throw errors.unauthenticated('/metrics needs "Authorization: Bearer <METRICS_TOKEN>"');
  }
}

function presentedToken(creds: Credentials): string | undefined {
  const auth = creds.headers.authorization;
  if (auth) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!match) throw errors.unauthenticated('The Authorization header must be "Bearer <token or API key>"');
    return match[1];
  }
  return creds.headers['x-api-key']?.trim() || creds.queryToken || undefined;
}
