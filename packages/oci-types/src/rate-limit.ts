import * as z from 'zod';
import { lazySchema } from './lazy-schema.js';
import { DOCKER_HUB_REGISTRY, isDockerHub } from './registry-names.js';

/**
 * Rate-limit state read from `x-ratelimit-*` headers (GitHub REST API), from Docker Hub's
 * `ratelimit-*` pull-quota headers, or inferred from a 429.
 * @public
 */
export const rateLimitInfoSchema = lazySchema(() =>
  z.object({
    /** `x-ratelimit-limit` / `ratelimit-limit`: requests (Hub: pulls) allowed in the window. */
    limit: z.number().int().nonnegative(),
    /** `x-ratelimit-remaining` / `ratelimit-remaining`. */
    remaining: z.number().int().nonnegative(),
    /** `x-ratelimit-used`. */
    used: z.number().int().nonnegative().optional(),
    /**
     * `x-ratelimit-reset` as epoch milliseconds. For Docker Hub, which sends no reset, an estimate:
     * the window (`w=`) from when the headers were read, by which every pull counted then has left
     * the window (it slides, so pulls may free up sooner).
     */
    resetAt: z.number().int().nonnegative(),
    /** `x-ratelimit-resource` (`core`, `graphql`, …); `registry` for registry budgets; `docker-pulls` for Hub's pull quota. */
    resource: z.string(),
    /** The window length in milliseconds, from Hub's `;w=<seconds>`. Absent when not sent. */
    windowMs: z.number().int().positive().optional(),
    /**
     * Hub's `docker-ratelimit-source`: the client address or account id the quota is counted
     * against. It identifies a person or machine: never put it in a metric label, a span or a log
     * line that leaves the user's hands.
     */
    source: z.string().optional(),
  }),
);

/** @public */
export type RateLimitInfo = z.infer<typeof rateLimitInfoSchema>;

/** The resource name of Docker Hub's pull quota in {@link RateLimitInfo}. @public */
export const DOCKER_PULLS_RESOURCE = 'docker-pulls';

/** `100;w=21600` (also `100, 100;w=21600`): the count first, the window from `w=`. */
function parseQuotaValue(value: string): { count: number; windowSeconds?: number } | undefined {
  const count = /^\s*(\d+)/.exec(value);
  if (count?.[1] === undefined) return undefined;
  const window = /(?:^|[;,\s])w=(\d+)/.exec(value);
  const seconds = window?.[1] === undefined ? undefined : Number(window[1]);
  return {
    count: Number(count[1]),
    ...(seconds === undefined || seconds <= 0 ? {} : { windowSeconds: seconds }),
  };
}

/**
 * Reads Docker Hub's pull-quota headers: `ratelimit-limit: 100;w=21600`,
 * `ratelimit-remaining: 97;w=21600` and `docker-ratelimit-source`. The window comes from `w=`
 * (never assumed: Hub's limits and windows have changed); the reset is estimated as `now` plus
 * the window. Returns undefined unless limit and remaining are present (Hub sends none for
 * accounts without a limit).
 * @public
 */
export function parseDockerHubRateLimitHeaders(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  now: number,
): RateLimitInfo | undefined {
  const get = (name: string): string | undefined => {
    const value = headers[name];
    return typeof value === 'string' ? value : value?.[0];
  };
  const limitValue = get('ratelimit-limit');
  const remainingValue = get('ratelimit-remaining');
  if (limitValue === undefined || remainingValue === undefined) return undefined;
  const limit = parseQuotaValue(limitValue);
  const remaining = parseQuotaValue(remainingValue);
  if (limit === undefined || remaining === undefined) return undefined;
  const windowSeconds = remaining.windowSeconds ?? limit.windowSeconds;
  const source = get('docker-ratelimit-source')?.trim();
  return {
    limit: limit.count,
    remaining: Math.min(remaining.count, limit.count),
    resetAt: Math.trunc(now + (windowSeconds ?? 0) * 1000),
    resource: DOCKER_PULLS_RESOURCE,
    ...(windowSeconds === undefined ? {} : { windowMs: windowSeconds * 1000 }),
    ...(source === undefined || source === '' ? {} : { source }),
  };
}

/**
 * Reads `x-ratelimit-*` headers (GitHub), or else Docker Hub's `ratelimit-*` headers (see
 * {@link parseDockerHubRateLimitHeaders}; `now` dates its reset estimate, if omitted `Date.now()`).
 * Returns undefined unless a complete set is present and numeric.
 * @public
 */
export function parseRateLimitHeaders(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  now?: number,
): RateLimitInfo | undefined {
  const get = (name: string): string | undefined => {
    const value = headers[name];
    return typeof value === 'string' ? value : value?.[0];
  };
  if (get('x-ratelimit-limit') === undefined && get('ratelimit-limit') !== undefined)
    return parseDockerHubRateLimitHeaders(headers, now ?? Date.now());
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

// The micro sign (U+00B5) and the Greek mu (U+03BC) are written as escapes, here and in the
// patterns below: the source stays ASCII, so a bundle of it does too (the `ghcr` executable reads
// its bundle as one-byte text, packages/cli/build/commonjs-copies.mjs).
const DURATION_UNITS_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  '\u00b5s': 1e-3,
  '\u03bcs': 1e-3,
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
  const match = /retry-after:\s*((?:\d+(?:\.\d+)?(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)/i.exec(message);
  if (match?.[1] === undefined) return undefined;
  let total = 0;
  for (const part of match[1].matchAll(/(\d+(?:\.\d+)?)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g)) {
    const unit = DURATION_UNITS_MS[part[2] ?? ''];
    if (unit === undefined) return undefined;
    total += Number(part[1]) * unit;
  }
  return Math.ceil(total);
}

function formatWindow(windowMs: number): string {
  const seconds = Math.round(windowMs / 1000);
  if (seconds % 3600 === 0) return `${seconds / 3600}-hour`;
  if (seconds % 60 === 0) return `${seconds / 60}-minute`;
  return `${seconds}-second`;
}

/**
 * What to tell someone whose Docker Hub pull quota is spent (or nearly): how many pulls remain,
 * when the window frees them, and what to do (log in for a larger quota; use a mirror). Never
 * names the `source` (an address or account id). `host` is the registry host of the request.
 * @public
 */
export function describeDockerHubQuota(info: RateLimitInfo, host: string): string {
  const window = info.windowMs === undefined ? 'window' : `${formatWindow(info.windowMs)} window`;
  const login = isDockerHub(host) ? DOCKER_HUB_REGISTRY : host;
  const resets =
    info.windowMs === undefined
      ? ''
      : `; they free up as the ${window} slides, all of them by ${new Date(info.resetAt).toISOString()}`;
  return (
    `Docker Hub pull quota: ${info.remaining} of ${info.limit} pulls left per ${window} (each manifest GET counts, HEADs do not)${resets}. ` +
    `Log in for a larger quota (ghcr login ${login}), or pull through a mirror (a pull-through cache, or a copy in a registry of your own)`
  );
}
