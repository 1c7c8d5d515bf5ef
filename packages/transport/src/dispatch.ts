import { GhcrError, GhcrErrorCode, redactUrl, TransportError } from '@ghcr/oci-types';
import { type Dispatcher, request as undiciRequest } from 'undici';
import { bodyForAttempt } from './body.js';
import { tlsCertificateAdvice, tlsCertificateProblem } from './tls-certificate.js';
import type { Handler, ResponseBody, TransportRequest } from './types.js';

/**
 * Timeouts of the terminal dispatch.
 * @public
 */
export interface DispatchTimeouts {
  /** Milliseconds to wait for response headers. */
  readonly headersTimeoutMs: number;
  /** Milliseconds a response body may stay idle between chunks. */
  readonly bodyTimeoutMs: number;
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
/** Failures before the registry accepted a connection: it never answered. */
const NEVER_ANSWERED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * What to do about a failed exchange, fitting how it failed: a host that never answered is an
 * address (or DNS, or firewall) problem; one that answered and broke off is worth a retry, and if
 * it keeps happening, a look at whatever sits in between.
 * @internal
 */
export function connectionAdvice(code: string): { readonly connected: boolean; readonly advice: string } {
  if (code === 'ENOTFOUND' || code === 'EAI_NONAME' || code === 'EAI_AGAIN') {
    return {
      connected: false,
      advice: 'the host name did not resolve: check the registry address and your DNS',
    };
  }
  if (NEVER_ANSWERED_CODES.has(code)) {
    return {
      connected: false,
      advice: 'the registry never answered: check that it is running and the address (and port) is right',
    };
  }
  return {
    connected: true,
    advice:
      'the registry was reached but the connection broke off: retry; if it keeps happening, check a proxy or firewall in between',
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the server';
  }
}

/**
 * Maps a failure of the HTTP exchange (not an HTTP status) to a {@link TransportError}.
 * @internal
 */
export function transportErrorFrom(error: unknown, request: TransportRequest): Error {
  if (GhcrError.isInstance(error)) return error;
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const name = error instanceof Error ? error.name : '';
  const where = `${request.method} "${redactUrl(request.url)}"`;
  if (name === 'AbortError' || code === 'UND_ERR_ABORTED' || request.signal?.aborted === true) {
    return new TransportError(`${where}: aborted`, {
      code: GhcrErrorCode.ABORTED,
      cause: error,
      isRetryable: false,
    });
  }
  if (TIMEOUT_CODES.has(code)) {
    return new TransportError(
      `${where}: timed out (${code}); the registry is slow or unreachable, retry later or raise the timeout`,
      {
        code: GhcrErrorCode.TIMEOUT,
        cause: error,
        connected: code !== 'UND_ERR_CONNECT_TIMEOUT',
      },
    );
  }
  const detail = error instanceof Error ? error.message : String(error);
  const certificate = tlsCertificateProblem(error);
  if (certificate !== undefined) {
    return new TransportError(
      `${where}: ${tlsCertificateAdvice(certificate, hostOf(request.url))} (${detail}${code === '' ? '' : `, ${code}`})`,
      { code: GhcrErrorCode.CONNECTION_FAILED, cause: error, isRetryable: false },
    );
  }
  const { connected, advice } = connectionAdvice(code);
  return new TransportError(
    `${where}: connection failed: ${detail}${code === '' ? '' : ` (${code})`}; ${advice}`,
    {
      code: GhcrErrorCode.CONNECTION_FAILED,
      cause: error,
      isRetryable: CONNECTION_ERROR_CODES.has(code) || code === '',
      connected,
    },
  );
}

/**
 * The terminal handler: sends one HTTP exchange through undici's dispatcher API (not `fetch`:
 * faster for streamed digests, see DESIGN.md). Never follows redirects itself.
 * @internal
 */
export function createDispatchHandler(getDispatcher: () => Dispatcher, timeouts: DispatchTimeouts): Handler {
  return async (request, context) => {
    const body = bodyForAttempt(
      request.body,
      context.attempt,
      `${request.method} "${redactUrl(request.url)}"`,
    );
    const headers: Record<string, string> = { ...request.headers };
    if (request.contentLength !== undefined && headers['content-length'] === undefined) {
      headers['content-length'] = String(request.contentLength);
    }
    try {
      const response = await undiciRequest(request.url, {
        dispatcher: getDispatcher(),
        method: request.method as Dispatcher.HttpMethod,
        headers,
        body: body ?? null,
        signal: request.signal,
        headersTimeout: timeouts.headersTimeoutMs,
        bodyTimeout: timeouts.bodyTimeoutMs,
        // undici closes the connection after every HEAD unless told otherwise, in case a server
        // sends a body with it (undici issue #258). Registries answer HEAD as HTTP says, and a
        // client asks HEAD for every blob it might skip: without this, each of those checks cost a
        // new TCP (and, against ghcr.io, TLS) connection.
        ...(request.method === 'HEAD' ? { reset: false } : {}),
      });
      return {
        status: response.statusCode,
        headers: response.headers as Record<string, string | string[] | undefined>,
        body: response.body as unknown as ResponseBody,
        url: redactUrl(request.url),
      };
    } catch (error) {
      throw transportErrorFrom(error, request);
    }
  };
}
