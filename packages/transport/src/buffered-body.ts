import { Readable } from 'node:stream';
import type { ResponseBody, TransportResponse } from './types.js';

/** At most this much of a body is read when a middleware must look inside an error response. @internal */
export const PEEK_LIMIT_BYTES = 8 * 1024;

/**
 * Reads up to `limit` bytes of a body as text and releases the rest of it.
 * @internal
 */
export async function readBodyText(body: ResponseBody, limit = PEEK_LIMIT_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buffer = Buffer.from(chunk);
      chunks.push(buffer);
      size += buffer.byteLength;
      if (size >= limit) break;
    }
  } catch {
    // A body that fails mid-read still yields what arrived; the status says enough.
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/**
 * A response body made from text already read, so a middleware that peeked at an error body can
 * still hand the response on.
 * @internal
 */
export function bufferedBody(text: string): ResponseBody {
  const bytes = Buffer.from(text, 'utf8');
  const stream = Readable.from([bytes]) as Readable & Partial<ResponseBody>;
  return Object.assign(stream, {
    text: async () => text,
    json: async () => JSON.parse(text) as unknown,
    arrayBuffer: async () =>
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    dump: async () => {
      stream.destroy();
    },
  }) as unknown as ResponseBody;
}

/** Returns a copy of `response` whose body is `text`. @internal */
export function withBufferedBody(response: TransportResponse, text: string): TransportResponse {
  return { ...response, body: bufferedBody(text) };
}

/** One header value (the first when repeated). @internal */
export function headerValue(headers: TransportResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
