import { createRequire } from 'node:module';
import { GhcrError, type RateLimitInfo } from '@ghcr/oci-types';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Middleware, TransportRequest } from './types.js';

type PromClient = typeof import('prom-client');
let promClient: PromClient | undefined;

/**
 * prom-client, loaded on the first call that needs it rather than when the package is imported:
 * it costs ~35 ms of start-up to every process, and most processes (a CLI command, a script
 * without metrics) never create a metric.
 */
function loadPromClient(): PromClient {
  promClient ??= createRequire(import.meta.url)('prom-client') as PromClient;
  return promClient;
}

/**
 * The transport's Prometheus metrics, registered on the registry you pass (never prom-client's
 * global one unless you pass it). Labels never hold URLs, tokens or repository names, only the
 * operation, method, status, reason, code and rate-limit resource.
 * @public
 */
export interface TransportMetrics {
  readonly requests: Counter<'operation' | 'method' | 'status'>;
  readonly duration: Histogram<'operation' | 'method'>;
  readonly bytesSent: Counter<'operation'>;
  readonly bytesReceived: Counter<'operation'>;
  readonly retries: Counter<'operation' | 'reason'>;
  readonly rateLimitRemaining: Gauge<'resource'>;
  /** Requests (Docker Hub: pulls) allowed per window, by resource. */
  readonly rateLimitLimit: Gauge<'resource'>;
  readonly throttleWaitSeconds: Counter<'reason'>;
  readonly tokenCache: Counter<'result'>;
  readonly errors: Counter<'operation' | 'code'>;
}

/**
 * Creates the metrics on `registry` with names prefixed `prefix` (default `ghcr_`).
 * @public
 */
export function createTransportMetrics(registry: Registry, prefix = 'ghcr_'): TransportMetrics {
  const { Counter, Gauge, Histogram } = loadPromClient();
  const registers = [registry];
  return {
    requests: new Counter({
      name: `${prefix}requests_total`,
      help: 'HTTP requests by operation, method and final status',
      labelNames: ['operation', 'method', 'status'],
      registers,
    }),
    duration: new Histogram({
      name: `${prefix}request_duration_seconds`,
      help: 'Time to response headers of an operation, including retries and waits',
      labelNames: ['operation', 'method'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    bytesSent: new Counter({
      name: `${prefix}bytes_sent_total`,
      help: 'Request body bytes sent (known lengths)',
      labelNames: ['operation'],
      registers,
    }),
    bytesReceived: new Counter({
      name: `${prefix}bytes_received_total`,
      help: 'Response body bytes received (by Content-Length)',
      labelNames: ['operation'],
      registers,
    }),
    retries: new Counter({
      name: `${prefix}retries_total`,
      help: 'Requests re-sent, by reason',
      labelNames: ['operation', 'reason'],
      registers,
    }),
    rateLimitRemaining: new Gauge({
      name: `${prefix}rate_limit_remaining`,
      help: 'Requests left in the current rate-limit window, by resource',
      labelNames: ['resource'],
      registers,
    }),
    rateLimitLimit: new Gauge({
      name: `${prefix}rate_limit_limit`,
      help: 'Requests (Docker Hub: manifest GETs) allowed per rate-limit window, by resource',
      labelNames: ['resource'],
      registers,
    }),
    throttleWaitSeconds: new Counter({
      name: `${prefix}throttle_wait_seconds_total`,
      help: 'Time spent waiting for rate limits, by reason',
      labelNames: ['reason'],
      registers,
    }),
    tokenCache: new Counter({
      name: `${prefix}token_cache_total`,
      help: 'Token cache lookups by result (hit, miss)',
      labelNames: ['result'],
      registers,
    }),
    errors: new Counter({
      name: `${prefix}errors_total`,
      help: 'Failed operations by error code',
      labelNames: ['operation', 'code'],
      registers,
    }),
  };
}

function sentBytes(request: TransportRequest): number | undefined {
  if (request.contentLength !== undefined) return request.contentLength;
  if (typeof request.body === 'string') return Buffer.byteLength(request.body);
  if (request.body instanceof Uint8Array) return request.body.byteLength;
  return undefined;
}

/**
 * Records requests, durations, bytes, retries and errors. Works on whole requests and responses;
 * it never touches body chunks (bytes come from known lengths).
 * @public
 */
export function metricsMiddleware(metrics: TransportMetrics): Middleware {
  return (next) => async (request, context) => {
    const stop = metrics.duration.startTimer({ operation: request.operation, method: request.method });
    const sent = sentBytes(request);
    try {
      const response = await next(request, context);
      metrics.requests.inc({
        operation: request.operation,
        method: request.method,
        status: String(response.status),
      });
      const length = response.headers['content-length'];
      if (typeof length === 'string' && /^\d+$/.test(length) && request.method !== 'HEAD') {
        metrics.bytesReceived.inc({ operation: request.operation }, Number(length));
      }
      return response;
    } catch (error) {
      const status =
        GhcrError.isInstance(error) && error.http !== undefined ? String(error.http.status) : 'error';
      metrics.requests.inc({ operation: request.operation, method: request.method, status });
      metrics.errors.inc({
        operation: request.operation,
        code: GhcrError.isInstance(error) ? error.code : 'GHCR_INTERNAL',
      });
      throw error;
    } finally {
      stop();
      if (sent !== undefined) metrics.bytesSent.inc({ operation: request.operation }, sent);
      for (const retry of context.retries)
        metrics.retries.inc({ operation: request.operation, reason: retry.reason });
    }
  };
}

/**
 * Feeds rate-limit state into the gauges, labelled by resource only: never Docker Hub's `source`
 * (a client address or account id). @internal
 */
export function recordRateLimit(metrics: TransportMetrics, info: RateLimitInfo): void {
  metrics.rateLimitRemaining.set({ resource: info.resource }, info.remaining);
  metrics.rateLimitLimit.set({ resource: info.resource }, info.limit);
}

/**
 * Feeds `@ghcr/auth` token-manager events into `token_cache_total`: in an authorizer factory
 * (`authorizer: (parts) => …`), pass `(event) => recordTokenEvent(parts.metrics, event)` as the
 * token manager's `onEvent`.
 * @public
 */
export function recordTokenEvent(
  metrics: TransportMetrics | undefined,
  event: { readonly type: string },
): void {
  if (metrics === undefined) return;
  if (event.type === 'cache-hit') metrics.tokenCache.inc({ result: 'hit' });
  else if (event.type === 'cache-miss') metrics.tokenCache.inc({ result: 'miss' });
}
