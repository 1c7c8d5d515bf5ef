import { Readable } from 'node:stream';
import { GhcrErrorCode, UploadError } from '@ghcr/oci-types';
import type { RequestBody } from './types.js';

/** True when the body can be sent again (a buffer, a string, a factory, or none). @internal */
export function isReplayable(body: RequestBody | undefined): boolean {
  return (
    body === undefined || typeof body === 'string' || body instanceof Uint8Array || typeof body === 'function'
  );
}

/**
 * The body one attempt sends, as given: bytes, or a stream (a factory is called, a one-shot stream
 * passed on the first attempt only). @internal
 */
export function attemptBody(
  body: RequestBody | undefined,
  attempt: number,
  describe: string,
): string | Uint8Array | Readable | AsyncIterable<Uint8Array> | undefined {
  if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) return body;
  if (typeof body === 'function') return body();
  if (attempt > 0) throw notReplayable(describe);
  return body;
}

/** {@link attemptBody} with every stream a `Readable` (what undici takes). @internal */
export function bodyForAttempt(
  body: RequestBody | undefined,
  attempt: number,
  describe: string,
): string | Uint8Array | Readable | undefined {
  const given = attemptBody(body, attempt, describe);
  if (given === undefined || typeof given === 'string' || given instanceof Uint8Array) return given;
  return given instanceof Readable ? given : Readable.from(given, { objectMode: false });
}

/** The error for a retry that would need a stream already consumed. @internal */
export function notReplayable(describe: string): UploadError {
  return new UploadError(
    `${describe}: the request must be re-sent but its body was a one-shot stream; pass a Buffer or a function returning a fresh stream to allow retries`,
    { code: GhcrErrorCode.BODY_NOT_REPLAYABLE, isRetryable: false },
  );
}
