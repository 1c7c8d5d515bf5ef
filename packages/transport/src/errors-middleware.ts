import { errorFromResponse } from '@ghcr/oci-types';
import { readBodyText } from './buffered-body.js';
import type { Middleware } from './types.js';

/**
 * Turns a final response that is neither 2xx nor listed in `acceptStatus` into the matching
 * GhcrError (status and body mapped by `errorFromResponse`; at most 8 KiB of the body is read).
 * The error's message counts the attempts the retry layer made.
 * @public
 */
export function errorsMiddleware(options: { readonly secrets?: () => Iterable<string> } = {}): Middleware {
  return (next) => async (request, context) => {
    const response = await next(request, context);
    if (
      (response.status >= 200 && response.status < 300) ||
      request.acceptStatus?.includes(response.status) === true
    ) {
      return response;
    }
    const body = await readBodyText(response.body);
    throw errorFromResponse({
      method: request.method,
      url: request.url,
      status: response.status,
      headers: response.headers,
      body,
      now: context.clock.now(),
      attempts: context.retries.length + 1,
      ...(options.secrets === undefined ? {} : { secrets: options.secrets() }),
    });
  };
}
