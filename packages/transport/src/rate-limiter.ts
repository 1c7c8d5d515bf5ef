import {
  type Clock,
  DOCKER_PULLS_RESOURCE,
  definedProps,
  parseDockerHubRateLimitHeaders,
  parseRateLimitHeaders,
  parseRetryAfterHeader,
  parseRetryAfterInMessage,
  type RateLimitInfo,
  ThrottleTimeoutError,
} from '@ghcr/oci-types';
import { isReplayable } from './body.js';
import { headerValue, readBodyText, withBufferedBody } from './buffered-body.js';
import type { Middleware, TransportRequest, TransportResponse } from './types.js';

/**
 * What the rate limiter tells an `onRateLimit` hook before it waits.
 * @public
 */
export interface RateLimitEvent {
  /** `host` or `host/resource` the limit applies to. */
  readonly key: string;
  readonly operation: string;
  /** Why it waits: `retry-after` (a 429/403 told it), `preemptive` (few requests left), `write-budget`. */
  readonly reason: 'retry-after' | 'preemptive' | 'write-budget';
  readonly waitMs: number;
  /** 1 for the first wait of this request. */
  readonly attempt: number;
  readonly info?: RateLimitInfo;
}

/**
 * Rate limiter options (seed §3.2 and GitHub's documented REST limits).
 * @public
 */
export interface RateLimiterOptions {
  readonly clock: Clock;
  /** Throttle pre-emptively when remaining/limit falls below this. */
  readonly preemptiveThreshold: number;
  /** Longest acceptable wait; a longer one fails with ThrottleTimeoutError. */
  readonly maxWaitMs: number;
  /** Times a rate-limited request is re-sent after waiting. */
  readonly maxRetries: number;
  /** Minimum wait when a limit is hit without any hint (GitHub: at least one minute). */
  readonly fallbackWaitMs: number;
  /** GitHub secondary limit: write points per minute per host (POST/PATCH/PUT/DELETE cost 5, others 1). */
  readonly apiPointsPerMinute: number;
  /** GitHub secondary limit: concurrent API requests. */
  readonly maxConcurrentApiRequests: number;
  /** Return false to refuse a wait (the request then fails with the rate-limit error). */
  readonly onRateLimit?: ((event: RateLimitEvent) => boolean | Promise<boolean>) | undefined;
  /** Observes state changes (metrics). */
  readonly onUpdate?: ((key: string, info: RateLimitInfo) => void) | undefined;
  /** Observes waits (metrics). */
  readonly onWait?: ((key: string, waitMs: number, reason: RateLimitEvent['reason']) => void) | undefined;
}

interface KeyState {
  info?: RateLimitInfo;
  blockedUntil: number;
  consecutiveLimited: number;
}

const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

/** A GET of a manifest: what Docker Hub's pull quota counts (HEADs and blob GETs are free). */
function spendsPullQuota(request: TransportRequest): boolean {
  if (request.method !== 'GET') return false;
  try {
    return /\/v2\/.+\/manifests\/[^/]+$/.test(new URL(request.url).pathname);
  } catch {
    return false;
  }
}

/** `example.com:443` from a host or an URL. */
function hostOf(hostOrUrl: string): string {
  if (!hostOrUrl.includes('://')) return hostOrUrl.toLowerCase();
  try {
    return new URL(hostOrUrl).host;
  } catch {
    return hostOrUrl;
  }
}

/**
 * The rate limiter shared by every concurrent request of one transport: per-host (and per GitHub
 * `x-ratelimit-resource`) state, pre-emptive throttling, waits on 429 and GitHub's 403 secondary
 * limit, a write-points budget and a concurrency cap for the GitHub API.
 * @public
 */
export class RateLimiter {
  readonly #options: RateLimiterOptions;
  readonly #states = new Map<string, KeyState>();
  /** Timestamps and costs of API requests in the last minute, per host. */
  readonly #points = new Map<string, { at: number; cost: number }[]>();
  #apiInFlight = 0;
  readonly #apiQueue: (() => void)[] = [];

  constructor(options: RateLimiterOptions) {
    this.#options = options;
  }

  /**
   * The last known state for a key: a host (`registry-1.docker.io`; an URL works too), which
   * holds the most recent state any response from it carried, or `host/resource`
   * (`api.github.com/core`, `registry-1.docker.io/docker-pulls`).
   */
  info(key: string): RateLimitInfo | undefined {
    return this.#states.get(key.includes('://') ? hostOf(key) : key)?.info;
  }

