import type { TransportResponse } from '@ghcr/transport';

/** One header value (the first when repeated). @internal */
export function header(response: TransportResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Drops a response body without reading it (closing the connection). undici reports the abort as
 * an `error` event; nobody is reading, so it is swallowed here instead of surfacing as uncaught.
 * @internal
 */
export function release(body: TransportResponse['body']): void {
  body.on('error', () => {});
  body.destroy();
}

/** Releases a response body that is not needed. @internal */
export async function discard(response: TransportResponse): Promise<void> {
  try {
    await response.body.dump();
  } catch {
    // Nothing to do: the connection is released either way.
  }
}
