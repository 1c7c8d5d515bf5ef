import { GhcrError, GhcrErrorCode, RateLimitError, ServerError } from '@ghcr/oci-types';
import type { BackoffLimits } from './dependencies.js';

/**
 * True when a failed blob transfer may continue from where it got to: a dropped or timed-out
 * connection, a retryable 5xx, a rate limit, or a body the transport could not re-send. A 401 is
 * resumable only for a request that carried a one-shot body (`bodySent`): the transport could not
 * answer that challenge itself, and the status request that follows gets a fresh token; anywhere
 * else the transport already tried and the credentials are simply refused. An upload request
 * answered `BLOB_UPLOAD_UNKNOWN`/`BLOB_UPLOAD_INVALID` (a session the registry lost, e.g. across a
 * restart) is resumable too: the status request finds the session gone and a new one starts.
 * Never after an abort.
 * @internal
 */
export function isResumable(error: unknown, signal: AbortSignal | undefined, bodySent = false): boolean {
  if (signal?.aborted === true) return false;
  if (!GhcrError.isInstance(error)) {
    // A raw error here comes from a response body stream (undici's socket errors): resumable,
    // unless it is the source's own failure (fs errors carry an errno code such as ENOENT).
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
    return !/^E[A-Z]+$/.test(code) || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT';
  }
  if (error.code === GhcrErrorCode.ABORTED) return false;
  // The registry no longer knows the upload session (restarted, or it expired the session): the
  // spec says the client MUST start the upload again. Only for a request of an upload (`bodySent`).
  if (bodySent && (error.code === 'BLOB_UPLOAD_UNKNOWN' || error.code === 'BLOB_UPLOAD_INVALID')) return true;
  switch (error.family) {
    case 'transport':
    case 'server':
      return error.isRetryable;
    case 'rate-limit':
      return true;
    case 'authentication':
      return bodySent;
    case 'upload':
      return error.code === GhcrErrorCode.BODY_NOT_REPLAYABLE;
    default:
      return false;
  }
}

/**
 * Waits before the `failures`-th consecutive resume: the first is immediate (a dropped connection
 * is best retried at once), later ones back off exponentially from `resumeDelayMs`; a rate limit
 * or a 5xx with `Retry-After` waits at least as long as the registry asked (uploads included: a
 * registry that says "come back in a second" is not helped by a re-upload 5 ms later).
 * @internal
 */
export async function waitBeforeResume(
  deps: { readonly limits: BackoffLimits },
  failures: number,
  error: unknown,
  signal: AbortSignal | undefined,
): Promise<void> {
  const base = deps.limits.resumeDelayMs;
  let delay = failures <= 1 ? 0 : Math.min(60_000, base * 2 ** (failures - 2));
  const asked =
    RateLimitError.isInstance(error) || ServerError.isInstance(error) ? error.retryAfterMs : undefined;
  if (asked !== undefined) delay = Math.max(delay, asked);
  if (delay > 0) await deps.limits.clock.sleep(delay, signal);
}

/** The message of an unknown error, for wrapping. @internal */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
