import { GhcrError, parseRateLimitHeaders, redactText, redactUrl } from '@ghcr/oci-types';
import type { Middleware } from '@ghcr/transport';

/**
 * One HTTP exchange, as `--debug` prints it. The URL is redacted (no user info, no signature or
 * token query values); no header is kept.
 * @public
 */
export interface RequestLogEntry {
  /** The operation that sent it (`manifests.get`, `blobs.get`, `tags.list`). */
  readonly operation: string;
  readonly method: string;
  /** The URL, redacted. */
  readonly url: string;
  /** The response status; absent when no response came (connection failure). */
  readonly status?: number;
  /** The error code when no response came (`GHCR_CONNECTION_FAILED`). */
  readonly error?: string;
  /** Milliseconds from sending to the response headers (or the failure), on the transport's clock. */
  readonly durationMs: number;
  /**
   * The rate-limit state the response carried (GitHub's `x-ratelimit-*`, Docker Hub's pull
   * quota). Never the quota's `source`: an address or account id has no place in a log.
   */
  readonly rateLimit?: {
    readonly resource: string;
    readonly limit: number;
    readonly remaining: number;
    /** Hub's window (`w=`), seconds. */
    readonly windowSeconds?: number;
  };
}

function formatWindow(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/**
 * A request log for `--debug`: a transport middleware, placed innermost (after `redirect`), so each
 * exchange on the wire is recorded: retries, the answer to a 401 challenge and redirect hops each
 * get their own entry. Token endpoint requests are made by the token manager, outside the pipeline,
 * and are not in it.
 * @internal
 */
export function createRequestLog(options: {
  readonly secrets: () => Iterable<string>;
  readonly onEntry?: (entry: RequestLogEntry) => void;
}): { readonly entries: readonly RequestLogEntry[]; readonly middleware: Middleware } {
  const entries: RequestLogEntry[] = [];
  const record = (entry: RequestLogEntry): void => {
    entries.push(entry);
    options.onEntry?.(entry);
  };
  const clean = (url: string): string => redactText(redactUrl(url), options.secrets());
  const middleware: Middleware = (next) => async (request, context) => {
    const started = context.clock.now();
    try {
      const response = await next(request, context);
      const info = parseRateLimitHeaders(response.headers, context.clock.now());
      record({
        operation: request.operation,
        method: request.method,
        url: clean(request.url),
        status: response.status,
        durationMs: Math.max(0, context.clock.now() - started),
        ...(info === undefined
          ? {}
          : {
              rateLimit: {
                resource: info.resource,
                limit: info.limit,
                remaining: info.remaining,
                ...(info.windowMs === undefined ? {} : { windowSeconds: Math.round(info.windowMs / 1000) }),
              },
            }),
      });
      return response;
    } catch (error) {
      record({
        operation: request.operation,
        method: request.method,
        url: clean(request.url),
        error: GhcrError.isInstance(error) ? error.code : 'GHCR_CONNECTION_FAILED',
        durationMs: Math.max(0, context.clock.now() - started),
      });
      throw error;
    }
  };
  return { entries, middleware };
}

/**
 * One request log entry as a `--debug` line: `GET http://… → 200 (12 ms) manifests.get`, and
 * when the response carried a rate limit, `; rate limit docker-pulls: 97/100 left per 6h`.
 * @internal
 */
export function formatRequestLogEntry(entry: RequestLogEntry): string {
  const outcome = entry.status === undefined ? `failed ${entry.error ?? ''}`.trim() : String(entry.status);
  const line = `${entry.method} ${entry.url} → ${outcome} (${Math.round(entry.durationMs)} ms) ${entry.operation}`;
  const limit = entry.rateLimit;
  if (limit === undefined) return line;
  const window = limit.windowSeconds === undefined ? '' : ` per ${formatWindow(limit.windowSeconds)}`;
  return `${line}; rate limit ${limit.resource}: ${limit.remaining}/${limit.limit} left${window}`;
}
