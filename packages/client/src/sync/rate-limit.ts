import type { Middleware, TransportResponse } from '@ghcr/transport';

/**
 * What a registry last said about its pull quota (Docker Hub's `ratelimit-limit: 100;w=21600` and
 * `ratelimit-remaining: 97;w=21600`).
 * @public
 */
export interface RateLimitState {
  /** Pulls allowed per window. */
  readonly limit?: number;
  /** Pulls left in the window. */
  readonly remaining: number;
  /** The window, in seconds, from `w=` (never assumed). */
  readonly windowSeconds?: number;
  /** When it was read, epoch milliseconds on the client's clock. */
  readonly observedAt: number;
}

/**
 * Reads the quota a registry reported, per API host (`registry-1.docker.io`).
 * @public
 */
export interface RateLimitReader {
  /** The last state seen from `host`, or undefined when it sent no rate-limit headers (no limit). */
  read(host: string): RateLimitState | undefined;
}

/**
 * A {@link RateLimitReader} fed by a transport middleware that looks at every response's headers.
 * @public
 */
export interface RateLimitObserver extends RateLimitReader {
  /** Place it innermost (`after: 'redirect'`) so each exchange on the wire is seen. */
  readonly middleware: Middleware;
  /** Records the headers of a response from `host` (what the middleware does). */
  observe(host: string, headers: TransportResponse['headers'], now: number): void;
}

/**
 * Parses one `ratelimit-*` value: `97;w=21600` → `{ value: 97, windowSeconds: 21600 }`. Undefined
 * when it is not a number.
 * @public
 */
export function parseRateLimitValue(
  value: string | readonly string[] | undefined,
): { readonly value: number; readonly windowSeconds?: number } | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string') return undefined;
  const [head, ...parameters] = text.split(';');
  const parsed = Number((head ?? '').trim());
  if ((head ?? '').trim() === '' || !Number.isFinite(parsed) || parsed < 0) return undefined;
  let windowSeconds: number | undefined;
  for (const parameter of parameters) {
    const [key, raw] = parameter.split('=');
    const seconds = Number((raw ?? '').trim());
    if (key?.trim().toLowerCase() === 'w' && Number.isFinite(seconds) && seconds > 0) windowSeconds = seconds;
  }
  return windowSeconds === undefined ? { value: parsed } : { value: parsed, windowSeconds };
}

/**
 * Creates a {@link RateLimitObserver}. (When the transport exposes its own parsed per-host state,
 * `client.sync` reads that instead; this observer is the stand-in until then.)
 * @public
 */
export function createRateLimitObserver(): RateLimitObserver {
  const states = new Map<string, RateLimitState>();
  const observe = (host: string, headers: TransportResponse['headers'], now: number): void => {
    const remaining = parseRateLimitValue(headers['ratelimit-remaining']);
    if (remaining === undefined) return;
    const limit = parseRateLimitValue(headers['ratelimit-limit']);
    const windowSeconds = remaining.windowSeconds ?? limit?.windowSeconds;
    states.set(host.toLowerCase(), {
      remaining: remaining.value,
      observedAt: now,
      ...(limit === undefined ? {} : { limit: limit.value }),
      ...(windowSeconds === undefined ? {} : { windowSeconds }),
    });
  };
  const middleware: Middleware = (next) => async (request, context) => {
    const response = await next(request, context);
    let host: string | undefined;
    try {
      host = new URL(request.url).host;
    } catch {
      host = undefined;
    }
    if (host !== undefined) observe(host, response.headers, context.clock.now());
    return response;
  };
  return { middleware, observe, read: (host) => states.get(host.toLowerCase()) };
}
