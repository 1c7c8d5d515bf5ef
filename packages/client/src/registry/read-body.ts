import {
  DigestMismatchError,
  definedProps,
  GhcrError,
  GhcrErrorCode,
  InvalidManifestError,
  ProtocolError,
  TransportError,
} from '@ghcr/oci-types';
import type { TransportRequest, TransportResponse } from '@ghcr/transport';
import type { BackoffLimits, RegistryDependencies } from './dependencies.js';
import { header, release } from './responses.js';
import { isResumable, messageOf, waitBeforeResume } from './resume.js';

/**
 * Reads a response body of at most `maxBytes`: a larger `Content-Length` is refused before
 * reading, and reading stops (the connection is dropped) as soon as the body goes past the cap.
 * A body that breaks off (the connection drops mid-body, or fewer bytes arrive than
 * `Content-Length` announced) is a retryable {@link TransportError} saying the registry was
 * reached, not a raw socket error.
 * @throws ProtocolError `GHCR_MANIFEST_TOO_LARGE`; TransportError `GHCR_CONNECTION_FAILED`.
 * @internal
 */
export async function readCapped(
  response: TransportResponse,
  maxBytes: number,
  what: string,
  advice = 'registries refuse manifests this large (GHCR and distribution cap them at 4 MiB). Raise maxManifestBytes only if you trust the source',
): Promise<Uint8Array> {
  const declared = Number(header(response, 'content-length') ?? Number.NaN);
  if (Number.isSafeInteger(declared) && declared > maxBytes) {
    release(response.body);
    throw tooLarge(what, `${declared}`, maxBytes, advice);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of response.body) {
      total += chunk.byteLength;
      if (total > maxBytes) throw tooLarge(what, `more than ${maxBytes}`, maxBytes, advice);
      chunks.push(chunk);
    }
  } catch (error) {
    if (GhcrError.isInstance(error)) throw error;
    throw brokeOff(what, total, Number.isSafeInteger(declared) ? declared : undefined, error);
  } finally {
    release(response.body);
  }
  if (Number.isSafeInteger(declared) && total < declared) throw brokeOff(what, total, declared, undefined);
  return Buffer.concat(chunks);
}

function brokeOff(
  what: string,
  received: number,
  declared: number | undefined,
  cause: unknown,
): TransportError {
  const of = declared === undefined ? '' : ` of ${declared}`;
  const detail = cause === undefined ? '' : ` (${messageOf(cause)})`;
  return new TransportError(
    `${what}: the registry sent ${received}${of} bytes, then the body broke off${detail}; retry, and if it keeps happening, check a proxy in between`,
    { code: GhcrErrorCode.CONNECTION_FAILED, cause, connected: true, isRetryable: true },
  );
}

function tooLarge(what: string, size: string, maxBytes: number, advice: string): ProtocolError {
  return new ProtocolError(`${what} is ${size} bytes, over the ${maxBytes}-byte limit; ${advice}`, {
    code: GhcrErrorCode.MANIFEST_TOO_LARGE,
  });
}

/** Reads of one document (a manifest, a tag page) before giving up: the first and two more. @internal */
export const DOCUMENT_READ_ATTEMPTS = 3;

/**
 * True when reading a document again may give good bytes: its body broke off, it was cut short
 * and did not parse, or it did not hash to its digest (a flipped byte on the way). A document too
 * large, or of a media type we refuse, is what it is: not retried.
 * @internal
 */
export function isRereadable(error: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted === true) return false;
  if (DigestMismatchError.isInstance(error) || InvalidManifestError.isInstance(error)) return true;
  if (GhcrError.isInstance(error) && error.family === 'protocol') {
    return error.code === GhcrErrorCode.UNEXPECTED_RESPONSE || error.code === GhcrErrorCode.SIZE_MISMATCH;
  }
  return isResumable(error, signal);
}

/** What one idempotent document GET is about, for retry events. @internal */
export interface DocumentRead {
  readonly operation: string;
  readonly repository: string;
  readonly digest?: string;
  readonly what: string;
}

/**
 * Sends an idempotent GET and reads its body with `read`, sending the GET again (at most
 * {@link DOCUMENT_READ_ATTEMPTS} in all, backing off on the client's clock) when the body broke
 * off or came out unparseable or not matching its digest. The transport already retries a failed
 * exchange; this covers what goes wrong after the headers arrived. Each bad copy is dropped.
 * @internal
 */
export async function readDocument<T>(
  deps: RegistryDependencies<BackoffLimits>,
  request: TransportRequest & { readonly method: 'GET' },
  about: DocumentRead,
  read: (response: TransportResponse) => Promise<T> | T,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const response = await deps.endpoint.send(request);
    try {
      return await read(response);
    } catch (error) {
      release(response.body);
      if (attempt >= DOCUMENT_READ_ATTEMPTS || !isRereadable(error, request.signal)) throw error;
      deps.events.emit('retry', {
        operation: about.operation,
        registry: deps.endpoint.host,
        repository: about.repository,
        ...definedProps({ digest: about.digest }),
        action: 'refetch',
        offset: 0,
        attempt: attempt + 1,
        message: `${about.what}: ${messageOf(error)}; reading it again (attempt ${attempt + 1} of ${DOCUMENT_READ_ATTEMPTS})`,
      });
      await waitBeforeResume(deps, attempt, error, request.signal);
    }
  }
}
