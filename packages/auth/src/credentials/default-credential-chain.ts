import type { Clock } from '@ghcr/oci-types';
import { definedProps } from '@ghcr/oci-types';
import { chainCredentials } from './chain-credentials.js';
import type { CredentialProvider } from './credential.js';
import { dockerAuthConfigEnvCredentials } from './docker-auth-config-env-credentials.js';
import { dockerConfigCredentials } from './docker-config-credentials.js';
import { environmentCredentials } from './environment-credentials.js';
import { ghCliCredentials } from './gh-cli-credentials.js';
import { podmanAuthCredentials } from './podman-auth-credentials.js';

/**
 * Options of {@link defaultCredentialChain}.
 * @public
 */
export interface DefaultCredentialChainOptions {
  /** The environment every provider reads. If omitted, `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The home directory. If omitted, `$HOME`, else the OS's home directory. */
  readonly home?: string | undefined;
  /** Milliseconds a credential helper may take. If omitted, 10 000. */
  readonly helperTimeoutMs?: number | undefined;
  /** Time source of helper timeouts. If omitted, the system clock. */
  readonly clock?: Clock | undefined;
  /** Registries the environment token is for. If omitted, `['ghcr.io']`. */
  readonly environmentRegistries?: readonly string[] | undefined;
  /** See {@link ChainCredentialsOptions.onProviderError}. */
  readonly onProviderError?: ((error: unknown, provider: CredentialProvider) => void) | undefined;
}

/**
 * The usual lookup order: environment (`GHCR_TOKEN`, `GITHUB_TOKEN`, `GH_TOKEN`; ghcr.io only),
 * `DOCKER_AUTH_CONFIG` (a config.json in a variable, as GitLab CI sets it), Docker's config.json
 * (with its credential helpers), podman's auth.json, then the GitHub CLI's
 * hosts.yml (ghcr.io only). When nothing answers, access is anonymous.
 * @public
 */
export function defaultCredentialChain(options: DefaultCredentialChainOptions = {}): CredentialProvider {
  const common = {
    ...definedProps({ env: options.env, home: options.home }),
  };
  const helpers = {
    ...common,
    ...definedProps({ helperTimeoutMs: options.helperTimeoutMs, clock: options.clock }),
  };
  return chainCredentials(
    [
      environmentCredentials({
        ...definedProps({ env: options.env, registries: options.environmentRegistries }),
      }),
      dockerAuthConfigEnvCredentials(helpers),
      dockerConfigCredentials(helpers),
      podmanAuthCredentials(helpers),
      ghCliCredentials(common),
    ],
    options.onProviderError === undefined ? {} : { onProviderError: options.onProviderError },
  );
}
