import { definedProps } from '@ghcr/oci-types';
/**
 * Distribution-spec v1.1 error codes with the spec's own descriptions, used as messages (as
 * distribution does).
 * @internal
 */
export const SPEC_ERROR_MESSAGES = {
  BLOB_UNKNOWN: 'blob unknown to registry',
  BLOB_UPLOAD_INVALID: 'blob upload invalid',
  BLOB_UPLOAD_UNKNOWN: 'blob upload unknown to registry',
  DIGEST_INVALID: 'provided digest did not match uploaded content',
  MANIFEST_BLOB_UNKNOWN: 'manifest references a manifest or blob unknown to registry',
  MANIFEST_INVALID: 'manifest invalid',
  MANIFEST_UNKNOWN: 'manifest unknown to registry',
  NAME_INVALID: 'invalid repository name',
  NAME_UNKNOWN: 'repository name not known to registry',
  SIZE_INVALID: 'provided length did not match content length',
  UNAUTHORIZED: 'authentication required',
  DENIED: 'requested access to the resource is denied',
  UNSUPPORTED: 'the operation is unsupported',
  TOOMANYREQUESTS: 'too many requests',
} as const;

/** @internal */
export type SpecErrorCode = keyof typeof SPEC_ERROR_MESSAGES;

/** One entry of an error body. @internal */
export interface ErrorEntry {
  readonly code: string;
  readonly message?: string;
  readonly detail?: unknown;
}

/** Headers every registry response carries. @internal */
export const REGISTRY_HEADERS: Readonly<Record<string, string>> = {
  'docker-distribution-api-version': 'registry/2.0',
};

/**
 * A distribution-spec error response: `{"errors":[{code,message,detail?}]}` as JSON.
 * @internal
 */
export function registryErrors(
  status: number,
  errors: readonly ErrorEntry[],
  headers: Record<string, string> = {},
): Response {
  const body = JSON.stringify({ errors: errors.map((entry) => ({ ...entry })) });
  return new Response(body, {
    status,
    headers: {
      ...REGISTRY_HEADERS,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    },
  });
}

/**
 * A single-error response with the spec's message for `code` unless another is given.
 * @internal
 */
export function registryError(
  status: number,
  code: SpecErrorCode,
  options: { message?: string; detail?: unknown; headers?: Record<string, string> } = {},
): Response {
  return registryErrors(
    status,
    [
      {
        code,
        message: options.message ?? SPEC_ERROR_MESSAGES[code],
        ...definedProps({ detail: options.detail }),
      },
    ],
    options.headers,
  );
}

/** distribution's router answer for a path it does not serve: plain text. @internal */
export function plainNotFound(): Response {
  return new Response('404 page not found\n', {
    status: 404,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
  });
}

/** An empty-bodied response with explicit headers (and `Content-Length: 0` unless set). @internal */
export function emptyResponse(status: number, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers: { ...REGISTRY_HEADERS, 'content-length': '0', ...headers } });
}
