/**
 * The token manager: turns "a request to registry R needs scopes S" (and, after a 401, the
 * registry's challenge) into an `Authorization` header value, following the Docker token protocol
 * (distribution `docs/spec/auth/token.md`, `oauth.md`) and GHCR's shortcut of accepting
 * `Bearer base64(PAT)` directly (ghcr-facts §1).
 */

import {
  AuthenticationError,
  ConfigError,
  GhcrError,
  GhcrErrorCode,
  parseRetryAfterHeader,
  parseRetryAfterInMessage,
  RateLimitError,
  redactText,
  redactUrl,
  TransportError,
} from '@ghcr/oci-types';
import { type Dispatcher, request } from 'undici';
import * as z from 'zod';
import { type Credential, type ResolvedCredential, secretsOf } from './credentials/credential.js';
import { jwtExpiresAt } from './jwt.js';
import { type Challenge, toBearerChallenge } from './parse-www-authenticate.js';
import { validateRealm } from './realm.js';
import {
  formatScope,
  mergeScopes,
  parseScope,
  type Scope,
  type ScopeInput,
  scopesCover,
  scopesKey,
} from './scope.js';
import type { TokenManagerEvent } from './token-manager-events.js';
import {
  type ResolvedTokenManagerOptions,
  type TokenManagerOptions,
  tokenManagerOptionsSchema,
} from './token-manager-options.js';

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

interface CacheEntry {
  readonly id: number;
  readonly key: string;
  readonly registry: string;
  readonly scopes: readonly Scope[];
  readonly token: string;
  readonly expiresAt: number;
  readonly anonymous: boolean;
  readonly source: string;
}

interface KnownRealm {
  readonly realm: URL;
  readonly service?: string;
}

const tokenResponseSchema = z
  .object({
    token: z.string().optional(),
    access_token: z.string().optional(),
    expires_in: z.union([z.number(), z.string()]).optional(),
    issued_at: z.string().optional(),
  })
  .loose();

const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 8 * 1024;

/**
 * The scopes a challenge names, skipping any that are not `type:name:actions`: a server's odd
 * scope must not stop the request's own scopes from being asked for.
 */
function challengeScopes(scopes: readonly string[]): Scope[] {
  const parsed: Scope[] = [];
  for (const scope of scopes) {
    try {
      parsed.push(parseScope(scope));
    } catch {
      // Ignored, see above.
    }
  }
  return parsed;
}

/**
 * The host (with port) a request goes to, lower-cased, from a host or a URL.
 * @internal
 */
export function registryHostOf(registry: string): string {
  const trimmed = registry.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    try {
      return new URL(trimmed).host.toLowerCase();
    } catch {
      // Fall through to the plain-host handling.
    }
  }
  const slash = trimmed.indexOf('/');
  return (slash < 0 ? trimmed : trimmed.slice(0, slash)).toLowerCase();
}

function withHeader(authorization: Omit<Authorization, 'header'>, header: string): Authorization {
  const result = { ...authorization } as Authorization;
  Object.defineProperty(result, 'header', { value: header, enumerable: false });
  return Object.freeze(result);
}

function normalizeChallenges(challenge: AuthorizationRequest['challenge']): readonly Challenge[] {
  if (challenge === undefined) return [];
  return Array.isArray(challenge) ? (challenge as readonly Challenge[]) : [challenge as Challenge];
}

async function readBody(
  body: Dispatcher.ResponseData['body'],
  limit: number,
): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    if (size + buffer.length > limit) {
      chunks.push(buffer.subarray(0, limit - size));
      truncated = true;
      break;
    }
    chunks.push(buffer);
    size += buffer.length;
  }
  if (truncated) body.destroy();
  return { text: Buffer.concat(chunks).toString('utf8'), truncated };
}

