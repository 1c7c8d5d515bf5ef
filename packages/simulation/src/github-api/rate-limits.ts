/**
 * The GitHub REST API's two limits, on the simulation clock:
 *
 * - primary: a budget of requests per token per hour (unauthenticated requests share a budget of
 *   60), reported on every response in `x-ratelimit-limit/remaining/used/reset/resource`; the
 *   window starts at the first request and `reset` is its end in epoch seconds;
 * - secondary: points per token per rolling minute (GET/HEAD/OPTIONS 1, other methods 5), 900 by
 *   default, so about 180 DELETEs a minute; over budget, 403 with `retry-after`.
 *
 * Source: github/docs "Rate limits for the REST API" (ghcr-facts.md §3).
 */

const HOUR_MS = 60 * 60 * 1000;
const MINUTE_MS = 60 * 1000;

/** Requests per hour without a token (GitHub: 60 per IP). @internal */
export const ANONYMOUS_HOURLY_LIMIT = 60;

/**
 * The primary budget of one key after a request was counted.
 * @internal
 */
export interface PrimaryState {
  readonly limit: number;
  readonly used: number;
  readonly remaining: number;
  /** Epoch seconds when the window resets. */
  readonly reset: number;
  /** True when the budget was already spent (the request was refused, not counted). */
  readonly exceeded: boolean;
}

interface Window {
  start: number;
  used: number;
}

/**
 * The per-key budgets of one simulation.
 * @internal
 */
export interface ApiRateLimiter {
  /** Counts one request against `key`'s hourly budget of `limit`, unless it is spent. */
  takePrimary(key: string, limit: number): PrimaryState;
  /** The state of `key`'s hourly budget without counting anything. */
  peekPrimary(key: string, limit: number): PrimaryState;
  /**
   * Takes `points` from `key`'s per-minute budget; returns the seconds to wait when there are not
   * enough (nothing is taken then), else undefined.
   */
  takeSecondary(key: string, points: number, budget: number): number | undefined;
}

/**
 * Creates the limiter (state lives in the instance, one per simulation).
 * @internal
 */
export function createApiRateLimiter(now: () => number): ApiRateLimiter {
  const windows = new Map<string, Window>();
  const spends = new Map<string, { at: number; points: number }[]>();

  const windowOf = (key: string): Window => {
    const at = now();
    let window = windows.get(key);
    if (window === undefined || at >= window.start + HOUR_MS) {
      window = { start: at, used: 0 };
      windows.set(key, window);
    }
    return window;
  };
  const stateOf = (window: Window, limit: number, exceeded: boolean): PrimaryState => ({
    limit,
    used: window.used,
    remaining: Math.max(0, limit - window.used),
    reset: Math.ceil((window.start + HOUR_MS) / 1000),
    exceeded,
  });

  return {
    takePrimary(key, limit) {
      const window = windowOf(key);
      if (window.used >= limit) return stateOf(window, limit, true);
      window.used += 1;
      return stateOf(window, limit, false);
    },
    peekPrimary(key, limit) {
      return stateOf(windowOf(key), limit, false);
    },
    takeSecondary(key, points, budget) {
      const at = now();
      const recent = (spends.get(key) ?? []).filter((spend) => spend.at > at - MINUTE_MS);
      spends.set(key, recent);
      let total = recent.reduce((sum, spend) => sum + spend.points, 0);
      if (total + points <= budget) {
        recent.push({ at, points });
        return undefined;
      }
      // Wait until enough of the oldest spends leave the window.
      for (const spend of recent) {
        total -= spend.points;
        if (total + points <= budget) return Math.max(1, Math.ceil((spend.at + MINUTE_MS - at) / 1000));
      }
      return 60;
    },
  };
}

/**
 * Secondary-limit points of a request (GitHub: GET, HEAD and OPTIONS 1; other methods 5).
 * @internal
 */
export function secondaryPoints(method: string): number {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? 1 : 5;
}
