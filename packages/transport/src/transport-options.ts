import type { TokenHttpSend } from '@ghcr/auth';
import type { Clock } from '@ghcr/oci-types';
import type { Tracer } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import type { Dispatcher } from 'undici';
import type { Authorizer } from './auth-middleware.js';
import type { TransportMetrics } from './metrics.js';
import type { RateLimitEvent } from './rate-limiter.js';
import type { Middleware } from './types.js';

/**
 * What a transport lends the authorizer it builds (see {@link AuthorizerFactory}).
 * @public
 */
export interface TransportAuthParts {
  /**
   * The dispatcher the transport sends through: the injected `dispatcher`, else the Agent the
   * transport owns (closed by `transport.close()`), created when this is first read. Read it when a
   * request needs it, not when the authorizer is built (`createTokenManager({ dispatcher: () =>
   * parts.dispatcher })`), or use `send`: a process that never reads it never creates the Agent.
   */
  readonly dispatcher: Dispatcher;
  /**
   * Sends a token request the way the transport sends its own requests: on its own connections
   * when it owns them, else through its dispatcher; no middleware (no retry, no credentials added).
   * A token manager given it (`createTokenManager({ send: parts.send })`) never starts undici.
   */
  readonly send: TokenHttpSend;
  /** The transport's metrics when `metrics` was given, for `recordTokenEvent`; else undefined. */
  readonly metrics: TransportMetrics | undefined;
}

/**
 * Builds the transport's authorizer from the transport's own parts, called once by
 * `createTransport`: `(parts) => createRegistryAuthorizer({ tokenManager: createTokenManager({
 * send: parts.send, onEvent: (event) => recordTokenEvent(parts.metrics, event) }) })`.
 * @public
 */
export type AuthorizerFactory = (parts: TransportAuthParts) => Authorizer;

/**
 * The `retry` option of {@link TransportOptions}: how 408, 5xx and connection failures are retried.
 * @public
 */
export interface TransportRetryOptions {
  /** Retries after the first attempt. If omitted, 3. */
  readonly maxRetries?: number | undefined;
  /** Delay before the first retry, doubled each time after. If omitted, 1 s (so 1, 2, 4 s). */
  readonly baseDelayMs?: number | undefined;
  /** Ceiling of one delay, ms. If omitted, 30 s. */
  readonly maxDelayMs?: number | undefined;
  /** Fraction of each delay that is random, 0 to 1 (0.2: the delay is 80–100% of nominal). If omitted, 0.2. */
  readonly jitter?: number | undefined;
  /** Random source in [0, 1) for the jitter (tests inject one). If omitted, `Math.random`. */
  readonly random?: (() => number) | undefined;
}

/**
 * The `rateLimit` option of {@link TransportOptions}: pre-emptive throttling and waits on 429 and
 * GitHub's secondary limits.
 * @public
 */
export interface TransportRateLimitOptions {
  /** Throttle pre-emptively when remaining/limit falls below this fraction. If omitted, 0.2. */
  readonly preemptiveThreshold?: number | undefined;
  /** Longest acceptable wait, ms; a longer one fails with `ThrottleTimeoutError`. If omitted, 15 min. */
  readonly maxWaitMs?: number | undefined;
  /** Times a rate-limited request is sent again after waiting. If omitted, 3. */
  readonly maxRetries?: number | undefined;
  /** Wait when a limit is hit without any hint of how long, ms. If omitted, 60 s (GitHub's minimum). */
  readonly fallbackWaitMs?: number | undefined;
  /** GitHub secondary limit: write points per minute per host (POST/PATCH/PUT/DELETE cost 5, others 1). If omitted, 900. */
  readonly apiPointsPerMinute?: number | undefined;
  /** GitHub secondary limit: concurrent API requests. If omitted, 100. */
  readonly maxConcurrentApiRequests?: number | undefined;
  /** Called before each wait; return false to refuse it (the request then fails with the rate-limit error). If omitted, every wait up to `maxWaitMs` is taken. */
  readonly onRateLimit?: ((event: RateLimitEvent) => boolean | Promise<boolean>) | undefined;
}

/**
 * The `metrics` option of {@link TransportOptions}: Prometheus metrics on a registry you own.
 * @public
 */
export interface TransportMetricsOptions {
  /** The prom-client `Registry` the metrics are registered on. Required. */
  readonly registry: Registry;
  /** Prefix of every metric name. If omitted, `ghcr_`. */
  readonly prefix?: string | undefined;
}

