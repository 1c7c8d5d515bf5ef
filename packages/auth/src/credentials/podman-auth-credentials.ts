import { join } from 'node:path';
import type { Clock } from '@ghcr/oci-types';
import { definedProps } from '@ghcr/oci-types';
import { readAuthConfig, resolveFromAuthConfig } from './auth-config-file.js';
import type { CredentialProvider } from './credential.js';
import { configHomeOf } from './paths.js';

/**
 * Options of {@link podmanAuthCredentials}.
 * @public
 */
export interface PodmanAuthCredentialsOptions {
  /** The environment (`REGISTRY_AUTH_FILE`, `XDG_RUNTIME_DIR`, `XDG_CONFIG_HOME`, `HOME`, `PATH`). If omitted, `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The home directory. If omitted, `$HOME`, else the OS's home directory. */
  readonly home?: string | undefined;
  /** Milliseconds a credential helper may take. If omitted, 10 000. */
  readonly helperTimeoutMs?: number | undefined;
  /** Time source of the helper timeout. If omitted, the system clock. */
  readonly clock?: Clock | undefined;
}

/**
 * The auth files podman/skopeo/buildah read, in order (containers-auth.json(5)).
 * @internal
 */
export function podmanAuthPaths(options: PodmanAuthCredentialsOptions = {}): string[] {
  const env = options.env ?? process.env;
  const explicit = env.REGISTRY_AUTH_FILE;
  if (explicit !== undefined && explicit !== '') return [explicit];
  const paths: string[] = [];
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime !== undefined && runtime !== '') paths.push(join(runtime, 'containers', 'auth.json'));
  paths.push(join(configHomeOf(options.home, env), 'containers', 'auth.json'));
  return paths;
}

/**
 * Credentials from podman's auth.json (the format of Docker's config.json, `auths`,
 * `credHelpers`, `credsStore`): `$REGISTRY_AUTH_FILE` if set, else
 * `$XDG_RUNTIME_DIR/containers/auth.json`, then `$XDG_CONFIG_HOME/containers/auth.json`
 * (`~/.config/containers/auth.json`). Entries keyed by a namespace (`ghcr.io/octo-org`) are not
 * used: lookups are per registry. The source reads like
 * `podman auth file /run/user/1000/containers/auth.json (auths: ghcr.io)`.
 * @public
 */
export function podmanAuthCredentials(options: PodmanAuthCredentialsOptions = {}): CredentialProvider {
  const label = 'podman auth file';
  return {
    name: 'podman-auth',
    async resolve(registry, resolveOptions = {}) {
      for (const path of podmanAuthPaths(options)) {
        const config = await readAuthConfig(path, label);
        if (config === undefined) continue;
        const answer = await resolveFromAuthConfig(config, path, registry, {
          label,
          helperTimeoutMs: options.helperTimeoutMs ?? 10_000,
          env: options.env ?? process.env,
          ...definedProps({ clock: options.clock, signal: resolveOptions.signal }),
        });
        if (answer !== undefined) return answer;
      }
      return undefined;
    },
  };
}
