import { Readable } from 'node:stream';
import { GhcrErrorCode, UploadError } from '@ghcr/oci-types';
import type { RequestBody } from './types.js';

/** True when the body can be sent again (a buffer, a string, a factory, or none). @internal */
export function isReplayable(body: RequestBody | undefined): boolean {
  return (
    body === undefined || typeof body === 'string' || body instanceof Uint8Array || typeof body === 'function'
  );
}

/** The body for one attempt: factories are called, streams passed once. @internal */
export function bodyForAttempt(
  body: RequestBody | undefined,
  attempt: number,
  describe: string,
): string | Uint8Array | Readable | undefined {
  if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) return body;
  if (typeof body === 'function') {
    const produced = body();
    return produced instanceof Readable ? produced : Readable.from(produced, { objectMode: false });
  }
  if (attempt > 0) throw notReplayable(describe);
  return body instanceof Readable ? body : Readable.from(body, { objectMode: false });
}

/** The error for a retry that would need a stream already consumed. @internal */
export function notReplayable(describe: string): UploadError {
  return new UploadError(
    `${describe}: the request must be re-sent but its body was a one-shot stream; pass a Buffer or a function returning a fresh stream to allow retries`,
    { code: GhcrErrorCode.BODY_NOT_REPLAYABLE, isRetryable: false },
  );
}
