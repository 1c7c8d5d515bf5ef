import type { Clock } from '@ghcr/oci-types';
import { definedProps } from '@ghcr/oci-types';
import { parseAuthConfig, resolveFromAuthConfig } from './auth-config-file.js';
import type { CredentialProvider } from './credential.js';

/**
 * Options of {@link dockerAuthConfigEnvCredentials}.
 * @public
 */
export interface DockerAuthConfigEnvCredentialsOptions {
  /** The environment to read `DOCKER_AUTH_CONFIG` (and `PATH` for helpers) from. If omitted, `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Milliseconds a credential helper may take. If omitted, 10 000. */
  readonly helperTimeoutMs?: number | undefined;
  /** Time source of the helper timeout. If omitted, the system clock. */
  readonly clock?: Clock | undefined;
}

/**
 * Credentials from the `DOCKER_AUTH_CONFIG` environment variable: a whole Docker config.json in
 * one variable, as GitLab CI and regclient take it (`{"auths":{"registry.example.com":{"auth":"…"}}}`).
 * Looked up like config.json (`credHelpers`, `credsStore`, then `auths`; Docker Hub under any of
 * its names, `https://index.docker.io/v1/` included). Unset or blank answers nothing; invalid JSON
 * is an error that names the variable, never its content. The source reads
 * `DOCKER_AUTH_CONFIG (auths: registry.example.com)`.
 * @public
 */
export function dockerAuthConfigEnvCredentials(
  options: DockerAuthConfigEnvCredentialsOptions = {},
): CredentialProvider {
  const label = 'DOCKER_AUTH_CONFIG';
  return {
    name: 'docker-auth-config-env',
    async resolve(registry, resolveOptions = {}) {
      const env = options.env ?? process.env;
      const text = env.DOCKER_AUTH_CONFIG;
      if (text === undefined) return undefined;
      const config = parseAuthConfig(
        text,
        'the environment variable DOCKER_AUTH_CONFIG',
        'set it to a Docker config.json ({"auths":{"host":{"auth":"base64(user:password)"}}}) or unset it',
      );
      if (config === undefined) return undefined;
      return resolveFromAuthConfig(config, '', registry, {
        label,
        helperTimeoutMs: options.helperTimeoutMs ?? 10_000,
        env,
        ...definedProps({ clock: options.clock, signal: resolveOptions.signal }),
      });
    },
  };
}
