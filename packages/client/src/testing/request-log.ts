/**
 * Test helper: a transport middleware that records each attempt (method, URL, selected headers,
 * status or error). Not part of the published API.
 */
import { definedProps } from '@ghcr/oci-types';
import type { Middleware } from '@ghcr/transport';

/** One recorded attempt. @internal */
export interface LoggedRequest {
  readonly operation: string;
  readonly method: string;
  readonly url: string;
  readonly contentRange?: string;
  readonly range?: string;
  readonly authorization: boolean;
  status?: number;
  error?: string;
}

/** A request log and the middleware that fills it (place it innermost: after `redirect`). @internal */
export function createRequestLog(): {
  entries: LoggedRequest[];
  middleware: { name: string; middleware: Middleware };
} {
  const entries: LoggedRequest[] = [];
  const middleware: Middleware = (next) => async (request, context) => {
    const headers = request.headers ?? {};
    const entry: LoggedRequest = {
      operation: request.operation,
      method: request.method,
      url: request.url,
      authorization: headers.authorization !== undefined,
      ...definedProps({ contentRange: headers['content-range'], range: headers.range }),
    };
    entries.push(entry);
    try {
      const response = await next(request, context);
      entry.status = response.status;
      return response;
    } catch (error) {
      entry.error = error instanceof Error ? error.message : String(error);
      throw error;
    }
  };
  return { entries, middleware: { name: 'request-log', middleware } };
}
