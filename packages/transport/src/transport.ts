import type { TokenHttpSend } from '@ghcr/auth';
import {
  type Clock,
  ConfigError,
  GhcrError,
  lazySchema,
  PARSE_ONCE,
  type RateLimitInfo,
  systemClock,
  unknownKeysError,
} from '@ghcr/oci-types';
import type { Tracer } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import { Agent, type Dispatcher } from 'undici';
import * as z from 'zod';
import { type Authorizer, authMiddleware } from './auth-middleware.js';
import { createDispatchHandler, transportErrorFrom } from './dispatch.js';
import { errorsMiddleware } from './errors-middleware.js';
import {
  createTransportMetrics,
  metricsMiddleware,
  recordRateLimit,
  type TransportMetrics,
} from './metrics.js';
import { createOwnConnectionsHandler, fitsOwnConnections, OwnConnections } from './own-connections.js';
import { composePipeline, insertMiddleware } from './pipeline.js';
import { type RateLimitEvent, RateLimiter } from './rate-limiter.js';
import { redirectMiddleware } from './redirect.js';
import { retryMiddleware } from './retry.js';
import { traceAttempts, tracingMiddleware } from './tracing.js';
import type { AuthorizerFactory, TransportOptions } from './transport-options.js';

export type { AuthorizerFactory, TransportAuthParts, TransportOptions } from './transport-options.js';

import type {
  Handler,
  Middleware,
  PipelineEntry,
  RequestContext,
  TransportRequest,
  TransportResponse,
} from './types.js';

const isFunction = (value: unknown): boolean => typeof value === 'function';
const isObject = (value: unknown): boolean => typeof value === 'object' && value !== null;

/**
 * The zod schema of {@link TransportOptions} (documented there), parsed once by
 * {@link createTransport}. Strict: an unknown key, at the top or inside `retry`, `rateLimit`,
 * `metrics` or a `middleware` entry, is refused with its name.
 * @public
 */
export const transportOptionsSchema = lazySchema(
  () =>
    z
      .object({
        dispatcher: z.custom<Dispatcher>(isObject, 'must be an undici Dispatcher').optional(),
        connections: z.number().int().positive().default(16),
        keepAliveTimeoutMs: z.number().int().positive().default(30_000),
        connectTimeoutMs: z.number().int().positive().default(10_000),
        headersTimeoutMs: z.number().int().positive().default(60_000),
        bodyTimeoutMs: z.number().int().positive().default(300_000),
        ownBlobConnections: z.boolean().default(true),
        userAgent: z.string().min(1).default('ghcr-ts'),
        clock: z
          .custom<Clock>((value) => isObject(value) && isFunction((value as Clock).now), 'must be a Clock')
          .default(systemClock),
        authorizer: z
          .custom<Authorizer | AuthorizerFactory>(
            (value) => isObject(value) || isFunction(value),
            'must be an Authorizer or a function (parts) => Authorizer',
          )
          .optional(),
        retry: z
          .object({
            maxRetries: z.number().int().min(0).default(3),
            baseDelayMs: z.number().int().min(0).default(1000),
            maxDelayMs: z.number().int().min(0).default(30_000),
            jitter: z.number().min(0).max(1).default(0.2),
            random: z.custom<() => number>(isFunction).default(() => Math.random),
          })
          .strict()
          .prefault({}),
        rateLimit: z
          .object({
            preemptiveThreshold: z.number().min(0).max(1).default(0.2),
            maxWaitMs: z
              .number()
              .int()
              .min(0)
              .default(15 * 60_000),
            maxRetries: z.number().int().min(0).default(3),
            fallbackWaitMs: z.number().int().min(0).default(60_000),
            apiPointsPerMinute: z.number().int().positive().default(900),
            maxConcurrentApiRequests: z.number().int().positive().default(100),
            onRateLimit: z
              .custom<(event: RateLimitEvent) => boolean | Promise<boolean>>(isFunction)
              .optional(),
          })
          .strict()
          .prefault({}),
        maxRedirects: z.number().int().min(0).default(5),
        metrics: z
          .object({
            registry: z.custom<Registry>(isObject, 'must be a prom-client Registry'),
            prefix: z.string().default('ghcr_'),
          })
          .strict()
          .optional(),
        tracer: z.custom<Tracer>(isObject, 'must be an OpenTelemetry Tracer').optional(),
        middleware: z
          .array(
            z
              .object({
                name: z.string().min(1),
                middleware: z.custom<Middleware>(isFunction, 'must be a function (next) => handler'),
                before: z.string().optional(),
                after: z.string().optional(),
              })
              .strict(),
          )
          .default([]),
        secrets: z.custom<() => Iterable<string>>(isFunction).optional(),
      })
      .strict() satisfies z.ZodType<unknown, TransportOptions>,
);

