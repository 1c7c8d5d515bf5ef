import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
  randomUUID,
  sign as signWithKey,
  timingSafeEqual,
  verify as verifyWithKey,
} from 'node:crypto';
import { definedProps } from '@ghcr/oci-types';
import type { PackageScope } from '../state/records.js';
import type { SimulationState } from '../state/simulation-state.js';

/**
 * A registry action in a token scope (`repository:<name>:<actions>`).
 * @public
 */
export type RegistryAction = 'pull' | 'push' | 'delete';

/**
 * Access to one repository that a registry token grants.
 * @public
 */
export interface RegistryAccess {
  readonly type: 'repository';
  readonly name: string;
  readonly actions: readonly RegistryAction[];
}

/**
 * What a registry token (from `/token`) says.
 * @public
 */
export interface RegistryTokenClaims {
  /** The user the token was issued to; absent for anonymous tokens. */
  readonly user?: string;
  /** What it grants. */
  readonly access: readonly RegistryAccess[];
  /** Epoch milliseconds (simulation clock). */
  readonly issuedAt: number;
  /** Epoch milliseconds after which the token is refused. */
  readonly expiresAt: number;
}

/**
 * What an `Authorization` header on a registry request amounts to.
 * @public
 */
export type RegistryCredential =
  | { readonly kind: 'anonymous' }
  /** `Bearer base64(PAT)` (or `base64(user:PAT)`), accepted by ghcr without a token exchange. */
  | { readonly kind: 'pat'; readonly user: string; readonly scopes: readonly PackageScope[] }
  /** A token issued by the token endpoint, still valid. */
  | { readonly kind: 'token'; readonly claims: RegistryTokenClaims }
  /** Present but unusable: `expired` token, `invalid` token, or `basic` credentials sent to /v2. */
  | { readonly kind: 'invalid'; readonly reason: 'expired' | 'invalid' | 'basic' };

/**
 * Issues and verifies the simulation's tokens. Registry tokens are self-contained (HMAC-signed
 * claims, secret per simulation), so they stop working at `expiresAt` on the simulation clock and
 * after a restart.
 * @public
 */
export interface TokenService {
  /** The PAT record for a raw token, or undefined when unknown. */
  verifyPat(token: string): { readonly user: string; readonly scopes: readonly PackageScope[] } | undefined;
  /** Issues a registry token valid for `tokenTtlSeconds`; `audience` is the requested service (JWT `aud`). */
  issueRegistryToken(claims: {
    readonly user?: string;
    readonly access: readonly RegistryAccess[];
    readonly audience?: string;
  }): string;
  /** Verifies a registry token. */
  verifyRegistryToken(
    token: string,
  ):
    | { readonly ok: true; readonly claims: RegistryTokenClaims }
    | { readonly ok: false; readonly reason: 'expired' | 'invalid' };
  /** Interprets the `Authorization` header of a registry (`/v2/…`) request. */
  registryCredential(authorization: string | null): RegistryCredential;
  /**
   * Decodes `Authorization: Basic base64(user:password)` (any user name), or undefined when the
   * header is not Basic or is malformed.
   */
  parseBasic(
    authorization: string | null,
  ): { readonly username: string; readonly password: string } | undefined;
}

/**
 * Creates the token service over the state's PATs and the simulation clock.
 * @internal
 */
