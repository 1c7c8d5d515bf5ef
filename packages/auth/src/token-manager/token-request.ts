/**
 * The request to a token endpoint: which grant, with which credential
 * (distribution `docs/spec/auth/token.md`, `oauth.md`).
 */

import type { Credential } from '../credentials/credential.js';
import { formatScope, type Scope } from '../scope.js';
import { basicHeader } from './authorization.js';
import type { KnownRealm } from './challenges.js';

/**
 * A token request, ready to send.
 * @internal
 */
export interface TokenRequest {
  readonly url: URL;
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** True when no credential goes with it. */
  readonly anonymous: boolean;
}

/**
 * The request asking `known`'s realm for a token with `scopes`: an OAuth2 refresh-token grant
 * (POST) for a credential with an identity token; else a GET with the scopes in the query, with
 * `Basic` credentials when there is a password, anonymous otherwise.
 * @internal
 */
export function tokenRequestFor(
  known: KnownRealm,
  scopes: readonly Scope[],
  credential: Credential,
  userAgent: string,
): TokenRequest {
  const url = new URL(known.realm.toString());
  const headers: Record<string, string> = { 'user-agent': userAgent, accept: 'application/json' };
  if (credential.identityToken !== undefined && credential.identityToken !== '') {
    // OAuth2 refresh-token grant (distribution docs/spec/auth/oauth.md).
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: credential.identityToken,
      client_id: userAgent,
    });
    if (known.service !== undefined) form.set('service', known.service);
    if (scopes.length > 0) form.set('scope', scopes.map(formatScope).join(' '));
    headers['content-type'] = 'application/x-www-form-urlencoded';
    return { url, method: 'POST', headers, body: form.toString(), anonymous: false };
  }
  if (known.service !== undefined) url.searchParams.set('service', known.service);
  for (const scope of scopes) url.searchParams.append('scope', formatScope(scope));
  if (credential.password !== undefined && credential.password !== '') {
    headers.authorization = basicHeader(credential.username, credential.password);
    return { url, method: 'GET', headers, anonymous: false };
  }
  return { url, method: 'GET', headers, anonymous: true };
}
