import { GhcrError, redactUrl } from '@ghcr/oci-types';
import type { Attributes, SpanKind, SpanStatusCode, Tracer } from '@opentelemetry/api';
import type { Handler, Middleware } from './types.js';

// The values of the API's enums, spelled out so that importing this package does not load
// @opentelemetry/api (~35 ms of start-up) in processes that never trace: the tracer is passed in.
/** `SpanKind.INTERNAL` */
const SPAN_KIND_INTERNAL = 0 as SpanKind.INTERNAL;
/** `SpanKind.CLIENT` */
const SPAN_KIND_CLIENT = 2 as SpanKind.CLIENT;
/** `SpanStatusCode.ERROR` */
const SPAN_STATUS_ERROR = 2 as SpanStatusCode.ERROR;

/**
 * Opens a span per operation (outermost layer). Per-attempt HTTP spans come from
 * {@link traceAttempts} around the terminal dispatch. Without a registered OpenTelemetry provider
 * the API's tracer is a no-op.
 * @public
 */
export function tracingMiddleware(tracer: Tracer): Middleware {
  return (next) => async (request, context) =>
    tracer.startActiveSpan(
      request.operation,
      { kind: SPAN_KIND_INTERNAL, attributes: { 'ghcr.operation': request.operation } },
      async (span) => {
        context.operationSpan = span;
        try {
          const response = await next(request, context);
          span.setAttribute('http.response.status_code', response.status);
          span.setAttribute('ghcr.retry_count', context.retries.length);
          return response;
        } catch (error) {
          span.setAttribute('ghcr.retry_count', context.retries.length);
          recordError(span, error);
          throw error;
        } finally {
          span.end();
        }
      },
    );
}

function recordError(
  span: {
    setStatus: (s: { code: SpanStatusCode; message?: string }) => void;
    setAttribute: (k: string, v: string | number) => void;
  },
  error: unknown,
): void {
  const code = GhcrError.isInstance(error) ? error.code : 'GHCR_INTERNAL';
  span.setAttribute('error.type', code);
  if (GhcrError.isInstance(error) && error.http !== undefined)
    span.setAttribute('http.response.status_code', error.http.status);
  // The message of a GhcrError carries only redacted URLs; other errors get their code only.
  span.setStatus({ code: SPAN_STATUS_ERROR, message: GhcrError.isInstance(error) ? error.message : code });
}

/**
 * Wraps the terminal handler so each HTTP attempt is a CLIENT span with the semantic-convention
 * attributes (method, redacted url.full, server address and port, status, resend count).
 * @public
 */
export function traceAttempts(tracer: Tracer, terminal: Handler): Handler {
  return (request, context) => {
    const url = new URL(request.url);
    const attributes: Attributes = {
      'http.request.method': request.method,
      'url.full': redactUrl(request.url),
      'server.address': url.hostname,
      'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      'ghcr.operation': request.operation,
    };
    if (context.attempt > 0) attributes['http.request.resend_count'] = context.attempt;
    return tracer.startActiveSpan(
      `${request.method}`,
      { kind: SPAN_KIND_CLIENT, attributes },
      async (span) => {
        try {
          const response = await terminal(request, context);
          span.setAttribute('http.response.status_code', response.status);
          if (response.status >= 400) {
            span.setAttribute('error.type', String(response.status));
            span.setStatus({ code: SPAN_STATUS_ERROR });
          }
          return response;
        } catch (error) {
          recordError(span, error);
          throw error;
        } finally {
          span.end();
        }
      },
    );
  };
}
