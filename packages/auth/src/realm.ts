/**
 * Which token endpoints (realms) credentials may be sent to.
 */

import { isIP } from 'node:net';
import { AuthenticationError, GhcrErrorCode, redactUrl } from '@ghcr/oci-types';

/**
 * True for loopback host names: `localhost`, `*.localhost`, `127.0.0.0/8`, `::1` (with or
 * without brackets). Used as the default `allowInsecureRealm`: plain-HTTP token endpoints are
 * accepted only on the local machine.
 * @public
 */
export function isLoopbackHost(host: string): boolean {
  let name = host.toLowerCase();
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  const family = isIP(name);
  if (family === 4) return name.startsWith('127.');
  if (family === 6) {
    // The WHATWG URL parser prints IPv6 in canonical compressed form: [::1], [::ffff:7f00:1].
    const canonical = new URL(`http://[${name}]/`).hostname.slice(1, -1);
    return canonical === '::1' || /^::ffff:7f[0-9a-f]{2}:/.test(canonical);
  }
  return false;
}

/**
 * Checks the realm a registry's Bearer challenge names before any credential goes to it: an
 * absolute `https:` URL without user info, or `http:` only when `allowInsecure(hostname)` says so
 * (by default, loopback hosts). The realm may be on another host than the registry (Docker Hub's
 * is `auth.docker.io`); it is accepted because the registry's own challenge names it, and it is
 * used only for that registry.
 * @throws AuthenticationError (`GHCR_AUTH_FAILED`) naming the refused realm (redacted).
 * @internal
 */
export function validateRealm(
  realm: string,
  registry: string,
  allowInsecure: (host: string) => boolean,
): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw refused(`the token realm "${redactUrl(realm)}" named by ${registry} is not an absolute URL`);
  }
  if (url.username !== '' || url.password !== '') {
    throw refused(
      `the token realm "${redactUrl(realm)}" named by ${registry} carries user info; refusing to use it`,
    );
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:') {
    if (allowInsecure(url.hostname)) return url;
    throw refused(
      `refusing the plain-HTTP token realm "${redactUrl(realm)}" named by ${registry}: credentials and tokens would cross the network unencrypted. Use https, or allow this host with the token manager's allowInsecureRealm option (by default only loopback hosts are allowed)`,
    );
  }
  throw refused(
    `the token realm "${redactUrl(realm)}" named by ${registry} uses ${url.protocol}; only https is supported`,
  );
}

function refused(message: string): AuthenticationError {
  return new AuthenticationError(message, { code: GhcrErrorCode.AUTH_FAILED });
}
