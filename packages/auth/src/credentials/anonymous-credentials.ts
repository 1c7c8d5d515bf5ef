import type { CredentialProvider, ResolvedCredential } from './credential.js';

const ANONYMOUS: ResolvedCredential = Object.freeze({ credential: Object.freeze({}), source: 'anonymous' });

/**
 * A provider that always answers "no credentials": the token manager then asks token endpoints
 * for anonymous tokens (public repositories) and sends no `Authorization` to the realm. Use it
 * alone to force anonymous access (`--anonymous`), or last in a chain to stop the search; note
 * that a chain ending with it never reports the errors of the providers before it (see
 * {@link chainCredentials}).
 * @public
 */
export function anonymousCredentials(): CredentialProvider {
  return {
    name: 'anonymous',
    resolve: () => Promise.resolve(ANONYMOUS),
  };
}
