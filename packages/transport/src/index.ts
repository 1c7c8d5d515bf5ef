/**
 * `@ghcr/transport`: the undici request pipeline of the `@ghcr/*` toolkit.
 *
 * @packageDocumentation
 */

export { type Authorizer, authMiddleware, type RegistryAuthTarget } from './auth-middleware.js';
export { errorsMiddleware } from './errors-middleware.js';
export {
  createTransportMetrics,
  metricsMiddleware,
  recordTokenEvent,
  type TransportMetrics,
} from './metrics.js';
export {
  createOperationTracing,
  type OperationSpanOptions,
  type OperationTracing,
  type OperationTracingOptions,
} from './operation-tracing.js';
export {
  composePipeline,
  DEFAULT_PIPELINE_ORDER,
  insertMiddleware,
  type PipelinePosition,
} from './pipeline.js';
export { type RateLimitEvent, RateLimiter, type RateLimiterOptions } from './rate-limiter.js';
export { redirectMiddleware } from './redirect.js';
export { createRegistryAuthorizer, type RegistryAuthorizerOptions } from './registry-authorizer.js';
export { type RetryOptions, retryMiddleware } from './retry.js';
export { type TlsCertificateProblem, tlsCertificateProblem } from './tls-certificate.js';
export { recordSpanError, traceAttempts, tracingMiddleware } from './tracing.js';
export {
  createTransport,
  type ResolvedTransportOptions,
  type Transport,
  type TransportDetails,
  transportDetails,
  transportOptionsSchema,
} from './transport.js';
export type {
  AuthorizerFactory,
  TransportAuthParts,
  TransportMetricsOptions,
  TransportMiddlewareOptions,
  TransportOptions,
  TransportRateLimitOptions,
  TransportRetryOptions,
} from './transport-options.js';
export type {
  AuthHint,
  Handler,
  Middleware,
  PipelineEntry,
  RequestBody,
  RequestContext,
  ResponseBody,
  TransportRequest,
  TransportResponse,
  ViewBody,
  ViewConsumer,
} from './types.js';
