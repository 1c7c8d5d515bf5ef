import type { Credential, CredentialProvider, ResolvedCredential } from './credential.js';
import { isEmptyCredential } from './credential.js';
import { normalizeRegistryHost } from './registry-host.js';

/**
 * Options of {@link staticCredentials}.
 * @public
 */
export interface StaticCredentialsOptions {
  /** Registries the credential is for. If omitted, every registry that asks. */
  readonly registries?: readonly string[] | undefined;
  /** What `source` says. If omitted, `static credentials`. */
  readonly source?: string | undefined;
}

/**
 * A provider that always answers with the given credential (for the listed registries only, when
 * `registries` is set). An empty credential answers nothing.
 * @example staticCredentials({ username: 'octocat', password: process.env.PAT }, { registries: ['ghcr.io'] })
 * @public
 */
export function staticCredentials(
  credential: Credential,
  options: StaticCredentialsOptions = {},
): CredentialProvider {
  const registries =
    options.registries === undefined ? undefined : new Set(options.registries.map(normalizeRegistryHost));
  const answer: ResolvedCredential = {
    credential: { ...credential },
    source: options.source ?? 'static credentials',
  };
  return {
    name: 'static',
    resolve(registry) {
      if (isEmptyCredential(credential)) return Promise.resolve(undefined);
      if (registries !== undefined && !registries.has(normalizeRegistryHost(registry))) {
        return Promise.resolve(undefined);
      }
      return Promise.resolve(answer);
    },
  };
}
