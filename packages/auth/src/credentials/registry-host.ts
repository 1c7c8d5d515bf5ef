/**
 * Registry name normalisation for credential lookups.
 */
import { canonicalRegistry, DOCKER_HUB_REGISTRY } from '@ghcr/oci-types';

/**
 * The canonical name used for Docker Hub.
 * @public
 */
export const DOCKER_HUB = DOCKER_HUB_REGISTRY;

/**
 * The key Docker itself uses for Docker Hub in config.json and credential helpers.
 * @internal
 */
export const DOCKER_HUB_LEGACY_KEY = 'https://index.docker.io/v1/';

/**
 * Normalises a registry name or a config.json key to `host[:port]`, lower-cased: drops a
 * `http://`/`https://` scheme, user info and any path (`/v1/`, `/v2/`), and maps Docker Hub's
 * aliases (`index.docker.io`, `registry-1.docker.io`, `registry.hub.docker.com`) to `docker.io`.
 * `https://ghcr.io/v2/`, `ghcr.io` and `GHCR.IO` all give `ghcr.io`.
 * @public
 */
export function normalizeRegistryHost(registry: string): string {
  let host = registry.trim();
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = host.indexOf('/');
  if (slash >= 0) host = host.slice(0, slash);
  const at = host.lastIndexOf('@');
  if (at >= 0) host = host.slice(at + 1);
  return canonicalRegistry(host);
}

/**
 * Finds the entry of `map` whose key names `registry`: an exact key first, then a key that
 * normalises to the same host. Keys with a repository path (podman's `ghcr.io/octo-org`) are
 * not matched: a lookup is per registry.
 * @internal
 */
export function lookupRegistryKey<T>(
  map: Readonly<Record<string, T>> | undefined,
  registry: string,
): { key: string; value: T } | undefined {
  if (map === undefined) return undefined;
  const exact = Object.hasOwn(map, registry) ? map[registry] : undefined;
  if (exact !== undefined) return { key: registry, value: exact };
  const wanted = normalizeRegistryHost(registry);
  for (const [key, value] of Object.entries(map)) {
    if (hasRepositoryPath(key)) continue;
    if (normalizeRegistryHost(key) === wanted) return { key, value };
  }
  return undefined;
}

/** True for keys like `ghcr.io/octo-org` (a namespace), false for `https://ghcr.io/v2/`. */
function hasRepositoryPath(key: string): boolean {
  const withoutScheme = key.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = withoutScheme.indexOf('/');
  if (slash < 0) return false;
  const path = withoutScheme.slice(slash).replace(/\/+$/, '');
  return path !== '' && !/^\/v[12]$/i.test(path);
}

/**
 * The server URL to hand a Docker credential helper for `registry`: Docker stores Docker Hub
 * under its legacy key, and everything else under the bare host.
 * @internal
 */
export function helperServerUrl(registry: string): string {
  const host = normalizeRegistryHost(registry);
  return host === DOCKER_HUB ? DOCKER_HUB_LEGACY_KEY : host;
}