/** @public */
export type ResolvedTransportOptions = z.output<typeof transportOptionsSchema>;

/**
 * Sends requests through the pipeline. Only what callers need: `send`, the rate-limit state read
 * by `rateLimit(host)`, and `close`. The pipeline, resolved options, rate limiter and metrics of a
 * transport made by {@link createTransport} are read with {@link transportDetails}.
 * @public
 */
export interface Transport {
  /** Sends one request. Resolves with a 2xx (or accepted) response; rejects with a GhcrError. */
  send(request: TransportRequest): Promise<TransportResponse>;
  /**
   * The last rate-limit state a response from `host` carried (a host such as
   * `registry-1.docker.io`, or an URL on it): GitHub's `x-ratelimit-*` or Docker Hub's pull quota
   * (`resource: 'docker-pulls'`, with `windowMs` and the `source` it is counted against). Undefined
   * until a response carried one.
   */
  rateLimit(host: string): RateLimitInfo | undefined;
  /** Closes the Agent and the connections the transport opened itself (an injected dispatcher is left to its owner). */
  close(): Promise<void>;
}

/**
 * The inner parts of a transport made by {@link createTransport}, for tests, diagnostics and
 * libraries built on the transport: read them with {@link transportDetails}.
 * @public
 */
export interface TransportDetails {
  /** Layer names, outermost first. */
  readonly pipeline: readonly string[];
  /** The options after defaults. */
  readonly options: ResolvedTransportOptions;
  /** The rate limiter every request of the transport shares. */
  readonly rateLimiter: RateLimiter;
  /** The metrics, when a registry was given; else undefined. */
  readonly metrics: TransportMetrics | undefined;
}

const detailsOf = new WeakMap<Transport, TransportDetails>();

/**
 * The pipeline, resolved options, rate limiter and metrics of `transport`.
 * @throws ConfigError when `transport` was not returned by {@link createTransport} (a wrapper
 * object, or a transport of your own, has none).
 * @public
 */
export function transportDetails(transport: Transport): TransportDetails {
  const details = detailsOf.get(transport);
  if (details === undefined) {
    throw new ConfigError(
      'transportDetails: this transport was not returned by createTransport (a wrapper or a transport of your own has no details); pass the transport createTransport returned',
      { field: 'transport' },
    );
  }
  return details;
}

/**
 * Parses options once; a failure is a ConfigError naming the field.
 * @internal
 */
export function resolveTransportOptions(options: TransportOptions): ResolvedTransportOptions {
  const parsed = transportOptionsSchema.safeParse(options, PARSE_ONCE);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      throw unknownKeysError('transport option', transportOptionsSchema, issue, parsed.error);
    }
    const field = issue?.path.join('.') ?? '';
    throw new ConfigError(
      `invalid transport option ${field === '' ? '' : `"${field}" `}: ${issue?.message ?? 'invalid'}`,
      {
        field,
        cause: parsed.error,
      },
    );
  }
  return parsed.data;
}

/**
 * A token request sent as the transport sends its own: on its own connections when it has them,
 * else through the dispatcher; with the token request's timeout, and no middleware.
 */
function tokenSender(
  ownConnections: OwnConnections | undefined,
  getDispatcher: () => Dispatcher,
  clock: Clock,
): TokenHttpSend {
  return async ({ url, method, headers, body, timeoutMs }) => {
    const request: TransportRequest = {
      operation: 'auth.token',
      method,
      url,
      headers,
      ...(body === undefined ? {} : { body }),
    };
    const timeouts = { headersTimeoutMs: timeoutMs, bodyTimeoutMs: timeoutMs };
    if (ownConnections !== undefined && fitsOwnConnections(request)) {
      try {
        const response = await ownConnections.send(request, 0, timeouts);
        return { status: response.head.status, headers: response.head.headers, body: response.body };
      } catch (error) {
        throw transportErrorFrom(error, request);
      }
    }
    const response = await createDispatchHandler(getDispatcher, timeouts)(request, {
      clock,
      attempt: 0,
      retries: [],
    });
    return { status: response.status, headers: response.headers, body: response.body };
  };
}

/**
 * Creates a transport: tracing → metrics → errors → rate-limit → retry → auth → redirect →
 * dispatch, plus your middleware where you place it.
 * @public
 */
