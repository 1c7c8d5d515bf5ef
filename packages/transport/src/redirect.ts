import { GhcrErrorCode, ProtocolError, redactUrl } from '@ghcr/oci-types';
import type { Middleware, TransportRequest } from './types.js';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** How a blob host answers a signed URL that expired (S3 and GHCR: 403; some CDNs: 401 or 410). */
const EXPIRED_URL_STATUSES = new Set([401, 403, 410]);
/** Headers that carry credentials; dropped when a redirect leaves the origin. */
const CREDENTIAL_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-registry-auth',
  'x-github-token',
];

/**
 * Follows 301/302/303/307/308 for GET and HEAD, at most `maxRedirects` times. When a redirect
 * changes origin (GHCR sends blob GETs to a signed URL on another host), every credential header
 * is dropped and the request's auth becomes `none`, so no token leaves for the other host.
 *
 * A signed URL expires (minutes, on GHCR's blob host and S3/Azure-backed registries). When the
 * host a redirect led to refuses it (401, 403, 410), the registry is asked again, once, for a
 * fresh URL: a retry of the signed URL itself could never succeed.
 * @public
 */
export function redirectMiddleware(options: { readonly maxRedirects: number }): Middleware {
  return (next) => async (request, context) => {
    let current: TransportRequest = request;
    let askedAgain = false;
    for (let hops = 0; ; hops++) {
      const response = await next(current, context);
      if (
        current !== request &&
        EXPIRED_URL_STATUSES.has(response.status) &&
        new URL(current.url).origin !== new URL(request.url).origin &&
        request.acceptStatus?.includes(response.status) !== true
      ) {
        await response.body.dump();
        if (askedAgain) {
          // Not a credential of ours (none went to that host): "log in" would be the wrong advice.
          throw new ProtocolError(
            `${request.method} "${redactUrl(request.url)}": the blob host ${new URL(current.url).host} refused the signed URL the registry redirected to (status ${response.status}), also when asked again; the URL expires before it is used: retry, and check this machine's clock`,
            { code: GhcrErrorCode.UNEXPECTED_RESPONSE },
          );
        }
        askedAgain = true;
        current = request;
        hops = -1;
        continue;
      }
      const location = response.headers.location;
      const follow =
        current.followRedirects !== false &&
        REDIRECT_STATUSES.has(response.status) &&
        (current.method === 'GET' || current.method === 'HEAD') &&
        typeof location === 'string';
      if (!follow || current.acceptStatus?.includes(response.status) === true) return response;
      await response.body.dump();
      if (hops >= options.maxRedirects) {
        throw new ProtocolError(
          `${current.method} "${response.url}": more than ${options.maxRedirects} redirects; the server is redirecting in a loop`,
        );
      }
      const target = new URL(location, current.url);
      const sameOrigin = target.origin === new URL(current.url).origin;
      const headers: Record<string, string> = { ...current.headers };
      if (!sameOrigin) for (const name of CREDENTIAL_HEADERS) delete headers[name];
      current = {
        ...current,
        url: target.toString(),
        headers,
        ...(sameOrigin ? {} : { auth: { kind: 'none' } as const }),
      };
    }
  };
}
