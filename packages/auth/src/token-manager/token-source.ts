/**
 * Tokens from a realm, single flight: a cached token covering the scopes, else the fetch already
 * under way for the same key, else one new fetch shared by every caller who asks meanwhile.
 */

import { GhcrError, GhcrErrorCode, redactUrl } from '@ghcr/oci-types';
import type { ResolvedCredential } from '../credentials/credential.js';
import { formatScope, type Scope, scopesKey } from '../scope.js';
import type { TokenManagerEvent } from '../token-manager-events.js';
import type { Authorization } from './authorization.js';
import type { KnownRealm } from './challenges.js';
import type { CredentialLookups } from './credential-lookups.js';
import type { CachedToken, TokenCache } from './token-cache.js';
import type { FetchedToken } from './token-fetch.js';
import { waitFor } from './wait-for.js';

/**
 * What a token source is built from.
 * @internal
 */
export interface TokenSourceParts {
  readonly cache: TokenCache;
  readonly credentials: CredentialLookups;
  readonly fetchToken: (
    registry: string,
    known: KnownRealm,
    scopes: readonly Scope[],
    credential: ResolvedCredential | undefined,
  ) => Promise<FetchedToken>;
  readonly emit: (event: TokenManagerEvent) => void;
}

/**
 * A token for `scopes` from `known`'s realm for `registry`. `signal` aborts this caller's wait
 * only; a fetch shared with other callers goes on for them.
 * @internal
 */
export type TokenSource = (
  registry: string,
  known: KnownRealm,
  scopes: readonly Scope[],
  signal: AbortSignal | undefined,
) => Promise<Authorization>;

/**
 * Creates a {@link TokenSource} over the cache, the credential lookups and the fetch.
 * @internal
 */
export function createTokenSource({ cache, credentials, fetchToken, emit }: TokenSourceParts): TokenSource {
  const inFlight = new Map<string, Promise<CachedToken>>();
  return async (registry, known, scopes, signal) => {
    const scopeStrings = scopes.map(formatScope);
    const key = `${registry}|${known.realm.toString()}|${known.service ?? ''}|${scopesKey(scopes)}`;
    const cached = cache.covering(registry, scopes);
    if (cached !== undefined) {
      emit({ type: 'cache-hit', registry, key: cached.key, scopes: scopeStrings, inFlight: false });
      return cache.authorizationOf(cached);
    }
    let pending = inFlight.get(key);
    if (pending !== undefined) {
      emit({ type: 'cache-hit', registry, key, scopes: scopeStrings, inFlight: true });
    } else {
      emit({ type: 'cache-miss', registry, key, scopes: scopeStrings });
      // The fetch belongs to no single caller: it gets no caller's signal.
      pending = credentials
        .credentialFor(registry, undefined)
        .then((credential) => fetchToken(registry, known, scopes, credential))
        .then(
          (fetched) => {
            const { realm, durationMs, ...token } = fetched;
            const entry = cache.entry({ key, registry, scopes, ...token });
            emit({
              type: 'fetch',
              registry,
              key,
              realm,
              anonymous: entry.anonymous,
              durationMs,
              expiresAt: entry.expiresAt,
            });
            cache.store(entry);
            return entry;
          },
          (error: unknown) => {
            emit({
              type: 'fetch-error',
              registry,
              key,
              realm: redactUrl(known.realm.toString()),
              code: GhcrError.isInstance(error) ? error.code : GhcrErrorCode.INTERNAL,
              ...(GhcrError.isInstance(error) && error.http !== undefined
                ? { status: error.http.status }
                : {}),
            });
            throw error;
          },
        )
        .finally(() => {
          inFlight.delete(key);
        });
      inFlight.set(key, pending);
    }
    return cache.authorizationOf(await waitFor(pending, signal));
  };
}
