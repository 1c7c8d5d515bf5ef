/**
 * Registry names as people write them, and the API endpoints they mean. Docker Hub is one registry
 * under four names, and its API does not live at the name people use: `docker.io/alpine` is
 * `https://registry-1.docker.io/v2/library/alpine` (regclient `types/ref/ref.go`;
 * containers-transports(5)). `https://docker.io/v2/…` answers a redirect to a web page.
 */

/**
 * The name Docker Hub is printed under (`docker.io/library/alpine:3`).
 * @public
 */
export const DOCKER_HUB_REGISTRY = 'docker.io';

/**
 * The host Docker Hub's registry API is served from.
 * @public
 */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

/**
 * Every name of Docker Hub: they all reach the API at {@link DOCKER_HUB_API_HOST}.
 * @public
 */
export const DOCKER_HUB_ALIASES: readonly string[] = Object.freeze([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

const HUB_ALIASES = new Set(DOCKER_HUB_ALIASES);

/**
 * True when `registry` (`host[:port]`, any case, `:443` allowed) names Docker Hub.
 * @public
 */
export function isDockerHub(registry: string): boolean {
  return HUB_ALIASES.has(stripDefaultPort(registry.toLowerCase()));
}

/**
 * The canonical name of a registry: lower-cased, without a default `:443`, and `docker.io` for
 * every name of Docker Hub. `GHCR.io` → `ghcr.io`; `index.docker.io` → `docker.io`;
 * `localhost:5000` unchanged.
 * @public
 */
export function canonicalRegistry(registry: string): string {
  const host = stripDefaultPort(registry.toLowerCase());
  return HUB_ALIASES.has(host) ? DOCKER_HUB_REGISTRY : host;
}

/**
 * The `host[:port]` a registry's API is served from: `registry-1.docker.io` for Docker Hub, the
 * registry itself for everything else.
 * @public
 */
export function registryApiHost(registry: string): string {
  const canonical = canonicalRegistry(registry);
  return canonical === DOCKER_HUB_REGISTRY ? DOCKER_HUB_API_HOST : canonical;
}

/**
 * A repository as the registry names it: on Docker Hub a one-component name is an official image
 * under `library/` (`alpine` → `library/alpine`); elsewhere the name is unchanged.
 * @public
 */
export function canonicalRepository(registry: string, repository: string): string {
  return isDockerHub(registry) && !repository.includes('/') ? `library/${repository}` : repository;
}

function stripDefaultPort(host: string): string {
  return host.endsWith(':443') && !host.startsWith('[') ? host.slice(0, -4) : host;
}
