import type { CredentialProvider } from './credential.js';
import { normalizeRegistryHost } from './registry-host.js';

/**
 * Options of {@link environmentCredentials}.
 * @public
 */
export interface EnvironmentCredentialsOptions {
  /** The environment to read. If omitted, `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Registries the token is for. If omitted, `['ghcr.io']`: a GitHub token is never offered to
   * another registry unless you list it here.
   */
  readonly registries?: readonly string[] | undefined;
  /** Token variables, first set wins. If omitted, `GHCR_TOKEN`, `GITHUB_TOKEN`, `GH_TOKEN`. */
  readonly tokenVariables?: readonly string[] | undefined;
  /** Username variables, first set wins. If omitted, `GHCR_USERNAME`, `GITHUB_ACTOR`. */
  readonly usernameVariables?: readonly string[] | undefined;
}

/**
 * Credentials from environment variables: the token from `GHCR_TOKEN`, `GITHUB_TOKEN` or
 * `GH_TOKEN` (first non-empty), the username from `GHCR_USERNAME` or `GITHUB_ACTOR` (ghcr.io
 * accepts any username, so it may be absent). Applies to ghcr.io only unless `registries` says
 * otherwise. The source reads like `env GITHUB_TOKEN (username from GITHUB_ACTOR)`.
 * @public
 */
export function environmentCredentials(options: EnvironmentCredentialsOptions = {}): CredentialProvider {
  const registries = new Set((options.registries ?? ['ghcr.io']).map(normalizeRegistryHost));
  const tokenVariables = options.tokenVariables ?? ['GHCR_TOKEN', 'GITHUB_TOKEN', 'GH_TOKEN'];
  const usernameVariables = options.usernameVariables ?? ['GHCR_USERNAME', 'GITHUB_ACTOR'];
  return {
    name: 'env',
    resolve(registry) {
      if (!registries.has(normalizeRegistryHost(registry))) return Promise.resolve(undefined);
      const env = options.env ?? process.env;
      const tokenVariable = tokenVariables.find((name) => (env[name] ?? '').trim() !== '');
      if (tokenVariable === undefined) return Promise.resolve(undefined);
      const password = (env[tokenVariable] ?? '').trim();
      const usernameVariable = usernameVariables.find((name) => (env[name] ?? '').trim() !== '');
      const username = usernameVariable === undefined ? undefined : (env[usernameVariable] ?? '').trim();
      return Promise.resolve({
        credential: username === undefined ? { password } : { username, password },
        source: `env ${tokenVariable}${usernameVariable === undefined ? '' : ` (username from ${usernameVariable})`}`,
      });
    },
  };
}
