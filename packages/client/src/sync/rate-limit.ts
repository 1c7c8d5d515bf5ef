import type { Transport } from '@ghcr/transport';

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
 * A {@link RateLimitReader} over a transport's own rate-limit state (`transport.rateLimit(host)`:
 * what the last response from `host` said in its `ratelimit-*` / `x-ratelimit-*` headers, Docker
 * Hub's window taken from `w=`).
 * @public
 */
export function transportRateLimitReader(transport: Pick<Transport, 'rateLimit'>): RateLimitReader {
  return {
    read(host) {
      const info = transport.rateLimit(host.toLowerCase());
      if (info === undefined) return undefined;
      // The transport dates a window's reset from when the headers were read: reset − window.
      const observedAt = info.windowMs === undefined ? info.resetAt : info.resetAt - info.windowMs;
      return {
        limit: info.limit,
        remaining: info.remaining,
        observedAt,
        ...(info.windowMs === undefined ? {} : { windowSeconds: info.windowMs / 1000 }),
      };
    },
  };
}
