import {
  type Authorization,
  type CredentialProvider,
  parseWwwAuthenticate,
  repositoryScope,
  type TokenManager,
} from '@ghcr/auth';
import type { Authorizer, RegistryAuthTarget } from './auth-middleware.js';

/**
 * Options of {@link createRegistryAuthorizer}.
 * @public
 */
export interface RegistryAuthorizerOptions {
  /** Answers registry requests and 401 challenges (scoped, cached, single-flight tokens). */
  readonly tokenManager: TokenManager;
  /**
   * Credentials for GitHub REST API requests (`Authorization: Bearer <token>`). If omitted, API
   * requests carry no credentials.
   */
  readonly apiCredentials?: CredentialProvider | undefined;
  /** The registry whose credential serves the API (a GHCR PAT is a GitHub token). If omitted, `ghcr.io`. */
  readonly apiCredentialRegistry?: string | undefined;
}

/** How many issued headers are remembered, to tell the token manager which one a 401 rejected. */
const REMEMBERED_HEADERS = 256;

/**
 * Adapts `@ghcr/auth`'s TokenManager to the transport's {@link Authorizer}: proactive
 * authorization from the cache (or GHCR's `Bearer base64(PAT)`), one challenge answer per 401 with
 * the rejected token invalidated, and a bearer token for the GitHub API.
 * @public
 */
export function createRegistryAuthorizer(options: RegistryAuthorizerOptions): Authorizer {
  const { tokenManager } = options;
  // header value → the Authorization it came from (so a 401 can name what it rejected).
  const issued = new Map<string, Authorization>();
  const remember = (authorization: Authorization | undefined): string | undefined => {
    if (authorization === undefined) return undefined;
    issued.delete(authorization.header);
    issued.set(authorization.header, authorization);
    if (issued.size > REMEMBERED_HEADERS) {
      const oldest = issued.keys().next();
      if (oldest.done !== true) issued.delete(oldest.value);
    }
    return authorization.header;
  };
  const scopesOf = (target: RegistryAuthTarget) => [
    ...(target.repository === undefined || target.actions.length === 0
      ? []
      : [repositoryScope(target.repository, target.actions)]),
    ...(target.extraScopes ?? [])
      .filter((extra) => extra.actions.length > 0)
      .map((extra) => repositoryScope(extra.repository, extra.actions)),
  ];

  return {
    async authorize(target) {
      return remember(
        await tokenManager.authorizationFor({
          registry: target.registry,
          scopes: scopesOf(target),
          signal: target.signal,
        }),
      );
    },
    async challenge(target, wwwAuthenticate, rejected) {
      return remember(
        await tokenManager.authorizationFor({
          registry: target.registry,
          scopes: scopesOf(target),
          challenge: parseWwwAuthenticate(wwwAuthenticate),
          rejected: rejected === undefined ? undefined : issued.get(rejected),
          signal: target.signal,
        }),
      );
    },
    async authorizeApi(_host, signal) {
      if (options.apiCredentials === undefined) return undefined;
      const resolved = await options.apiCredentials.resolve(options.apiCredentialRegistry ?? 'ghcr.io', {
        signal,
      });
      const token = resolved?.credential.password ?? resolved?.credential.identityToken;
      return token === undefined || token === '' ? undefined : `Bearer ${token}`;
    },
  };
}
