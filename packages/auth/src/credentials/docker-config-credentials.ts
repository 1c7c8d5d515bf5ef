import { join } from 'node:path';
import type { Clock } from '@ghcr/oci-types';
import { definedProps } from '@ghcr/oci-types';
import { readAuthConfig, resolveFromAuthConfig } from './auth-config-file.js';
import type { CredentialProvider } from './credential.js';
import { homeOf } from './paths.js';

/**
 * Options of {@link dockerConfigCredentials}.
 * @public
 */
export interface DockerConfigCredentialsOptions {
  /** The environment (`DOCKER_CONFIG`, `HOME`, and `PATH` for helpers). If omitted, `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The home directory. If omitted, `$HOME`, else the OS's home directory. */
  readonly home?: string | undefined;
  /** The config file. If omitted, `$DOCKER_CONFIG/config.json`, else `<home>/.docker/config.json`. */
  readonly configPath?: string | undefined;
  /** Milliseconds a credential helper may take. If omitted, 10 000. */
  readonly helperTimeoutMs?: number | undefined;
  /** Time source of the helper timeout. If omitted, the system clock. */
  readonly clock?: Clock | undefined;
}

/**
 * The path of Docker's config.json for these options.
 * @internal
 */
export function dockerConfigPath(options: DockerConfigCredentialsOptions = {}): string {
  if (options.configPath !== undefined) return options.configPath;
  const env = options.env ?? process.env;
  const dockerConfig = env.DOCKER_CONFIG;
  if (dockerConfig !== undefined && dockerConfig !== '') return join(dockerConfig, 'config.json');
  return join(homeOf(options.home, env), '.docker', 'config.json');
}

/**
 * Credentials from Docker's config.json, the way `docker login` stores them: the registry's
 * `credHelpers` entry, else `credsStore`, each run as `docker-credential-<name> get`; then the
 * inline `auths` entry (`auth` = base64 `user:password`, or `identitytoken`). Keys are matched
 * after normalisation (`https://ghcr.io`, `ghcr.io/v2/`, Docker Hub's aliases). A missing file
 * answers nothing; a missing or failing helper throws (see {@link runCredentialHelper}).
 * The source reads like `docker config /root/.docker/config.json (credHelpers: desktop)`.
 * @public
 */
export function dockerConfigCredentials(options: DockerConfigCredentialsOptions = {}): CredentialProvider {
  const label = 'docker config';
  return {
    name: 'docker-config',
    async resolve(registry, resolveOptions = {}) {
      const path = dockerConfigPath(options);
      const config = await readAuthConfig(path, label);
      if (config === undefined) return undefined;
      return resolveFromAuthConfig(config, path, registry, {
        label,
        helperTimeoutMs: options.helperTimeoutMs ?? 10_000,
        env: options.env ?? process.env,
        ...definedProps({ clock: options.clock, signal: resolveOptions.signal }),
      });
    },
  };
}
