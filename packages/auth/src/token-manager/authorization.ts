/**
 * The value a token manager hands out: an `Authorization` header and what stands behind it.
 */

import type { ResolvedCredential } from '../credentials/credential.js';

/**
 * How an {@link Authorization} authorizes:
 * - `direct`: `Bearer base64(<password>)` sent straight to a registry that accepts it (ghcr.io);
 * - `token`: a bearer token obtained from the challenge's realm (anonymous or with credentials);
 * - `basic`: `Basic base64(user:password)` for a registry that challenged with Basic;
 * - `registry-token`: a credential's `registryToken`, sent as is.
 * @public
 */
export type AuthorizationKind = 'direct' | 'token' | 'basic' | 'registry-token';

/**
 * An `Authorization` header value and what it is. The `header` property is not enumerable, so
 * logging or JSON-serialising the object does not print the secret; read it explicitly.
 * @public
 */
export interface Authorization {
  /** The value of the `Authorization` header. A secret: never log it. */
  readonly header: string;
  readonly kind: AuthorizationKind;
  /** The registry host (`ghcr.io`, `localhost:5000`). */
  readonly registry: string;
  /** The scopes the token was asked for (merged, canonical strings). */
  readonly scopes: readonly string[];
  /** True when no credential stands behind it (an anonymous token). */
  readonly anonymous: boolean;
  /** Where the credential came from (`env GHCR_TOKEN`), or `anonymous`. */
  readonly source: string;
  /** When the manager stops reusing it (epoch ms), for `token` authorizations. */
  readonly expiresAt?: number;
  /** The cache key (`registry|realm|service|scopes`), for `token` authorizations. */
  readonly key?: string;
}

/**
 * Freezes `authorization` with `header` as a non-enumerable property (see {@link Authorization}).
 * @internal
 */
export function withHeader(authorization: Omit<Authorization, 'header'>, header: string): Authorization {
  const result = { ...authorization } as Authorization;
  Object.defineProperty(result, 'header', { value: header, enumerable: false });
  return Object.freeze(result);
}

/**
 * `Basic base64(user:password)`; a credential without a user name is sent as user `token`.
 * @internal
 */
export function basicHeader(username: string | undefined, password: string): string {
  return `Basic ${Buffer.from(`${username ?? 'token'}:${password}`).toString('base64')}`;
}

/**
 * The authorizations a resolved credential gives without any token exchange: `Basic` (answering
 * a Basic challenge), its `registryToken`, or `Bearer base64(PAT)` for a direct-bearer registry.
 * Each is `undefined` when the credential lacks the secret it needs.
 * @internal
 */
export const credentialAuthorizations = {
  basic(registry: string, scopes: readonly string[], resolved: ResolvedCredential | undefined) {
    const password = resolved?.credential.password;
    if (resolved === undefined || password === undefined || password === '') return undefined;
    return withHeader(
      { kind: 'basic', registry, scopes, anonymous: false, source: resolved.source },
      basicHeader(resolved.credential.username, password),
    );
  },
  registryToken(registry: string, scopes: readonly string[], resolved: ResolvedCredential | undefined) {
    const registryToken = resolved?.credential.registryToken;
    if (resolved === undefined || registryToken === undefined || registryToken === '') return undefined;
    return withHeader(
      { kind: 'registry-token', registry, scopes, anonymous: false, source: resolved.source },
      `Bearer ${registryToken}`,
    );
  },
  direct(registry: string, scopes: readonly string[], resolved: ResolvedCredential | undefined) {
    const password = resolved?.credential.password;
    if (resolved === undefined || password === undefined || password === '') return undefined;
    return withHeader(
      { kind: 'direct', registry, scopes, anonymous: false, source: resolved.source },
      `Bearer ${Buffer.from(password).toString('base64')}`,
    );
  },
} satisfies Record<
  string,
  (
    registry: string,
    scopes: readonly string[],
    resolved: ResolvedCredential | undefined,
  ) => Authorization | undefined
>;
