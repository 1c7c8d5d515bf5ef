import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signs and verifies the dockerhub profile's CDN URLs, shaped like the Cloudflare URLs Docker Hub
 * redirects blob GETs to
 * (`/registry-v2/docker/registry/v2/blobs/sha256/<xx>/<hex>/data?verify=<expiry>-<signature>`):
 * the expiry in epoch seconds and an HMAC over the path and the expiry, with a secret per
 * simulation.
 * @internal
 */
export interface CdnUrlSigner {
  /** The path of a blob on the CDN. */
  pathOf(digest: string): string;
  /** The signed query string (no `?`) for `path`, valid until `expiresAt` (epoch ms). */
  sign(path: string, expiresAt: number): string;
  /** Checks a request URL: `ok`, or why not. */
  verify(url: URL, now: number): 'ok' | 'expired' | 'invalid';
}

/** @internal */
export function createCdnUrlSigner(): CdnUrlSigner {
  const secret = randomBytes(32);
  const mac = (path: string, expiry: string): string =>
    createHmac('sha256', secret).update(`${path}\n${expiry}`).digest('base64url');
  return {
    pathOf(digest) {
      const colon = digest.indexOf(':');
      const algorithm = digest.slice(0, colon);
      const hex = digest.slice(colon + 1);
      return `/registry-v2/docker/registry/v2/blobs/${algorithm}/${hex.slice(0, 2)}/${hex}/data`;
    },
    sign(path, expiresAt) {
      const expiry = String(Math.floor(expiresAt / 1000));
      return new URLSearchParams({ verify: `${expiry}-${mac(path, expiry)}` }).toString();
    },
    verify(url, now) {
      const value = url.searchParams.get('verify');
      const dash = value?.indexOf('-') ?? -1;
      if (value === null || value === undefined || dash <= 0) return 'invalid';
      const expiry = value.slice(0, dash);
      const expected = Buffer.from(mac(url.pathname, expiry));
      const given = Buffer.from(value.slice(dash + 1));
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
      if (!/^\d+$/.test(expiry) || now >= Number(expiry) * 1000) return 'expired';
      return 'ok';
    },
  };
}
