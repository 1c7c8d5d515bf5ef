import { registryError } from './errors.js';
import { formatGoDuration } from './go-duration.js';

/**
 * GHCR's registry budget: a token bucket of `perMinute` requests refilled continuously on the
 * simulation clock. Over budget, the answer is 429 `TOOMANYREQUESTS` with the wait inside the
 * message (`toomanyrequests: retry-after: 880.092µs, allowed: 44000/minute`), no header.
 * @internal
 */
export interface RegistryRateLimiter {
  /** Takes one request from the budget; returns the 429 response when there is none. */
  take(): Response | undefined;
  /** Refills the bucket. */
  reset(): void;
}

/** @internal */
export function createRegistryRateLimiter(
  perMinute: number | undefined,
  now: () => number,
  /** How the message starts: GHCR writes `toomanyrequests` on pulls, `TOOMANYREQUESTS` on upload POSTs. */
  prefix = 'toomanyrequests',
): RegistryRateLimiter {
  let tokens = perMinute ?? 0;
  let updatedAt = now();
  const ratePerMs = (perMinute ?? 0) / 60_000;
  return {
    take() {
      if (perMinute === undefined) return undefined;
      const at = now();
      tokens = Math.min(perMinute, tokens + (at - updatedAt) * ratePerMs);
      updatedAt = at;
      if (tokens >= 1) {
        tokens -= 1;
        return undefined;
      }
      const waitNs = ((1 - tokens) / ratePerMs) * 1_000_000;
      return registryError(429, 'TOOMANYREQUESTS', {
        message: `${prefix}: retry-after: ${formatGoDuration(waitNs)}, allowed: ${perMinute}/minute`,
      });
    },
    reset() {
      tokens = perMinute ?? 0;
      updatedAt = now();
    },
  };
}
