import * as jose from 'jose';
import { errors, PixveilError } from '../errors.js';

export interface JwtSettings {
  secret: string;
  jwksUrl: string;
  issuer: string;
  audience: string;
  tenantClaim: string;
  /** Namespace of JWT tenants apart from API-key tenants (JWT_TENANT_PREFIX). */
  tenantPrefix: string;
  requiredScope: string;
}

export interface JwtPrincipal {
  tenant: string;
  /** `jwt:<sub>`; the token itself is never kept. */
  keyId: string;
  scopes: string[];
}

// Asymmetric only for JWKS: accepting HS* there would let a public key be used as an HMAC secret.
const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

function invalidToken(description: string): PixveilError {
  return errors.unauthenticated(`The bearer token was refused: ${description}`, `Bearer realm="pixveil", error="invalid_token", error_description="${description.replace(/"/g, "'")}"`);
}

function scopes(payload: jose.JWTPayload): string[] {
  const scope = payload.scope ?? payload.scp;
  if (typeof scope === 'string') return scope.split(' ').filter(Boolean);
  return Array.isArray(scope) ? scope.filter((s): s is string => typeof s === 'string') : [];
}

/** Verifies HS256 tokens (JWT_SECRET) or tokens signed by a key from a remote JWKS (JWT_JWKS_URL). */
export class JwtVerifier {
  private readonly key: Uint8Array | ReturnType<typeof jose.createRemoteJWKSet>;
  private readonly algorithms: string[];

  constructor(private readonly settings: JwtSettings) {
    if (settings.secret) {
      this.key = new TextEncoder().encode(settings.secret);
      this.algorithms = ['HS256'];
    } else {
      this.key = jose.createRemoteJWKSet(new URL(settings.jwksUrl), { timeoutDuration: 3000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
      this.algorithms = JWKS_ALGORITHMS;
    }
  }

  async verify(token: string): Promise<JwtPrincipal> {
    let payload: jose.JWTPayload;
    try {
      const options: jose.JWTVerifyOptions = {
        algorithms: this.algorithms,
        issuer: this.settings.issuer || undefined,
        audience: this.settings.audience || undefined,
        clockTolerance: 30,
        // A token without an expiry would be a password that never changes.
        requiredClaims: ['exp'],
      };
      // Two overloads (key vs key function); the union needs picking apart for the compiler.
      payload = (typeof this.key === 'function' ? await jose.jwtVerify(token, this.key, options) : await jose.jwtVerify(token, this.key, options)).payload;
    } catch (err) {
      throw this.describe(err);
    }
    const tenant = payload[this.settings.tenantClaim];
    if (typeof tenant !== 'string' || tenant === '' || tenant.length > 256) {
      throw invalidToken(`the "${this.settings.tenantClaim}" claim (the tenant) is missing or not a string`);
    }
    if (this.settings.requiredScope && !scopes(payload).includes(this.settings.requiredScope)) {
      throw errors.forbidden(`The token lacks the "${this.settings.requiredScope}" scope (JWT_REQUIRED_SCOPE)`);
    }
    return { tenant: this.settings.tenantPrefix + tenant, keyId: `jwt:${typeof payload.sub === 'string' ? payload.sub.slice(0, 64) : tenant}`, scopes: scopes(payload) };
  }

  private describe(err: unknown): PixveilError {
    const code = (err as { code?: string }).code;
    if (err instanceof jose.errors.JWTExpired) return invalidToken('the token has expired');
    if (err instanceof jose.errors.JWTClaimValidationFailed && err.reason === 'missing') return invalidToken(`the "${err.claim}" claim is required`);
    if (err instanceof jose.errors.JWTClaimValidationFailed) return invalidToken(`the "${err.claim}" claim is not accepted (${err.reason})`);
    if (code === 'ERR_JWKS_TIMEOUT' || (err instanceof TypeError && /fetch/i.test(err.message))) {
      return errors.unavailable('The JWKS endpoint (JWT_JWKS_URL)');
    }
    if (code === 'ERR_JWKS_NO_MATCHING_KEY') return invalidToken('no key in the JWKS matches the token');
    if (code === 'ERR_JOSE_ALG_NOT_ALLOWED') return invalidToken('the signing algorithm is not accepted');
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return invalidToken('the signature does not verify');
    return invalidToken('it is not a well-formed, signed JWT');
  }
}
