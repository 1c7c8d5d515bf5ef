/**
 * How long a fetched token is reused.
 */

import { jwtExpiresAt } from '../jwt.js';

/**
 * What decides a token's lifetime besides the response.
 * @internal
 */
export interface TokenLifetimeSettings {
  /** Lifetime of a token with no `expires_in` that is not a JWT with `exp`. */
  readonly defaultTokenTtlSeconds: number;
  /** Taken off the end, capped at half the lifetime. */
  readonly expirySkewSeconds: number;
}

/**
 * When to stop reusing `token` (epoch ms): from `expires_in` (counted from `issued_at` unless
 * that is later than `now`), else the JWT's `exp`, else the default lifetime, less the skew.
 * @internal
 */
export function tokenExpiresAt(
  token: string,
  expiresIn: number | undefined,
  issuedAt: string | undefined,
  now: number,
  settings: TokenLifetimeSettings,
): number {
  let end: number;
  if (expiresIn !== undefined && Number.isFinite(expiresIn) && expiresIn > 0) {
    const issued = issuedAt === undefined ? Number.NaN : Date.parse(issuedAt);
    // A server clock ahead of ours must not stretch the lifetime: never start after now.
    const start = Number.isFinite(issued) ? Math.min(issued, now) : now;
    end = start + expiresIn * 1000;
  } else {
    end = jwtExpiresAt(token) ?? now + settings.defaultTokenTtlSeconds * 1000;
  }
  const lifetime = end - now;
  if (lifetime <= 0) return now;
  return end - Math.min(settings.expirySkewSeconds * 1000, lifetime / 2);
}
