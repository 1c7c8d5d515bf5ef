import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signs and verifies the ghcr profile's blob URLs, shaped like the Azure SAS URLs GHCR redirects
 * to (`?se=<expiry>&sig=<signature>&sp=r&sr=b&sv=…`). The signature is an HMAC over the path and
 * the expiry, with a secret per simulation.
 * @internal
 */
export interface BlobUrlSigner {
  /** The signed query string (no `?`) for `path`, valid until `expiresAt` (epoch ms). */
  sign(path: string, expiresAt: number): string;
  /** Checks a request URL: `ok`, or why not. */
  verify(url: URL, now: number): 'ok' | 'expired' | 'invalid';
}

/** @internal */
export function createBlobUrlSigner(): BlobUrlSigner {
  const secret = randomBytes(32);
  const mac = (path: string, se: string): string =>
    createHmac('sha256', secret).update(`${path}\n${se}`).digest('base64url');
  return {
    sign(path, expiresAt) {
      const se = new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const query = new URLSearchParams({
        se,
        sig: mac(path, se),
        sp: 'r',
        spr: 'https',
        sr: 'b',
        sv: '2019-12-12',
      });
      return query.toString();
    },
    verify(url, now) {
      const se = url.searchParams.get('se');
      const sig = url.searchParams.get('sig');
      if (se === null || sig === null) return 'invalid';
      const expected = Buffer.from(mac(url.pathname, se));
      const given = Buffer.from(sig);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
      const expiresAt = Date.parse(se);
      if (Number.isNaN(expiresAt) || now >= expiresAt) return 'expired';
      return 'ok';
    },
  };
}