export function createTransport(options: TransportOptions = {}): Transport {
  const resolved = resolveTransportOptions(options);
  let ownAgent: Agent | undefined;
  const getDispatcher = (): Dispatcher => {
    if (resolved.dispatcher !== undefined) return resolved.dispatcher;
    ownAgent ??= new Agent({
      connections: resolved.connections,
      keepAliveTimeout: resolved.keepAliveTimeoutMs,
      connect: { timeout: resolved.connectTimeoutMs },
    });
    return ownAgent;
  };
  const metrics =
    resolved.metrics === undefined
      ? undefined
      : createTransportMetrics(resolved.metrics.registry, resolved.metrics.prefix);
  const ownConnections =
    resolved.dispatcher === undefined && resolved.ownBlobConnections
      ? new OwnConnections({
          connections: resolved.connections,
          keepAliveTimeoutMs: resolved.keepAliveTimeoutMs,
          connectTimeoutMs: resolved.connectTimeoutMs,
          headersTimeoutMs: resolved.headersTimeoutMs,
          bodyTimeoutMs: resolved.bodyTimeoutMs,
        })
      : undefined;
  // An authorizer factory gets the transport's way of sending, so its token manager shares the
  // connections: `send` (the own connections, or the dispatcher), or the dispatcher, made when
  // first read. Neither starts undici unless the transport sends through a dispatcher.
  const authorizer =
    typeof resolved.authorizer === 'function'
      ? resolved.authorizer({
          get dispatcher() {
            return getDispatcher();
          },
          send: tokenSender(ownConnections, getDispatcher, resolved.clock),
          metrics,
        })
      : resolved.authorizer;
  const rateLimiter = new RateLimiter({
    clock: resolved.clock,
    ...resolved.rateLimit,
    ...(metrics === undefined
      ? {}
      : {
          onUpdate: (_key, info) => recordRateLimit(metrics, info),
          onWait: (_key, waitMs, reason) => metrics.throttleWaitSeconds.inc({ reason }, waitMs / 1000),
        }),
  });
  const passThrough: Middleware = (next) => next;
  let entries: PipelineEntry[] = [
    {
      name: 'tracing',
      middleware: tracingMiddleware(resolved.tracer),
    },
    { name: 'metrics', middleware: metrics === undefined ? passThrough : metricsMiddleware(metrics) },
    {
      name: 'errors',
      middleware: errorsMiddleware(resolved.secrets === undefined ? {} : { secrets: resolved.secrets }),
    },
    { name: 'rate-limit', middleware: rateLimiter.middleware() },
    {
      name: 'retry',
      middleware: retryMiddleware(resolved.retry),
    },
    {
      name: 'auth',
      middleware: authorizer === undefined ? passThrough : authMiddleware(authorizer),
    },
    { name: 'redirect', middleware: redirectMiddleware({ maxRedirects: resolved.maxRedirects }) },
  ];
  for (const custom of resolved.middleware) {
    const position =
      custom.before !== undefined ? { before: custom.before } : { after: custom.after ?? 'redirect' };
    entries = insertMiddleware(entries, { name: custom.name, middleware: custom.middleware }, position);
  }
  const dispatch = createDispatchHandler(getDispatcher, {
    headersTimeoutMs: resolved.headersTimeoutMs,
    bodyTimeoutMs: resolved.bodyTimeoutMs,
  });
  const own = ownConnections === undefined ? undefined : createOwnConnectionsHandler(ownConnections);
  const terminal: Handler = traceAttempts(
    own === undefined
      ? dispatch
      : (request, context) =>
          fitsOwnConnections(request) ? own(request, context) : dispatch(request, context),
  );
  const handler = composePipeline(entries, terminal);

  const transport: Transport = {
    rateLimit: (host) => rateLimiter.info(host),
    send(request) {
      const context: RequestContext = { clock: resolved.clock, attempt: 0, retries: [] };
      const headers = { 'user-agent': resolved.userAgent, ...request.headers };
      return handler({ ...request, headers }, context).catch((error: unknown) => {
        // A wait (backoff, rate limit) cut short by the signal rejects with the signal's reason;
        // callers get the same GHCR_ABORTED error as for an aborted exchange.
        if (request.signal?.aborted === true && !GhcrError.isInstance(error))
          throw transportErrorFrom(error, request);
        throw error;
      });
    },
    async close() {
      ownConnections?.close();
      if (ownAgent !== undefined) await ownAgent.close();
    },
  };
  detailsOf.set(transport, {
    pipeline: entries.map((e) => e.name),
    options: resolved,
    rateLimiter,
    metrics,
  });
  return transport;
}
