/**
 * The token manager: turns "a request to registry R needs scopes S" (and, after a 401, the
 * registry's challenge) into an `Authorization` header value, following the Docker token protocol
 * (distribution `docs/spec/auth/token.md`, `oauth.md`) and GHCR's shortcut of accepting
 * `Bearer base64(PAT)` directly (ghcr-facts §1).
 *
 * This file is the flow; each step is a piece of `token-manager/`:
 * - `credential-lookups.ts`: one credential lookup per registry, shared;
 * - `challenges.ts`: which realm and scopes a 401's Bearer challenge asks for;
 * - `token-source.ts`: a token from a realm, from the cache or one shared fetch;
 * - `token-cache.ts`: tokens by registry, realm, service and scopes, until they expire;
 * - `token-fetch.ts` (with `token-request.ts`, `token-endpoint-errors.ts`, `token-lifetime.ts`):
 *   asking a realm for one token;
 * - `authorization.ts`: the header values handed out.
 */

import type { Challenge } from './parse-www-authenticate.js';
import { formatScope, mergeScopes, type Scope, type ScopeInput } from './scope.js';
import { type Authorization, credentialAuthorizations } from './token-manager/authorization.js';
import { type KnownRealm, negotiateBearer, normalizeChallenges } from './token-manager/challenges.js';
import { createCredentialLookups } from './token-manager/credential-lookups.js';
import { registryHostOf } from './token-manager/registry-host-of.js';
import { createTokenCache } from './token-manager/token-cache.js';
import { fetchToken, tokenSend } from './token-manager/token-fetch.js';
import { createTokenSource } from './token-manager/token-source.js';
import type { TokenManagerEvent } from './token-manager-events.js';
import {
  type ResolvedTokenManagerOptions,
  resolveTokenManagerOptions,
  type TokenManagerOptions,
} from './token-manager-options.js';

export type { Authorization, AuthorizationKind } from './token-manager/authorization.js';

/**
 * What {@link TokenManager.authorizationFor} needs to know about a request.
 * @public
 */