  #state(key: string): KeyState {
    let state = this.#states.get(key);
    if (state === undefined) {
      state = { blockedUntil: 0, consecutiveLimited: 0 };
      this.#states.set(key, state);
    }
    return state;
  }

  /** The middleware view of this limiter. */
  middleware(): Middleware {
    return (next) => async (request, context) => {
      const host = new URL(request.url).host;
      const isApi = request.auth?.kind === 'github-api';
      for (let limited = 0; ; limited++) {
        await this.#beforeSend(host, request, limited + 1);
        const release = isApi ? await this.#acquireApiSlot(request.signal) : undefined;
        let response: TransportResponse;
        try {
          response = await next(request, context);
        } finally {
          release?.();
        }
        const info = parseRateLimitHeaders(response.headers, context.clock.now());
        const key = info === undefined ? host : `${host}/${info.resource}`;
        if (info !== undefined) {
          this.#state(key).info = info;
          // The host key follows the most recent resource, for pre-emptive checks before we know it.
          this.#state(host).info = info;
          this.#options.onUpdate?.(key, info);
        }
        const verdict = await this.#limitedWait(response, request, context.clock.now(), host, limited);
        if (!verdict.limited) {
          this.#state(host).consecutiveLimited = 0;
          return verdict.response;
        }
        const { waitMs, response: peeked } = verdict;
        if (limited >= this.#options.maxRetries || !isReplayable(request.body)) return peeked;
        const allowed = await this.#ask({
          key: host,
          operation: request.operation,
          reason: 'retry-after',
          waitMs,
          attempt: limited + 1,
          ...definedProps({ info }),
        });
        if (!allowed) return peeked;
        const state = this.#state(host);
        state.blockedUntil = Math.max(state.blockedUntil, context.clock.now() + waitMs);
        context.retries.push({ reason: 'rate-limited', delayMs: waitMs });
        context.attempt += 1;
      }
    };
  }

  async #ask(event: RateLimitEvent): Promise<boolean> {
    if (event.waitMs > this.#options.maxWaitMs) {
      throw new ThrottleTimeoutError(
        `${event.operation}: rate limited on ${event.key}; waiting ${Math.ceil(event.waitMs / 1000)} s would exceed the maximum of ${Math.ceil(
          this.#options.maxWaitMs / 1000,
        )} s. Retry later, or raise rateLimit.maxWaitMs`,
        { waitMs: event.waitMs },
      );
    }
    if (this.#options.onRateLimit === undefined) return true;
    return await this.#options.onRateLimit(event);
  }

  /** Waits for a block set by an earlier 429, pre-emptive throttling and the API write budget. */
  async #beforeSend(host: string, request: TransportRequest, attempt: number): Promise<void> {
    const clock = this.#options.clock;
    const state = this.#state(host);
    const blockedFor = state.blockedUntil - clock.now();
    if (blockedFor > 0) {
      this.#options.onWait?.(host, blockedFor, 'retry-after');
      await clock.sleep(blockedFor, request.signal);
    }
    const info = state.info;
    if (info?.resource === DOCKER_PULLS_RESOURCE) {
      await this.#beforePull(host, request, attempt, info);
    } else if (info !== undefined && info.limit > 0) {
      const untilReset = info.resetAt - clock.now();
      const fraction = info.remaining / info.limit;
      if (untilReset > 0 && fraction < this.#options.preemptiveThreshold) {
        // Spread what is left over the time to the reset: the fewer left, the longer each waits.
        const waitMs = info.remaining <= 0 ? untilReset : Math.ceil(untilReset / (info.remaining + 1));
        if (waitMs > 0) {
          const allowed = await this.#ask({
            key: host,
            operation: request.operation,
            reason: 'preemptive',
            waitMs,
            attempt,
            info,
          });
          if (allowed) {
            this.#options.onWait?.(host, waitMs, 'preemptive');
            await clock.sleep(waitMs, request.signal);
          }
        }
      }
    }
    if (request.auth?.kind === 'github-api') await this.#spendPoints(host, request);
  }

  /**
   * Docker Hub's pull quota, before a manifest GET: when the last answer said none is left, wait
   * for the window to free one if that is within `maxWaitMs` (short windows); otherwise send
   * anyway: Hub refuses an over-quota pull without counting it, and its 429 becomes the error
   * that says when the quota frees up. The quota is not spread over the window as GitHub's
   * hourly budget is: it slides over hours, and waiting does not refill it any faster than using
   * it, so a pull with pulls left goes at once. HEADs and blob GETs never wait: they do not count.
   */
  async #beforePull(
    host: string,
    request: TransportRequest,
    attempt: number,
    info: RateLimitInfo,
  ): Promise<void> {
    if (info.remaining > 0 || !spendsPullQuota(request)) return;
    const clock = this.#options.clock;
    const waitMs = info.resetAt - clock.now();
    if (waitMs <= 0 || waitMs > this.#options.maxWaitMs) return;
    const allowed = await this.#ask({
      key: host,
      operation: request.operation,
      reason: 'preemptive',
      waitMs,
      attempt,
      info,
    });
    if (!allowed) return;
    this.#options.onWait?.(host, waitMs, 'preemptive');
    await clock.sleep(waitMs, request.signal);
  }

  async #spendPoints(host: string, request: TransportRequest): Promise<void> {
    const clock = this.#options.clock;
    const cost = WRITE_METHODS.has(request.method) ? 5 : 1;
    let window = this.#points.get(host);
    if (window === undefined) {
      window = [];
      this.#points.set(host, window);
    }
    for (;;) {
      const now = clock.now();
      while (window.length > 0 && (window[0]?.at ?? now) <= now - 60_000) window.shift();
      const used = window.reduce((sum, entry) => sum + entry.cost, 0);
      if (used + cost <= this.#options.apiPointsPerMinute) {
        window.push({ at: now, cost });
        return;
      }
      // Wait until enough of the window has expired to fit this request.
      let freed = 0;
      let until = now;
      for (const entry of window) {
        freed += entry.cost;
        until = entry.at + 60_000;
        if (used - freed + cost <= this.#options.apiPointsPerMinute) break;
      }
      const waitMs = Math.max(1, until - now);
      this.#options.onWait?.(host, waitMs, 'write-budget');
      await clock.sleep(waitMs, request.signal);
    }
  }

  async #acquireApiSlot(signal: AbortSignal | undefined): Promise<() => void> {
    if (this.#apiInFlight >= this.#options.maxConcurrentApiRequests) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => reject(signal?.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#apiQueue.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    this.#apiInFlight += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#apiInFlight -= 1;
      this.#apiQueue.shift()?.();
    };
  }

  /**
   * When `response` says a limit was hit, how long to wait and the response with its peeked body.
   * Order of evidence (GitHub's documented algorithm, plus GHCR's hint in the message):
   * Retry-After header → `retry-after: <duration>` in a registry error message → x-ratelimit-reset
   * when remaining is 0 → at least `fallbackWaitMs`, doubling on each consecutive limit.
   */
  async #limitedWait(
    response: TransportResponse,
    request: TransportRequest,
    now: number,
    host: string,
    limited: number,
  ): Promise<
    | { limited: false; response: TransportResponse }
    | { limited: true; waitMs: number; response: TransportResponse }
  > {
    if (request.acceptStatus?.includes(response.status) === true) return { limited: false, response };
    if (response.status !== 429 && response.status !== 403) return { limited: false, response };
    const quota = response.status === 429 ? parseDockerHubRateLimitHeaders(response.headers, now) : undefined;
    if (quota !== undefined && quota.remaining === 0) {
      // Hub's pull quota frees up as its window slides: wait (at most the window) when that is
      // within maxWaitMs, else let the 429 through to become the error that says so.
      const waitMs = quota.resetAt - now;
      const peeked = withBufferedBody(response, await readBodyText(response.body));
      if (waitMs <= 0 || waitMs > this.#options.maxWaitMs) return { limited: false, response: peeked };
      return { limited: true, waitMs, response: peeked };
    }
    const remaining = headerValue(response.headers, 'x-ratelimit-remaining');
    const text = await readBodyText(response.body);
    const peeked = withBufferedBody(response, text);
    const secondary = response.status === 403 && /secondary rate limit/i.test(text);
    const primaryExhausted = response.status === 403 && remaining === '0';
    if (response.status === 403 && !secondary && !primaryExhausted)
      return { limited: false, response: peeked };
    const state = this.#state(host);
    state.consecutiveLimited += 1;
    const header = parseRetryAfterHeader(headerValue(response.headers, 'retry-after'), now);
    const inMessage = parseRetryAfterInMessage(text);
    const reset = headerValue(response.headers, 'x-ratelimit-reset');
    const untilReset =
      remaining === '0' && reset !== undefined && /^\d+$/.test(reset)
        ? Math.max(0, Number(reset) * 1000 - now)
        : undefined;
    const waitMs =
      header ??
      inMessage ??
      untilReset ??
      this.#options.fallbackWaitMs * 2 ** Math.max(0, Math.min(limited, state.consecutiveLimited - 1));
    return { limited: true, waitMs, response: peeked };
  }
}
