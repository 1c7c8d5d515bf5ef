import type { RegistryEndpoint } from './dependencies.js';

/** `<base>/v2/<repository>/<rest>`. @internal */
export function registryUrl(
  deps: { readonly endpoint: Pick<RegistryEndpoint, 'baseUrl'> },
  repository: string,
  rest: string,
): string {
  return `${deps.endpoint.baseUrl}/v2/${repository}/${rest}`;
}

/**
 * Resolves an upload `Location` (relative or absolute, RFC 7231 §7.1.2) against the URL that
 * returned it.
 * @internal
 */
export function resolveLocation(location: string, base: string): string {
  return new URL(location, base).href;
}

/**
 * Adds `name=value` to a URL's query, keeping the query it already has byte for byte
 * (docker-registry's `?_state=` is an HMAC-signed blob: re-encoding it is needless risk).
 * @internal
 */
export function appendQuery(url: string, name: string, value: string): string {
  const hash = url.indexOf('#');
  const base = hash >= 0 ? url.slice(0, hash) : url;
  const separator = base.includes('?') ? (base.endsWith('?') || base.endsWith('&') ? '' : '&') : '?';
  return `${base}${separator}${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
}