/**
 * One entry of the `middleware` option of {@link TransportOptions}: your middleware, placed
 * relative to a named layer of the pipeline.
 * @public
 */
export interface TransportMiddlewareOptions {
  /** The layer's name (unique in the pipeline). Required. */
  readonly name: string;
  /** The middleware: `(next) => handler`. Required. */
  readonly middleware: Middleware;
  /** Place it just outside (before) this layer. If omitted (and no `after`), outermost. */
  readonly before?: string | undefined;
  /** Place it just inside (after) this layer. If omitted (and no `before`), outermost. */
  readonly after?: string | undefined;
}

/**
 * Options of `createTransport`, validated once by `transportOptionsSchema` (an unknown key or a
 * bad value is a `ConfigError` naming it).
 * @public
 */
export interface TransportOptions {
  /**
   * An undici Dispatcher to send every request through (a simulation, a proxy Agent, a
   * MockAgent); it stays its owner's to close. If omitted, requests go out on the transport's own
   * connections (see `ownBlobConnections`), and an Agent is created only when something needs one
   * (`ownBlobConnections: false`, or an {@link AuthorizerFactory} reading `parts.dispatcher`);
   * `close()` closes both.
   */
  readonly dispatcher?: Dispatcher | undefined;
  /** Connections per origin of the default Agent (and, apart, of the transport's own connections). If omitted, 16. */
  readonly connections?: number | undefined;
  /** Keep-alive of idle sockets of the default Agent, ms. If omitted, 30 s. */
  readonly keepAliveTimeoutMs?: number | undefined;
  /** TCP/TLS connect timeout of the default Agent, ms. If omitted, 10 s. */
  readonly connectTimeoutMs?: number | undefined;
  /** Wait for response headers, ms. If omitted, 60 s. */
  readonly headersTimeoutMs?: number | undefined;
  /** Longest idle gap inside a response body, ms. If omitted, 5 min. */
  readonly bodyTimeoutMs?: number | undefined;
  /**
   * Every request (GET, HEAD, and uploads: POST, PUT, PATCH, DELETE) goes out on HTTP/1.1
   * connections the transport opens itself, which write request bodies as the socket takes them
   * and read every response into one reused buffer, handed on without a copy
   * (`ResponseBody.eachView`): transfers take less CPU and memory than through undici, and a
   * command never starts undici unless it asks for a token (docs/benchmarks.md). They share
   * `connections`, the keep-alive and the timeouts of the default Agent. false sends every request
   * through the default Agent. Ignored with `dispatcher`, which then carries every request. The
   * name is older than the choice it makes now. If omitted, true.
   */
  readonly ownBlobConnections?: boolean | undefined;
  /** The `User-Agent` header. If omitted, `ghcr-ts`. */
  readonly userAgent?: string | undefined;
  /** Time source of backoff and rate-limit waits. If omitted, the system clock. */
  readonly clock?: Clock | undefined;
  /**
   * Supplies `Authorization` headers (see `createRegistryAuthorizer`), or an {@link AuthorizerFactory}
   * building it over the transport's parts (`send`, the dispatcher, the metrics), so a token
   * manager shares the transport's connections. If omitted, requests go unauthenticated.
   */
  readonly authorizer?: Authorizer | AuthorizerFactory | undefined;
  /** Retry policy of 408, 5xx and connection failures. If omitted, each field's default. */
  readonly retry?: TransportRetryOptions | undefined;
  /** Rate limiting. If omitted, each field's default. */
  readonly rateLimit?: TransportRateLimitOptions | undefined;
  /** Redirects followed for GET and HEAD. If omitted, 5. */
  readonly maxRedirects?: number | undefined;
  /** Prometheus metrics on your registry. If omitted, no metrics. */
  readonly metrics?: TransportMetricsOptions | undefined;
  /**
   * OpenTelemetry tracer. If omitted, a tracer of the provider registered globally with
   * `@opentelemetry/api` (looked up on each request, without loading the API), and no spans while
   * none is registered.
   */
  readonly tracer?: Tracer | undefined;
  /** Your middleware, each placed before or after a named layer. If omitted, none. */
  readonly middleware?: readonly TransportMiddlewareOptions[] | undefined;
  /** Returns strings to scrub from error messages (the credentials in use). If omitted, only the built-in redaction applies. */
  readonly secrets?: (() => Iterable<string>) | undefined;
}
