import { type Digest, isDigest } from '@ghcr/oci-types';
import { http, type RequestHandler } from 'msw';
import { streamOf } from './body.js';
import { param, type RegistryEnvironment } from './environment.js';
import { REGISTRY_HEADERS, registryError } from './errors.js';
import { guard } from './guard.js';
import { parseRange } from './range.js';

const UNSUPPORTED_MESSAGE = 'The operation is unsupported.';

/**
 * Serves a stored blob: 200, or 206 for a satisfiable `Range`, 416 otherwise; HEAD carries the
 * same headers (with the size as Content-Length) and no body.
 * @internal
 */
export function serveBlobBytes(
  env: RegistryEnvironment,
  request: Request,
  digest: Digest,
  size: number,
  extraHeaders: Record<string, string> = {},
): Response {
  const headers: Record<string, string> = {
    ...extraHeaders,
    'content-type': 'application/octet-stream',
    'docker-content-digest': digest,
    etag: `"${digest}"`,
    'accept-ranges': 'bytes',
  };
  const head = request.method === 'HEAD';
  const range = parseRange(request.headers.get('range'), size);
  if (range.kind === 'unsatisfiable') {
    return new Response(null, {
      status: 416,
      headers: { ...headers, 'content-range': `bytes */${size}`, 'content-length': '0' },
    });
  }
  const store = env.context.state.store;
  if (range.kind === 'range') {
    const length = range.end - range.start + 1;
    return new Response(head ? null : streamOf(store.read(digest, { start: range.start, end: range.end })), {
      status: 206,
      headers: {
        ...headers,
        'content-range': `bytes ${range.start}-${range.end}/${size}`,
        'content-length': String(length),
      },
    });
  }
  return new Response(head || size === 0 ? null : streamOf(store.read(digest)), {
    status: 200,
    headers: { ...headers, 'content-length': String(size) },
  });
}

/**
 * Blob GET/HEAD/DELETE on the registry, the ghcr profile's blob host and the dockerhub profile's CDN.
 * @internal
 */