export interface AuthorizationRequest {
  /** The registry the request goes to: a host (`ghcr.io`, `127.0.0.1:5000`) or a URL. */
  readonly registry: string;
  /**
   * The scopes the request needs, e.g. `repository:octo-org/app:pull` for a pull, plus `push` for
   * an upload, plus `repository:<source>:pull` for a cross-repository mount. If omitted, none
   * (`/v2/` ping, `_catalog`): the challenge's own scope is then used.
   */
  readonly scopes?: readonly ScopeInput[] | undefined;
  /**
   * The challenge(s) of the 401 response this call answers (see `challengesOf`). If omitted, the
   * call is proactive: a cached token, a direct or registry token, or a token from a realm this
   * registry named before; `undefined` when none applies yet (send the request without
   * `Authorization` and call again with the 401's challenge).
   */
  readonly challenge?: Challenge | readonly Challenge[] | undefined;
  /**
   * The authorization the 401 answered. It is invalidated first (see
   * {@link TokenManager.invalidate}), so the call returns a fresh one rather than the same.
   */
  readonly rejected?: Authorization | undefined;
  /** Aborts this caller's wait. A fetch shared with other callers goes on for them. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * A scoped, single-flight token cache for one client. See {@link createTokenManager}.
 * @public
 */
export interface TokenManager {
  /** The options after defaults. */
  readonly options: ResolvedTokenManagerOptions;
  /**
   * The `Authorization` to send for a request, or `undefined` when there is nothing to send (yet).
   *
   * Without `challenge` (before sending): a cached token covering `scopes` (a `pull,push` token
   * serves a `pull` request); else the credential's `registryToken`; else, on ghcr.io with a
   * password/PAT, `Bearer base64(PAT)` with no exchange; else, when this registry has challenged
   * before, a token fetched from that realm; else `undefined`.
   *
   * With the 401's `challenge`: for Bearer, the requested scopes merged with the challenge's are
   * looked up in the cache or fetched from the realm (one fetch per key however many callers ask
   * at once), with `Basic` credentials or anonymously; for Basic, `Basic base64(user:password)`;
   * `undefined` when no challenge is one this manager can answer (or a Basic one and no password).
   * A Bearer challenge's realm is remembered for the registry as soon as the call is made, before
   * its token arrives: proactive calls made meanwhile get a token from that realm (joining the
   * same fetch when their scopes match). The transport relies on this to release the requests it
   * held behind a cold registry's first 401.
   *
   * @throws AuthenticationError `GHCR_AUTH_FAILED` (token endpoint refused, realm refused),
   * `GHCR_CREDENTIALS_UNAVAILABLE` (a credential source failed); RateLimitError (token endpoint
   * 429); TransportError (token endpoint unreachable); ProtocolError (malformed challenge).
   */
  authorizationFor(request: AuthorizationRequest): Promise<Authorization | undefined>;
  /**
   * Forgets an authorization after the registry answered 401 to it, so the caller's one retry
   * gets a fresh one. For a token, the cache entry is dropped only if it still holds that very
   * token (100 concurrent 401s on one expired token cause one refetch, not 100); for a direct
   * `Bearer base64(PAT)`, the registry is switched to the token exchange; for Basic and registry
   * tokens, the credential is looked up again next time. A string drops the cache entry of that
   * key, whatever it holds.
   */
  invalidate(target: Authorization | string): void;
  /** Drops every cached token, remembered challenge and resolved credential (of one registry, if given). */
  clear(registry?: string): void;
}

/**
 * Creates a {@link TokenManager}. Options are validated once here; a bad option throws
 * `ConfigError` naming the field. All state (cache, in-flight fetches, remembered realms) belongs
 * to the returned instance.
 *
 * @example
 * ```ts
 * const tokens = createTokenManager({ dispatcher: new Agent(), credentials: defaultCredentialChain() });
 * const auth = await tokens.authorizationFor({ registry: 'ghcr.io', scopes: ['repository:octo-org/app:pull'] });
 * ```
 * @public
 */
export function createTokenManager(options: TokenManagerOptions): TokenManager {
  const resolved = resolveTokenManagerOptions(options);
  const emit = (event: TokenManagerEvent): void => {
    try {
      resolved.onEvent?.(event);
    } catch {
      // Metrics hooks must not break authentication.
    }
  };
  const fetchSettings = { ...resolved, send: tokenSend(resolved) };
  const cache = createTokenCache(resolved.clock);
  const credentials = createCredentialLookups(resolved.credentials);
  const tokenFrom = createTokenSource({
    cache,
    credentials,
    fetchToken: (registry, known, scopes, credential) =>
      fetchToken(fetchSettings, registry, known, scopes, credential),
    emit,
  });
  /** The realm each registry named in its last Bearer challenge. */
  const knownRealms = new Map<string, KnownRealm>();
  /** Registries that accept `Bearer base64(PAT)`, less those that refused it. */
  const directRegistries = new Set(resolved.directBearerRegistries.map(registryHostOf));
  const directRejected = new Set<string>();

  const invalidate = (target: Authorization | string): void => {
    if (typeof target === 'string') {
      const entry = cache.forgetKey(target);
      emit({
        type: 'invalidate',
        registry: entry?.registry ?? target.split('|', 1)[0] ?? '',
        key: target,
        kind: 'token',
        removed: entry !== undefined,
      });
      return;
    }
    let removed = false;
    switch (target.kind) {
      case 'token':
        removed = cache.forget(target);
        break;
      case 'direct':
        removed = !directRejected.has(target.registry);
        directRejected.add(target.registry);
        break;
      case 'basic':
      case 'registry-token':
        removed = credentials.forget(target.registry);
        break;
    }
    emit({
      type: 'invalidate',
      registry: target.registry,
      key: target.key ?? target.registry,
      kind: target.kind,
      removed,
    });
  };

  /** After a 401: a token for the Bearer challenge, else Basic credentials for a Basic one. */
  const answerChallenges = async (
    registry: string,
    challenges: readonly Challenge[],
    requested: readonly Scope[],
    signal: AbortSignal | undefined,
  ): Promise<Authorization | undefined> => {
    const bearer = challenges.find((challenge) => challenge.scheme === 'bearer');
    if (bearer !== undefined) {
      const { known, scopes } = negotiateBearer(bearer, registry, requested, resolved.allowInsecureRealm);
      knownRealms.set(registry, known);
      if (directRegistries.has(registry)) directRejected.add(registry);
      return tokenFrom(registry, known, scopes, signal);
    }
    if (challenges.some((challenge) => challenge.scheme === 'basic')) {
      const credential = await credentials.credentialFor(registry, signal);
      return credentialAuthorizations.basic(registry, requested.map(formatScope), credential);
    }
    return undefined;
  };

  /** Before sending: a cached token, the credential's own authorization, or the known realm's token. */
  const authorizeProactively = async (
    registry: string,
    requested: readonly Scope[],
    signal: AbortSignal | undefined,
  ): Promise<Authorization | undefined> => {
    const cached = cache.covering(registry, requested);
    if (cached !== undefined) {
      emit({
        type: 'cache-hit',
        registry,
        key: cached.key,
        scopes: requested.map(formatScope),
        inFlight: false,
      });
      return cache.authorizationOf(cached);
    }
    const credential = await credentials.credentialFor(registry, signal);
    const scopes = requested.map(formatScope);
    const registryToken = credentialAuthorizations.registryToken(registry, scopes, credential);
    if (registryToken !== undefined) return registryToken;
    if (directRegistries.has(registry) && !directRejected.has(registry)) {
      const direct = credentialAuthorizations.direct(registry, scopes, credential);
      if (direct !== undefined) return direct;
    }
    const known = knownRealms.get(registry);
    return known === undefined ? undefined : tokenFrom(registry, known, requested, signal);
  };

  const authorizationFor = async (request: AuthorizationRequest): Promise<Authorization | undefined> => {
    const registry = registryHostOf(request.registry);
    const { signal } = request;
    if (signal?.aborted) throw signal.reason;
    const requested = mergeScopes(request.scopes ?? []);
    if (request.rejected !== undefined) invalidate(request.rejected);
    const challenges = normalizeChallenges(request.challenge);
    return challenges.length > 0
      ? answerChallenges(registry, challenges, requested, signal)
      : authorizeProactively(registry, requested, signal);
  };

  const clear = (registry?: string): void => {
    const host = registry === undefined ? undefined : registryHostOf(registry);
    cache.clear(host);
    credentials.forget(host);
    if (host === undefined) {
      knownRealms.clear();
      directRejected.clear();
    } else {
      knownRealms.delete(host);
      directRejected.delete(host);
    }
  };

  return { options: resolved, authorizationFor, invalidate, clear };
}