function waitFor<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The message part of a token endpoint's error body: distribution errors, OAuth errors, GitHub's. */
function errorDetail(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return '';
  try {
    const json: unknown = JSON.parse(trimmed);
    if (typeof json === 'object' && json !== null) {
      const record = json as Record<string, unknown>;
      const errors = record.errors;
      if (Array.isArray(errors)) {
        const parts = errors
          .map((entry: unknown) => {
            if (typeof entry !== 'object' || entry === null) return '';
            const { code, message } = entry as { code?: unknown; message?: unknown };
            return [code, message].filter((part) => typeof part === 'string' && part !== '').join(': ');
          })
          .filter((part) => part !== '');
        if (parts.length > 0) return parts.join('; ');
      }
      for (const field of ['error_description', 'message', 'details', 'error']) {
        const value = record[field];
        if (typeof value === 'string' && value !== '') return value;
      }
    }
  } catch {
    // Not JSON: use the text itself.
  }
  const line = trimmed.split(/\r?\n/, 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function headerValue(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) return value[0];
  return value;
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
  const parsed = tokenManagerOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue === undefined ? '' : issue.path.map(String).join('.');
    throw new ConfigError(
      `invalid token manager option "${field}": ${issue?.message ?? 'invalid value'}; see the TokenManagerOptions documentation`,
      { field, cause: parsed.error },
    );
  }
  const resolved = parsed.data;
  const { clock, dispatcher } = resolved;
  const directRegistries = new Set(resolved.directBearerRegistries.map(registryHostOf));

  const cache = new Map<string, CacheEntry>();
  const inFlight = new Map<string, Promise<CacheEntry>>();
  const knownRealms = new Map<string, KnownRealm>();
  const directRejected = new Set<string>();
  const credentialLookups = new Map<string, Promise<ResolvedCredential | undefined>>();
  const entryOf = new WeakMap<Authorization, number>();
  let nextEntryId = 1;

  const emit = (event: TokenManagerEvent): void => {
    if (resolved.onEvent === undefined) return;
    try {
      resolved.onEvent(event);
    } catch {
      // Metrics hooks must not break authentication.
    }
  };

  /** One credential lookup per registry, shared and kept; a failed lookup is not kept. */
  const credentialFor = (
    registry: string,
    signal: AbortSignal | undefined,
  ): Promise<ResolvedCredential | undefined> => {
    const provider = resolved.credentials;
    if (provider === undefined) return Promise.resolve(undefined);
    let lookup = credentialLookups.get(registry);
    if (lookup === undefined) {
      lookup = provider.resolve(registry);
      credentialLookups.set(registry, lookup);
      lookup.catch(() => {
        if (credentialLookups.get(registry) === lookup) credentialLookups.delete(registry);
      });
    }
    return waitFor(lookup, signal);
  };

  const toAuthorization = (entry: CacheEntry): Authorization => {
    const authorization = withHeader(
      {
        kind: 'token',
        registry: entry.registry,
        scopes: entry.scopes.map(formatScope),
        anonymous: entry.anonymous,
        source: entry.source,
        expiresAt: entry.expiresAt,
        key: entry.key,
      },
      `Bearer ${entry.token}`,
    );
    entryOf.set(authorization, entry.id);
    return authorization;
  };

  const cachedCovering = (registry: string, scopes: readonly Scope[]): CacheEntry | undefined => {
    const now = clock.now();
    let best: CacheEntry | undefined;
    for (const [key, entry] of cache) {
      if (entry.expiresAt <= now) {
        cache.delete(key);
        continue;
      }
      if (entry.registry !== registry || !scopesCover(entry.scopes, scopes)) continue;
      // Prefer the token with the fewest extra rights, then the one that lives longest.
      if (
        best === undefined ||
        entry.scopes.length < best.scopes.length ||
        (entry.scopes.length === best.scopes.length && entry.expiresAt > best.expiresAt)
      ) {
        best = entry;
      }
    }
    return best;
  };

  const computeExpiry = (
    token: string,
    expiresIn: number | undefined,
    issuedAt: string | undefined,
  ): number => {
    const now = clock.now();
    let end: number;
    if (expiresIn !== undefined && Number.isFinite(expiresIn) && expiresIn > 0) {
      const issued = issuedAt === undefined ? Number.NaN : Date.parse(issuedAt);
      // A server clock ahead of ours must not stretch the lifetime: never start after now.
      const start = Number.isFinite(issued) ? Math.min(issued, now) : now;
      end = start + expiresIn * 1000;
    } else {
      end = jwtExpiresAt(token) ?? now + resolved.defaultTokenTtlSeconds * 1000;
    }
    const lifetime = end - now;
    if (lifetime <= 0) return now;
    return end - Math.min(resolved.expirySkewSeconds * 1000, lifetime / 2);
  };

  const fetchFailed = (
    message: string,
    status: number,
    url: URL,
    method: string,
    retryable: boolean,
  ): AuthenticationError =>
    new AuthenticationError(message, {
      code: GhcrErrorCode.AUTH_FAILED,
      isRetryable: retryable,
      http: { method, url: url.toString(), status },
    });

  const fetchToken = async (
    key: string,
    registry: string,
    known: KnownRealm,
    scopes: readonly Scope[],
    resolvedCredential: ResolvedCredential | undefined,
  ): Promise<CacheEntry> => {
    const credential: Credential = resolvedCredential?.credential ?? {};
    const secrets = secretsOf(credential);
    const url = new URL(known.realm.toString());
    const headers: Record<string, string> = {
      'user-agent': resolved.userAgent,
      accept: 'application/json',
    };
    let method: 'GET' | 'POST' = 'GET';
    let body: string | undefined;
    let anonymous = false;
    if (credential.identityToken !== undefined && credential.identityToken !== '') {
      // OAuth2 refresh-token grant (distribution docs/spec/auth/oauth.md).
      method = 'POST';
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: credential.identityToken,
        client_id: resolved.userAgent,
      });
      if (known.service !== undefined) form.set('service', known.service);
      if (scopes.length > 0) form.set('scope', scopes.map(formatScope).join(' '));
      body = form.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      if (known.service !== undefined) url.searchParams.set('service', known.service);
      for (const scope of scopes) url.searchParams.append('scope', formatScope(scope));
      if (credential.password !== undefined && credential.password !== '') {
        const username = credential.username ?? 'token';
        headers.authorization = `Basic ${Buffer.from(`${username}:${credential.password}`).toString('base64')}`;
      } else {
        anonymous = true;
      }
    }
    // The request URL (realm + service + scopes), with any credential-like query value redacted.
    const redactedRealm = redactUrl(url.toString());
    const who = anonymous
      ? 'an anonymous token request'
      : `the credentials from ${resolvedCredential?.source ?? 'unknown'}`;
    const started = clock.now();
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        dispatcher,
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        headersTimeout: resolved.tokenRequestTimeoutMs,
        bodyTimeout: resolved.tokenRequestTimeoutMs,
      });
    } catch (error: unknown) {
      const reason = redactText(error instanceof Error ? error.message : String(error), secrets);
      throw new TransportError(`token request to ${redactedRealm} for ${registry} failed: ${reason}`, {
        cause: error,
      });
    }
    const status = response.statusCode;
    if (status < 200 || status >= 300) {
      const { text } = await readBody(response.body, MAX_ERROR_BODY_BYTES).catch(() => ({ text: '' }));
      const detail = redactText(errorDetail(text), secrets);
      const suffix = detail === '' ? '' : `: ${detail}`;
      const http = { method, url: url.toString(), status };
      if (status === 429) {
        const retryAfterMs =
          parseRetryAfterHeader(headerValue(response.headers, 'retry-after'), clock.now()) ??
          parseRetryAfterInMessage(text);
        throw new RateLimitError(
          `${method} "${redactedRealm}": status 429: the token endpoint of ${registry} is rate limiting${suffix}; wait and retry`,
          { http, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
        );
      }
      let hint: string;
      if (status >= 300 && status < 400) {
        hint =
          'the token endpoint redirected; credentials are sent only to the realm the challenge names, so the redirect is not followed';
      } else if (status === 401 || status === 403) {
        hint = anonymous
          ? 'the repository may be private or not exist: provide credentials (e.g. GHCR_TOKEN, or docker login)'
          : 'check that the token is valid and not expired, and that it has the needed scope (read:packages to pull, write:packages to push)';
      } else if (status >= 500) {
        hint = 'the token endpoint failed; retry later';
      } else {
        hint = 'the token endpoint refused the request';
      }
      throw fetchFailed(
        `${method} "${redactedRealm}": status ${status}: the token endpoint of ${registry} refused ${who}${suffix}; ${hint}`,
        status,
        url,
        method,
        status >= 500,
      );
    }
    let text: string;
    let truncated: boolean;
    try {
      ({ text, truncated } = await readBody(response.body, MAX_TOKEN_RESPONSE_BYTES));
    } catch (error: unknown) {
      throw new TransportError(`reading the token response of ${redactedRealm} for ${registry} failed`, {
        cause: error,
      });
    }
    // Neither the JSON nor the zod error is kept as cause: both may quote the token.
    let json: unknown;
    try {
      if (truncated) throw new Error('too large');
      json = JSON.parse(text);
    } catch {
      throw fetchFailed(
        `${method} "${redactedRealm}": status ${status}: the token endpoint of ${registry} answered with a body that is not a JSON token response${truncated ? ' (over 1 MiB)' : ''}`,
        status,
        url,
        method,
        false,
      );
    }
    const tokenResponse = tokenResponseSchema.safeParse(json);
    const token = tokenResponse.success
      ? (tokenResponse.data.token ?? tokenResponse.data.access_token)
      : undefined;
    if (!tokenResponse.success || token === undefined || token === '') {
      throw fetchFailed(
        `${method} "${redactedRealm}": status ${status}: the token endpoint of ${registry} answered without a "token" or "access_token" string`,
        status,
        url,
        method,
        false,
      );
    }
    const rawExpiresIn = tokenResponse.data.expires_in;
    const expiresIn = rawExpiresIn === undefined ? undefined : Number(rawExpiresIn);
    const expiresAt = computeExpiry(token, expiresIn, tokenResponse.data.issued_at);
    const entry: CacheEntry = {
      id: nextEntryId++,
      key,
      registry,
      scopes,
      token,
      expiresAt,
      anonymous,
      source: anonymous ? 'anonymous' : (resolvedCredential?.source ?? 'unknown'),
    };
    emit({
      type: 'fetch',
      registry,
      key,
      realm: redactedRealm,
      anonymous,
      durationMs: clock.now() - started,
      expiresAt,
    });
    return entry;
  };

  /** A token for `scopes` from `known`'s realm: cache, else join or start the one fetch. */
  const tokenFrom = async (
    registry: string,
    known: KnownRealm,
    scopes: readonly Scope[],
    signal: AbortSignal | undefined,
  ): Promise<Authorization> => {
    const scopeStrings = scopes.map(formatScope);
    const key = `${registry}|${known.realm.toString()}|${known.service ?? ''}|${scopesKey(scopes)}`;
    const cached = cachedCovering(registry, scopes);
    if (cached !== undefined) {
      emit({ type: 'cache-hit', registry, key: cached.key, scopes: scopeStrings, inFlight: false });
      return toAuthorization(cached);
    }
    let pending = inFlight.get(key);
    if (pending !== undefined) {
      emit({ type: 'cache-hit', registry, key, scopes: scopeStrings, inFlight: true });
    } else {
      emit({ type: 'cache-miss', registry, key, scopes: scopeStrings });
      // The fetch belongs to no single caller: it gets no caller's signal.
      pending = credentialFor(registry, undefined)
        .then((credential) => fetchToken(key, registry, known, scopes, credential))
        .then(
          (entry) => {
            if (entry.expiresAt > clock.now()) cache.set(key, entry);
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
    return toAuthorization(await waitFor(pending, signal));
  };

  const invalidate = (target: Authorization | string): void => {
    if (typeof target === 'string') {
      const entry = cache.get(target);
      cache.delete(target);
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
      case 'token': {
        const key = target.key ?? '';
        const entry = cache.get(key);
        if (entry !== undefined && entry.id === entryOf.get(target)) {
          cache.delete(key);
          removed = true;
        }
        break;
      }
      case 'direct':
        removed = !directRejected.has(target.registry);
        directRejected.add(target.registry);
        break;
      case 'basic':
      case 'registry-token':
        removed = credentialLookups.delete(target.registry);
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

  const authorizationFor = async (
    authorizationRequest: AuthorizationRequest,
  ): Promise<Authorization | undefined> => {
    const registry = registryHostOf(authorizationRequest.registry);
    const { signal } = authorizationRequest;
    if (signal?.aborted) throw signal.reason;
    const requested = mergeScopes(authorizationRequest.scopes ?? []);
    if (authorizationRequest.rejected !== undefined) invalidate(authorizationRequest.rejected);
    const challenges = normalizeChallenges(authorizationRequest.challenge);

    if (challenges.length > 0) {
      const bearer = challenges.find((challenge) => challenge.scheme === 'bearer');
      if (bearer !== undefined) {
        const parsedChallenge = toBearerChallenge(bearer);
        // Only the registry's own challenge may name a realm, and a realm is used only for the
        // registry that named it: credentials never go to a host no challenge named.
        const realm = validateRealm(parsedChallenge.realm, registry, resolved.allowInsecureRealm);
        const known: KnownRealm = {
          realm,
          ...(parsedChallenge.service === undefined ? {} : { service: parsedChallenge.service }),
        };
        knownRealms.set(registry, known);
        if (directRegistries.has(registry)) directRejected.add(registry);
        const scopes = mergeScopes([...requested, ...challengeScopes(parsedChallenge.scopes)]);
        return tokenFrom(registry, known, scopes, signal);
      }
      if (challenges.some((challenge) => challenge.scheme === 'basic')) {
        const resolvedCredential = await credentialFor(registry, signal);
        const credential = resolvedCredential?.credential;
        if (
          resolvedCredential === undefined ||
          credential?.password === undefined ||
          credential.password === ''
        ) {
          return undefined;
        }
        return withHeader(
          {
            kind: 'basic',
            registry,
            scopes: requested.map(formatScope),
            anonymous: false,
            source: resolvedCredential.source,
          },
          `Basic ${Buffer.from(`${credential.username ?? 'token'}:${credential.password}`).toString('base64')}`,
        );
      }
      return undefined;
    }

    const cached = cachedCovering(registry, requested);
    if (cached !== undefined) {
      emit({
        type: 'cache-hit',
        registry,
        key: cached.key,
        scopes: requested.map(formatScope),
        inFlight: false,
      });
      return toAuthorization(cached);
    }
    const resolvedCredential = await credentialFor(registry, signal);
    const credential = resolvedCredential?.credential;
    if (
      resolvedCredential !== undefined &&
      credential?.registryToken !== undefined &&
      credential.registryToken !== ''
    ) {
      return withHeader(
        {
          kind: 'registry-token',
          registry,
          scopes: requested.map(formatScope),
          anonymous: false,
          source: resolvedCredential.source,
        },
        `Bearer ${credential.registryToken}`,
      );
    }
    if (
      resolvedCredential !== undefined &&
      credential?.password !== undefined &&
      credential.password !== '' &&
      directRegistries.has(registry) &&
      !directRejected.has(registry)
    ) {
      return withHeader(
        {
          kind: 'direct',
          registry,
          scopes: requested.map(formatScope),
          anonymous: false,
          source: resolvedCredential.source,
        },
        `Bearer ${Buffer.from(credential.password).toString('base64')}`,
      );
    }
    const known = knownRealms.get(registry);
    if (known !== undefined) return tokenFrom(registry, known, requested, signal);
    return undefined;
  };

  const clear = (registry?: string): void => {
    if (registry === undefined) {
      cache.clear();
      knownRealms.clear();
      directRejected.clear();
      credentialLookups.clear();
      return;
    }
    const host = registryHostOf(registry);
    for (const [key, entry] of cache) if (entry.registry === host) cache.delete(key);
    knownRealms.delete(host);
    directRejected.delete(host);
    credentialLookups.delete(host);
  };

  return { options: resolved, authorizationFor, invalidate, clear };
}