export function createBlobHandlers(env: RegistryEnvironment): RequestHandler[] {
  const { context, routes } = env;
  const { state } = context;

  const getOrHead = async ({
    request,
    params,
  }: {
    request: Request;
    params: Record<string, string | readonly string[] | undefined>;
  }): Promise<Response> => {
    const name = param(params, 'name');
    const digest = param(params, 'digest');
    const principal = guard(env, request, name, ['pull']);
    if (principal instanceof Response) return principal;
    if (!isDigest(digest)) return registryError(400, 'DIGEST_INVALID', { detail: { digest } });
    const repository = state.getRepository(name);
    if (repository === undefined) return registryError(404, 'NAME_UNKNOWN', { detail: { name } });
    const size = state.store.sizeOf(digest);
    if (!repository.blobs.has(digest) || size === undefined) {
      return registryError(404, 'BLOB_UNKNOWN', { detail: { digest } });
    }
    // Blob GETs redirect to a blob host with a signed, expiring URL: Hub's CDN, GHCR's blob host.
    const redirect =
      request.method !== 'GET'
        ? undefined
        : env.dockerhub
          ? { path: env.cdn.pathOf(digest), signer: env.cdn }
          : env.ghcr
            ? { path: `/ghcr1/blobs/${digest}`, signer: env.signer }
            : undefined;
    if (redirect !== undefined) {
      const query = redirect.signer.sign(
        redirect.path,
        context.now() + context.options.signedUrlTtlSeconds * 1000,
      );
      return new Response(null, {
        status: 307,
        headers: {
          ...REGISTRY_HEADERS,
          location: `${context.options.blobUrl}${redirect.path}?${query}`,
          'docker-content-digest': digest,
          'content-length': '0',
        },
      });
    }
    return serveBlobBytes(env, request, digest, size, { ...REGISTRY_HEADERS });
  };

  const blobHost = async ({
    request,
    params,
  }: {
    request: Request;
    params: Record<string, string | readonly string[] | undefined>;
  }): Promise<Response> => {
    const xml = (status: number, code: string, message: string): Response => {
      const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
      return new Response(body, {
        status,
        headers: { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)) },
      });
    };
    if (request.headers.has('authorization')) {
      return xml(
        403,
        'AuthenticationFailed',
        'Server failed to authenticate the request. An Authorization header must not be sent with a signed URL: drop it when following a redirect to another origin.',
      );
    }
    const verdict = env.signer.verify(new URL(request.url), context.now());
    if (verdict === 'expired') {
      return xml(
        403,
        'AuthenticationFailed',
        'Signed expiry time has passed; request the blob from the registry again for a fresh URL.',
      );
    }
    if (verdict === 'invalid') {
      return xml(
        403,
        'AuthenticationFailed',
        'Signature did not match; use the URL exactly as the registry redirected to it.',
      );
    }
    const digest = param(params, 'digest');
    const size = isDigest(digest) ? state.store.sizeOf(digest) : undefined;
    if (!isDigest(digest) || size === undefined)
      return xml(404, 'BlobNotFound', 'The specified blob does not exist.');
    return serveBlobBytes(env, request, digest, size, { 'x-ms-blob-type': 'BlockBlob' });
  };

  const cdn = async ({
    request,
    params,
  }: {
    request: Request;
    params: Record<string, string | readonly string[] | undefined>;
  }): Promise<Response> => {
    const text = (status: number, message: string): Response =>
      new Response(`${message}\n`, {
        status,
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          'content-length': String(Buffer.byteLength(`${message}\n`)),
        },
      });
    if (request.headers.has('authorization')) {
      return text(
        403,
        'Forbidden: an Authorization header must not be sent to the CDN with a signed URL; drop it when following a redirect to another origin.',
      );
    }
    const verdict = env.cdn.verify(new URL(request.url), context.now());
    if (verdict === 'expired') {
      return text(403, 'Forbidden: the signed URL has expired; request the blob from the registry again.');
    }
    if (verdict === 'invalid') return text(403, 'Forbidden: the URL signature does not match.');
    const digest = `${param(params, 'algorithm')}:${param(params, 'hex')}`;
    const size = isDigest(digest) ? state.store.sizeOf(digest) : undefined;
    if (!isDigest(digest) || size === undefined) return text(404, 'Not Found');
    return serveBlobBytes(env, request, digest, size, { 'cf-cache-status': 'HIT' });
  };

  return [
    ...(env.dockerhub ? [http.get(routes.cdn, cdn), http.head(routes.cdn, cdn)] : []),
    http.get(routes.blob, getOrHead),
    http.head(routes.blob, getOrHead),
    http.delete(routes.blob, async ({ request, params }) => {
      const name = param(params, 'name');
      const digest = param(params, 'digest');
      if (env.ghcr) {
        const principal = guard(env, request, name, ['pull']);
        if (principal instanceof Response) return principal;
        return registryError(405, 'UNSUPPORTED', { message: UNSUPPORTED_MESSAGE });
      }
      const principal = guard(env, request, name, ['delete']);
      if (principal instanceof Response) return principal;
      if (!isDigest(digest)) return registryError(400, 'DIGEST_INVALID', { detail: { digest } });
      const repository = state.getRepository(name);
      if (repository === undefined) return registryError(404, 'NAME_UNKNOWN', { detail: { name } });
      if (!state.unlinkBlob(repository, digest))
        return registryError(404, 'BLOB_UNKNOWN', { detail: { digest } });
      return new Response(null, {
        status: 202,
        headers: { ...REGISTRY_HEADERS, 'docker-content-digest': digest, 'content-length': '0' },
      });
    }),
    http.get(routes.blobHost, blobHost),
    http.head(routes.blobHost, blobHost),
  ];
}
