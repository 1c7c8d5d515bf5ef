import { ConfigError, GhcrErrorCode, parseRateLimitHeaders, RateLimitError } from '@ghcr/oci-types';
import type { Middleware } from '@ghcr/transport';

/**
 * GitHub's hourly REST budget for `GITHUB_TOKEN` in Actions (per repository).
 * @public
 */
export const GITHUB_TOKEN_HOURLY_REQUESTS = 1000;
/**
 * GitHub's hourly REST budget for a personal access token.
 * @public
 */
export const PAT_HOURLY_REQUESTS = 5000;

/**
 * Options of {@link createRequestBudget}.
 * @public
 */
export interface RequestBudgetOptions {
  /** GitHub API requests this run may send (every attempt counts, retries included). */
  readonly limit: number;
}

/**
 * A budget of GitHub REST API requests shared by everything one client does (listing packages,
 * listing versions, deletions): its middleware counts each API request the transport sends
 * (`auth: github-api`, every attempt) and refuses one over the limit with a `RateLimitError`
 * (`GHCR_BUDGET_EXHAUSTED`, not retried). It also reads GitHub's `x-ratelimit-remaining`, so a
 * budget other steps already spent is respected. Registry requests (manifests, tags) are not
 * counted: GitHub's REST limits do not apply to them.
 *
 * `reserve(n)` sets requests aside for work that must not stop half-way (an image and its platform
 * manifests); `spend()` takes one reserved request back out as it is about to be sent.
 * @public
 */
export interface RequestBudget {
  readonly limit: number;
  /** API requests sent so far. */
  readonly used: number;
  /** Requests set aside by `reserve` and not yet spent. */
  readonly reserved: number;
  /** What may still be sent or reserved: the limit (or GitHub's remaining count, if lower) less `used` and `reserved`. */
  readonly remaining: number;
  /** The last `x-ratelimit-*` state GitHub reported, if any. */
  readonly github: { readonly remaining: number; readonly resetAt: number } | undefined;
  /** Sets aside `count` requests if `remaining` allows it; false (and nothing set aside) if not. */
  reserve(count: number): boolean;
  /** Marks one reserved request as about to be sent (no-op when none is reserved). */
  spend(): void;
  /** Returns reserved requests that will not be sent. */
  release(count: number): void;
  /** The transport middleware that counts and refuses: pass it as `transportOptions.middleware`. */
  readonly middleware: { readonly name: string; readonly middleware: Middleware; readonly after: string };
}

/**
 * Creates a {@link RequestBudget}.
 * @throws ConfigError when `limit` is not a positive whole number.
 * @public
 */
export function createRequestBudget(options: RequestBudgetOptions): RequestBudget {
  if (!Number.isSafeInteger(options.limit) || options.limit <= 0) {
    throw new ConfigError(`request budget "limit" must be a whole number above 0, got ${options.limit}`, {
      field: 'limit',
    });
  }
  const limit = options.limit;
  let used = 0;
  let reserved = 0;
  let github: { remaining: number; resetAt: number } | undefined;
  const available = (): number =>
    Math.max(0, Math.min(limit - used, github === undefined ? Number.POSITIVE_INFINITY : github.remaining));

  const middleware: Middleware = (next) => async (request, context) => {
    if (request.auth?.kind !== 'github-api') return next(request, context);
    if (available() <= 0) {
      const why =
        used >= limit
          ? `the budget of ${limit} GitHub API requests for this run is spent`
          : `GitHub reports ${github?.remaining ?? 0} API requests left until ${new Date(github?.resetAt ?? 0).toISOString()}`;
      throw new RateLimitError(
        `${request.operation} was not sent: ${why}; the work left continues in the next run (raise the budget, or wait for the hourly reset)`,
        {
          code: GhcrErrorCode.BUDGET_EXHAUSTED,
          isRetryable: false,
          ...(github === undefined ? {} : { resetAt: github.resetAt }),
        },
      );
    }
    used += 1;
    const response = await next(request, context);
    const info = parseRateLimitHeaders(response.headers);
    if (info !== undefined && info.resource === 'core')
      github = { remaining: info.remaining, resetAt: info.resetAt };
    return response;
  };

  return {
    limit,
    get used() {
      return used;
    },
    get reserved() {
      return reserved;
    },
    get remaining() {
      return Math.max(0, available() - reserved);
    },
    get github() {
      return github;
    },
    reserve(count) {
      if (count <= 0) return true;
      if (available() - reserved < count) return false;
      reserved += count;
      return true;
    },
    spend() {
      if (reserved > 0) reserved -= 1;
    },
    release(count) {
      reserved = Math.max(0, reserved - count);
    },
    // After retry: every attempt (a retried 502, a re-send after a secondary-limit wait) is counted.
    middleware: { name: 'request-budget', middleware, after: 'retry' },
  };
}
