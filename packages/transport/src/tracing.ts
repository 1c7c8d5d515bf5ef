import { GhcrError, redactText, redactUrl } from '@ghcr/oci-types';
import type { Attributes, Span, SpanKind, SpanStatusCode, Tracer } from '@opentelemetry/api';
import { contextWithSpan, createTracingSource } from './otel.js';
import type { Handler, Middleware } from './types.js';

// The values of the API's enums, spelled out so that importing this package does not load
// @opentelemetry/api (~35 ms of start-up) in processes that never trace.
/** `SpanKind.INTERNAL` */
const SPAN_KIND_INTERNAL = 0 as SpanKind.INTERNAL;
/** `SpanKind.CLIENT` */
const SPAN_KIND_CLIENT = 2 as SpanKind.CLIENT;
/** `SpanStatusCode.ERROR` */
const SPAN_STATUS_ERROR = 2 as SpanStatusCode.ERROR;

/**
 * Opens the spans of a request (outermost layer). The tracer is `tracer`, or when omitted one of
 * the tracer provider registered globally with `@opentelemetry/api` (no spans, and nothing loaded,
 * when there is none).
 *
 * A request sent inside an operation (`request.traceContext`, as `@ghcr/client` sets it) gets no
 * span of its own: its HTTP attempts (from {@link traceAttempts}) become children of the
 * operation's span. Any other request gets an INTERNAL span named by `request.operation`, a child
 * of the active context, and its attempts become that span's children.
 * @public
 */
export function tracingMiddleware(tracer?: Tracer): Middleware {
  const source = createTracingSource(tracer);
  return (next) => async (request, context) => {
    const tracing = source();
    if (tracing === undefined) return next(request, context);
    if (request.traceContext !== undefined) {
      context.trace = { tracer: tracing.tracer, parent: request.traceContext };
      return next(request, context);
    }
    const span = tracing.tracer.startSpan(
      request.operation,
      { kind: SPAN_KIND_INTERNAL, attributes: { 'ghcr.operation': request.operation } },
      tracing.active(),
    );
    const parent = contextWithSpan(tracing.active(), span);
    context.operationSpan = span;
    context.trace = { tracer: tracing.tracer, parent };
    try {
      const response = await tracing.with(parent, () => next(request, context));
      span.setAttribute('http.response.status_code', response.status);
      span.setAttribute('ghcr.retry_count', context.retries.length);
      return response;
    } catch (error) {
      span.setAttribute('ghcr.retry_count', context.retries.length);
      recordSpanError(span, error);
      throw error;
    } finally {
      span.end();
    }
  };
}

/**
 * Marks `span` as failed by `error`: status ERROR, `error.type` (the GhcrError code, else
 * `GHCR_INTERNAL`), the HTTP status when the error has one, and the exception as an event. The
 * message of a GhcrError carries only redacted URLs and scrubbed text; any other error's message
 * and stack are passed through `redactText` first.
 * @public
 */
export function recordSpanError(span: Span, error: unknown): void {
  const isGhcr = GhcrError.isInstance(error);
  const code = isGhcr ? error.code : 'GHCR_INTERNAL';
  span.setAttribute('error.type', code);
  if (isGhcr && error.http !== undefined) span.setAttribute('http.response.status_code', error.http.status);
  if (error instanceof Error) {
    const message = isGhcr ? error.message : redactText(error.message);
    span.recordException({
      name: error.name,
      message,
      ...(error.stack === undefined ? {} : { stack: isGhcr ? error.stack : redactText(error.stack) }),
    });
  }
  span.setStatus({ code: SPAN_STATUS_ERROR, message: isGhcr ? error.message : code });
}

/**
 * Wraps the terminal handler so each HTTP attempt is a CLIENT span, a child of the request's span
 * or of the operation it was sent in (see {@link tracingMiddleware}), following the HTTP client
 * semantic conventions: span name the method; `http.request.method`, `url.full` (redacted: no
 * user info, no signature or token query values), `server.address`, `server.port`,
 * `http.response.status_code`, `http.request.resend_count` on a resend, `error.type` on failure.
 * @public
 */
export function traceAttempts(terminal: Handler): Handler {
  return (request, context) => {
    const trace = context.trace;
    if (trace === undefined) return terminal(request, context);
    const url = new URL(request.url);
    const attributes: Attributes = {
      'http.request.method': request.method,
      'url.full': redactUrl(request.url),
      'server.address': url.hostname,
      'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      'ghcr.operation': request.operation,
    };
    if (context.attempt > 0) attributes['http.request.resend_count'] = context.attempt;
    const span = trace.tracer.startSpan(request.method, { kind: SPAN_KIND_CLIENT, attributes }, trace.parent);
    return (async () => {
      try {
        const response = await terminal(request, context);
        span.setAttribute('http.response.status_code', response.status);
        if (response.status >= 400) {
          span.setAttribute('error.type', String(response.status));
          span.setStatus({ code: SPAN_STATUS_ERROR });
        }
        return response;
      } catch (error) {
        recordSpanError(span, error);
        throw error;
      } finally {
        span.end();
      }
    })();
  };
}
