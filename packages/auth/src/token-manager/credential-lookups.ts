/**
 * Credential lookup for the token manager: one lookup per registry, shared by every caller.
 */

import type { CredentialProvider, ResolvedCredential } from '../credentials/credential.js';
import { waitFor } from './wait-for.js';

/**
 * The credentials of each registry, looked up once and kept. See {@link createCredentialLookups}.
 * @internal
 */
export interface CredentialLookups {
  /**
   * The credential for `registry` (`undefined`: none, or no provider). One lookup per registry,
   * shared and kept; a failed lookup is not kept, so the next call tries again.
   */
  credentialFor(registry: string, signal: AbortSignal | undefined): Promise<ResolvedCredential | undefined>;
  /** Forgets `registry`'s credential (all, if omitted); returns whether one was kept. */
  forget(registry?: string): boolean;
}

/**
 * Creates the credential lookups over `provider` (none: every lookup gives `undefined`).
 * @internal
 */
export function createCredentialLookups(provider: CredentialProvider | undefined): CredentialLookups {
  const lookups = new Map<string, Promise<ResolvedCredential | undefined>>();
  return {
    credentialFor(registry, signal) {
      if (provider === undefined) return Promise.resolve(undefined);
      let lookup = lookups.get(registry);
      if (lookup === undefined) {
        lookup = provider.resolve(registry);
        lookups.set(registry, lookup);
        lookup.catch(() => {
          if (lookups.get(registry) === lookup) lookups.delete(registry);
        });
      }
      return waitFor(lookup, signal);
    },
    forget(registry) {
      if (registry !== undefined) return lookups.delete(registry);
      const had = lookups.size > 0;
      lookups.clear();
      return had;
    },
  };
}
