import * as z from 'zod';

/**
 * Rate-limit state read from `x-ratelimit-*` headers (GitHub REST API) or inferred from a 429.
 * @public
 */
export const rateLimitInfoSchema = z.object({
  /** `x-ratelimit-limit`: requests allowed in the window. */
  limit: z.number().int().nonnegative(),
  /** `x-ratelimit-remaining`. */
  remaining: z.number().int().nonnegative(),
  /** `x-ratelimit-used`. */
  used: z.number().int().nonnegative().optional(),
  /** `x-ratelimit-reset` as epoch milliseconds. */
  resetAt: z.number().int().nonnegative(),
  /** `x-ratelimit-resource` (`core`, `graphql`, …); `registry` for registry budgets. */
  resource: z.string(),
});

/** @public */
export type RateLimitInfo = z.infer<typeof rateLimitInfoSchema>;

/**
 * Reads `x-ratelimit-*` headers. Returns undefined unless limit, remaining and reset are all
 * present and numeric.
 * @public
 */
export function parseRateLimitHeaders(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
): RateLimitInfo | undefined {
  const get = (name: string): string | undefined => {
    const value = headers[name];
    return typeof value === 'string' ? value : value?.[0];
  };
  const limit = get('x-ratelimit-limit');
  const remaining = get('x-ratelimit-remaining');
  const reset = get('x-ratelimit-reset');
  if (limit === undefined || remaining === undefined || reset === undefined) return undefined;
  if (![limit, remaining, reset].every((v) => /^\d+$/.test(v))) return undefined;
  const used = get('x-ratelimit-used');
  return {
    limit: Number(limit),
    remaining: Number(remaining),
    ...(used !== undefined && /^\d+$/.test(used) ? { used: Number(used) } : {}),
    resetAt: Number(reset) * 1000,
    resource: get('x-ratelimit-resource') ?? 'core',
  };
}

/**
 * Parses a `Retry-After` header: delay-seconds or an HTTP date (RFC 9110 §10.2.3). Returns the
 * wait in milliseconds from `now` (never negative), or undefined when absent or unparseable.
 * @public
 */
export function parseRetryAfterHeader(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  // Every HTTP-date form (IMF-fixdate, RFC 850, asctime) names its month in letters; without this
  // check Date.parse would read values such as "-5" or "1" as dates.
  if (!/[A-Za-z]{3}/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

const DURATION_UNITS_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses GHCR's wait hint inside a 429 message, e.g. `retry-after: 880.092µs, allowed: 44000/minute`
 * (a Go duration: `1h2m3.5s`, `10.305464ms`). Returns milliseconds rounded up, or undefined.
 * @public
 */
export function parseRetryAfterInMessage(message: string): number | undefined {
  const match = /retry-after:\s*((?:\d+(?:\.\d+)?(?:ns|us|µs|μs|ms|s|m|h))+)/i.exec(message);
  if (match?.[1] === undefined) return undefined;
  let total = 0;
  for (const part of match[1].matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)/g)) {
    const unit = DURATION_UNITS_MS[part[2] ?? ''];
    if (unit === undefined) return undefined;
    total += Number(part[1]) * unit;
  }
  return Math.ceil(total);
}
