import type { BlobWriter } from '../state/blob-store.js';

/**
 * Iterates a request body chunk by chunk (nothing is buffered beyond one chunk).
 * @internal
 */
export async function* bodyChunks(request: Request): AsyncGenerator<Uint8Array> {
  const body = request.body;
  if (body === null) return;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (value.byteLength > 0) yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Reads a small body whole, stopping (and cancelling the rest) once it exceeds `max` bytes.
 * @internal
 */
export async function readCapped(
  request: Request,
  max: number,
): Promise<
  { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly received: number }
> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const body = request.body;
  if (body === null) return { ok: true, bytes: new Uint8Array(0) };
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return { ok: false, received: size };
    }
    chunks.push(value);
  }
  return { ok: true, bytes: new Uint8Array(Buffer.concat(chunks)) };
}

/**
 * Streams a request body into a blob writer, awaiting each write (backpressure reaches the
 * client). Returns the number of bytes written, or the error that interrupted the body (the bytes
 * before it stay written, as on a registry that stores while it receives).
 * @internal
 */
export async function pipeBodyTo(
  request: Request,
  writer: BlobWriter,
): Promise<
  | { readonly ok: true; readonly written: number }
  | { readonly ok: false; readonly written: number; readonly error: unknown }
> {
  let written = 0;
  try {
    for await (const chunk of bodyChunks(request)) {
      await writer.write(chunk);
      written += chunk.byteLength;
    }
    return { ok: true, written };
  } catch (error) {
    return { ok: false, written, error };
  }
}

/** Discards a request body we will not read. @internal */
export async function discardBody(request: Request): Promise<void> {
  await request.body?.cancel().catch(() => {});
}

/**
 * A pull-based ReadableStream over an async iterable: bytes are produced only as fast as the
 * consumer reads them.
 * @internal
 */
export function streamOf(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel(reason) {
        await iterator.return?.(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** The value of a numeric header, or undefined when absent or not a non-negative integer. @internal */
export function numericHeader(request: Request, name: string): number | undefined {
  const value = request.headers.get(name);
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim());
}
