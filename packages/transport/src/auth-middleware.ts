import { isReplayable } from './body.js';
import { headerValue } from './buffered-body.js';
import type { Middleware, TransportRequest } from './types.js';

/**
 * What the auth layer needs to know about a registry request.
 * @public
 */
export interface RegistryAuthTarget {
  /** Registry host[:port]. */
  readonly registry: string;
  /** Repository the request is about, when it is about one. */
  readonly repository?: string;
  /** Actions needed: `pull`, `push`, `delete`. */
  readonly actions: readonly string[];
  /** Other repositories the token must cover (a mount's source). */
  readonly extraScopes?: readonly { readonly repository: string; readonly actions: readonly string[] }[];
  readonly signal?: AbortSignal;
}

/**
 * Supplies `Authorization` header values. `@ghcr/auth`'s token manager implements it
 * (see `createRegistryAuthorizer` in this package); tests may pass their own.
 * @public
 */
export interface Authorizer {
  /**
   * The header to send before any challenge: a cached scoped token, or GHCR's `Bearer base64(PAT)`.
   * Undefined sends the request without credentials (the registry will challenge if it needs them).
   */
  authorize(target: RegistryAuthTarget): Promise<string | undefined>;
  /**
   * Answers a 401's `WWW-Authenticate` challenge; `rejected` is the header that was refused (its
   * cached token is invalidated). Undefined when there is nothing better to send.
   */
  challenge(
    target: RegistryAuthTarget,
    wwwAuthenticate: string,
    rejected: string | undefined,
  ): Promise<string | undefined>;
  /** The header for a GitHub REST API request to `host`. */
  authorizeApi(host: string, signal?: AbortSignal): Promise<string | undefined>;
}

function targetOf(request: TransportRequest): RegistryAuthTarget | undefined {
  const auth = request.auth;
  if (auth?.kind !== 'registry') return undefined;
  return {
    registry: new URL(request.url).host,
    actions: auth.actions,
    ...(auth.repository === undefined ? {} : { repository: auth.repository }),
    ...(auth.extraScopes === undefined ? {} : { extraScopes: auth.extraScopes }),
    ...(request.signal === undefined ? {} : { signal: request.signal }),
  };
}

function withAuthorization(request: TransportRequest, value: string | undefined): TransportRequest {
  const headers = { ...request.headers };
  if (value === undefined) delete headers.authorization;
  else headers.authorization = value;
  return { ...request, headers };
}

/**
 * Adds credentials inside the retry loop (so each attempt gets a fresh token), and answers one 401
 * challenge per request: the seed's "401: once, immediate refresh". A body that cannot be replayed
 * is not re-sent; the 401 is handed on.
 * @public
 */
export function authMiddleware(authorizer: Authorizer): Middleware {
  return (next) => async (request, context) => {
    if (request.auth?.kind === 'github-api') {
      const value = await authorizer.authorizeApi(new URL(request.url).host, request.signal);
      return next(withAuthorization(request, value), context);
    }
    const target = targetOf(request);
    if (target === undefined) return next(withAuthorization(request, undefined), context);
    const first = await authorizer.authorize(target);
    const response = await next(withAuthorization(request, first), context);
    if (response.status !== 401 || request.acceptStatus?.includes(401) === true) return response;
    const challenge = headerValue(response.headers, 'www-authenticate');
    if (challenge === undefined || !isReplayable(request.body)) return response;
    const second = await authorizer.challenge(target, challenge, first);
    if (second === undefined || second === first) return response;
    await response.body.dump();
    context.retries.push({ reason: 'unauthorized', delayMs: 0 });
    context.attempt += 1;
    return next(withAuthorization(request, second), context);
  };
}
