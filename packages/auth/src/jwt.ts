/**
 * Reading a JWT's `exp` claim, without verifying the token (only its issuer can, and the registry
 * does). Used only to know when to stop reusing a token.
 */

/**
 * The expiry of `token` in epoch milliseconds when it is a JWT with a numeric `exp` claim, else
 * `undefined`.
 * @internal
 */
export function jwtExpiresAt(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const payload = parts[1];
  if (payload === undefined || payload === '' || !/^[A-Za-z0-9_-]+={0,2}$/.test(payload)) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof claims !== 'object' || claims === null) return undefined;
  const exp = (claims as { exp?: unknown }).exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= 0) return undefined;
  return exp * 1000;
}
