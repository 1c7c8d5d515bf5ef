/**
 * The registry a token manager keys everything by.
 */

/**
 * The host (with port) a request goes to, lower-cased, from a host or a URL.
 * @internal
 */
export function registryHostOf(registry: string): string {
  const trimmed = registry.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    try {
      return new URL(trimmed).host.toLowerCase();
    } catch {
      // Fall through to the plain-host handling.
    }
  }
  const slash = trimmed.indexOf('/');
  return (slash < 0 ? trimmed : trimmed.slice(0, slash)).toLowerCase();
}