export function createTokenService(options: {
  readonly state: SimulationState;
  readonly now: () => number;
  readonly ttlSeconds: number;
  readonly signing?: { readonly privateKey: string; readonly issuer: string };
}): TokenService {
  const secret = randomBytes(32);
  const jwt = options.signing === undefined ? undefined : createJwtSigner(options.signing);
  const sign = (payload: string): string => createHmac('sha256', secret).update(payload).digest('base64url');
  const verifyPat = (token: string): { user: string; scopes: readonly PackageScope[] } | undefined => {
    const record = options.state.getPat(token);
    return record === undefined ? undefined : { user: record.user, scopes: record.scopes };
  };
  const verifyRegistryToken: TokenService['verifyRegistryToken'] = (token) => {
    if (jwt !== undefined) {
      const claims = jwt.verify(token);
      if (claims === undefined) return { ok: false, reason: 'invalid' };
      if (options.now() >= claims.expiresAt) return { ok: false, reason: 'expired' };
      return { ok: true, claims };
    }
    const dot = token.indexOf('.');
    if (dot <= 0) return { ok: false, reason: 'invalid' };
    const payload = token.slice(0, dot);
    const expected = Buffer.from(sign(payload));
    const given = Buffer.from(token.slice(dot + 1));
    if (expected.length !== given.length || !timingSafeEqual(expected, given))
      return { ok: false, reason: 'invalid' };
    let claims: RegistryTokenClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as RegistryTokenClaims;
    } catch {
      return { ok: false, reason: 'invalid' };
    }
    if (options.now() >= claims.expiresAt) return { ok: false, reason: 'expired' };
    return { ok: true, claims };
  };
  const parseBasic: TokenService['parseBasic'] = (authorization) => {
    const match = authorization === null ? null : /^Basic\s+(\S+)$/i.exec(authorization);
    if (match === null || match[1] === undefined) return undefined;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  };
  return {
    verifyPat,
    issueRegistryToken(claims) {
      const issuedAt = options.now();
      const full: RegistryTokenClaims = {
        ...definedProps({ user: claims.user }),
        access: claims.access,
        issuedAt,
        expiresAt: issuedAt + options.ttlSeconds * 1000,
      };
      if (jwt !== undefined) return jwt.sign(full, claims.audience);
      const payload = Buffer.from(JSON.stringify(full)).toString('base64url');
      return `${payload}.${sign(payload)}`;
    },
    verifyRegistryToken,
    parseBasic,
    registryCredential(authorization) {
      if (authorization === null || authorization.trim() === '') return { kind: 'anonymous' };
      if (/^Basic\s/i.test(authorization)) return { kind: 'invalid', reason: 'basic' };
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      if (match === null || match[1] === undefined) return { kind: 'invalid', reason: 'invalid' };
      const value = match[1];
      const verified = verifyRegistryToken(value);
      if (verified.ok) return { kind: 'token', claims: verified.claims };
      if (verified.reason === 'expired') return { kind: 'invalid', reason: 'expired' };
      // ghcr: Bearer base64(PAT), or base64(user:PAT), works without a token exchange.
      if (/^[A-Za-z0-9+/=_-]+$/.test(value)) {
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        const candidates = [decoded, decoded.slice(decoded.indexOf(':') + 1)];
        for (const candidate of candidates) {
          const pat = verifyPat(candidate);
          if (pat !== undefined) return { kind: 'pat', user: pat.user, scopes: pat.scopes };
        }
      }
      return { kind: 'invalid', reason: 'invalid' };
    },
  };
}

/**
 * The libtrust key id of a public key, as CNCF distribution computes it for a JWT's `kid`: the
 * first 240 bits of sha256 over the SPKI DER, base32 (no padding), in 4-character groups joined by `:`.
 * @internal
 */
export function libtrustKeyId(publicKey: KeyObject): string {
  const digest = createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest()
    .subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let encoded = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      encoded += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return (encoded.match(/.{4}/g) ?? []).join(':');
}

/** RS256 JWTs in the distribution token format, signed and verified with one key pair. */
function createJwtSigner(signing: { readonly privateKey: string; readonly issuer: string }): {
  sign(claims: RegistryTokenClaims, audience: string | undefined): string;
  verify(token: string): RegistryTokenClaims | undefined;
} {
  const privateKey = createPrivateKey(signing.privateKey);
  const publicKey = createPublicKey(privateKey);
  const header = Buffer.from(
    JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: libtrustKeyId(publicKey) }),
  ).toString('base64url');
  return {
    sign(claims, audience) {
      const payload = Buffer.from(
        JSON.stringify({
          iss: signing.issuer,
          sub: claims.user ?? '',
          ...definedProps({ aud: audience }),
          exp: Math.floor(claims.expiresAt / 1000),
          nbf: Math.floor(claims.issuedAt / 1000) - 1,
          iat: Math.floor(claims.issuedAt / 1000),
          jti: randomUUID(),
          access: claims.access,
        }),
      ).toString('base64url');
      const signature = signWithKey('sha256', Buffer.from(`${header}.${payload}`), privateKey).toString(
        'base64url',
      );
      return `${header}.${payload}.${signature}`;
    },
    verify(token) {
      const parts = token.split('.');
      if (parts.length !== 3) return undefined;
      const [head, payload, signature] = parts as [string, string, string];
      if (
        !verifyWithKey(
          'sha256',
          Buffer.from(`${head}.${payload}`),
          publicKey,
          Buffer.from(signature, 'base64url'),
        )
      ) {
        return undefined;
      }
      try {
        const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
          sub?: string;
          access?: RegistryAccess[];
          iat?: number;
          exp?: number;
        };
        if (typeof body.exp !== 'number' || typeof body.iat !== 'number' || !Array.isArray(body.access))
          return undefined;
        return {
          ...(body.sub === undefined || body.sub === '' ? {} : { user: body.sub }),
          access: body.access,
          issuedAt: body.iat * 1000,
          expiresAt: body.exp * 1000,
        };
      } catch {
        return undefined;
      }
    },
  };
}
