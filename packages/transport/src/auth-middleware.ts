import { definedProps } from '@ghcr/oci-types';
import { isReplayable } from './body.js';
import { headerValue } from './buffered-body.js';
import { createFirstRequestGate, type FirstRequestLead, outcomeOfStatus } from './first-request-gate.js';
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
  readonly signal?: AbortSignal | undefined;
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
    ...definedProps({ repository: auth.repository, extraScopes: auth.extraScopes, signal: request.signal }),
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
 *
 * While a registry's authentication is unknown (the authorizer has nothing to send yet: no
 * remembered challenge, no static or cached authorization) and one request to it is out without
 * credentials, further such requests to the same registry wait for that request's response. When
 * it is a 401 with a challenge, the challenge is handed to the authorizer and the waiting requests
 * ask it again, going out with a token from the learned realm (one 401 for a cold client's first
 * wave, not one per request). Any other ending (another status, a network error, an abort, a
 * timeout) releases them to go out without credentials as before; a waiting request's own signal
 * still aborts it. Registries never wait on each other, and a request the authorizer has a header
 * for up front (a cached token, a registry token, GHCR's `Bearer base64(PAT)`) is never held.
 * @public
 */
export function authMiddleware(authorizer: Authorizer): Middleware {
  const gate = createFirstRequestGate();
  return (next) => async (request, context) => {
    if (request.auth?.kind === 'github-api') {
      const value = await authorizer.authorizeApi(new URL(request.url).host, request.signal);
      return next(withAuthorization(request, value), context);
    }
    const target = targetOf(request);
    if (target === undefined) return next(withAuthorization(request, undefined), context);
    const challengesBefore = gate.challenges(target.registry);
    let first = await authorizer.authorize(target);
    let lead: FirstRequestLead | undefined;
    if (first === undefined) {
      lead = await gate.enter(target.registry, request.signal);
      // Released after the first request's 401 (or a 401 came while authorize was running): the
      // authorizer now knows the realm.
      if (lead === undefined && gate.challenges(target.registry) !== challengesBefore) {
        first = await authorizer.authorize(target);
      }
    }
    try {
      const response = await next(withAuthorization(request, first), context);
      if (response.status !== 401) {
        lead?.settle(outcomeOfStatus(response.status));
        return response;
      }
      const challenge = headerValue(response.headers, 'www-authenticate');
      if (
        request.acceptStatus?.includes(401) === true ||
        challenge === undefined ||
        !isReplayable(request.body)
      ) {
        // Not answered here, but the registry authenticates: the held requests go on as before.
        lead?.settle('challenged');
        return response;
      }
      let answering: Promise<string | undefined>;
      try {
        answering = authorizer.challenge(target, challenge, first);
      } finally {
        // The authorizer has the challenge: the held requests can ask it for a token now (and
        // join the token fetch this one started).
        lead?.settle('challenged');
      }
      const second = await answering;
      if (second === undefined || second === first) return response;
      await response.body.dump();
      context.retries.push({ reason: 'unauthorized', delayMs: 0 });
      context.attempt += 1;
      return next(withAuthorization(request, second), context);
    } finally {
      // Only a throw gets here unsettled (network error, abort, timeout): it teaches nothing.
      lead?.settle('failed');
    }
  };
}
