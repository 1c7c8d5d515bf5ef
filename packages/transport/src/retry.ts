import { GhcrError, parseRetryAfterHeader, RETRYABLE_STATUSES } from '@ghcr/oci-types';
import { isReplayable } from './body.js';
import { headerValue } from './buffered-body.js';
import type { Middleware } from './types.js';

/**
 * Retry options (the seed's §6.2 table for 5xx and connection errors).
 * @public
 */
export interface RetryOptions {
  /** Retries after the first attempt. */
  readonly maxRetries: number;
  /** Delay before the first retry, doubled each time (1, 2, 4 s by default). */
  readonly baseDelayMs: number;
  /** Ceiling for one delay. */
  readonly maxDelayMs: number;
  /** Fraction of each delay that is random (0 = none; 0.2 = the delay is 80–100% of nominal). */
  readonly jitter: number;
  /** Random source in [0, 1) for jitter; injected by tests. */
  readonly random: () => number;
  /** Observes each retry (metrics). */
  readonly onRetry?: ((reason: string, delayMs: number) => void) | undefined;
}

/**
 * Retries the statuses `RETRYABLE_STATUSES` names (408, 500, 502, 503, 504: the same set that
 * marks the resulting errors retryable) and retryable connection failures with exponential backoff
 * and jitter, waiting at least as long as a `Retry-After` asks (any method), only when the body can
 * be replayed. 400/401/403/404 are never retried here (401 is the auth layer's, 429 the rate
 * limiter's).
 * @public
 */
export function retryMiddleware(options: RetryOptions): Middleware {
  const delayFor = (retry: number): number => {
    const nominal = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** retry);
    return Math.round(nominal * (1 - options.jitter * options.random()));
  };
  return (next) => async (request, context) => {
    for (let retry = 0; ; retry++) {
      const canRetry = retry < options.maxRetries && isReplayable(request.body);
      let reason: string;
      let delayMs: number;
      try {
        const response = await next(request, context);
        if (
          !RETRYABLE_STATUSES.has(response.status) ||
          !canRetry ||
          request.acceptStatus?.includes(response.status) === true
        ) {
          return response;
        }
        reason = `status ${response.status}`;
        const retryAfter = parseRetryAfterHeader(
          headerValue(response.headers, 'retry-after'),
          context.clock.now(),
        );
        delayMs = Math.max(delayFor(retry), retryAfter ?? 0);
        await response.body.dump();
      } catch (error) {
        if (!canRetry || !GhcrError.isInstance(error) || error.family !== 'transport' || !error.isRetryable)
          throw error;
        reason = error.code;
        delayMs = delayFor(retry);
      }
      context.retries.push({ reason, delayMs });
      options.onRetry?.(reason, delayMs);
      await context.clock.sleep(delayMs, request.signal);
      context.attempt += 1;
    }
  };
}
