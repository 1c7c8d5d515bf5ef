/**
 * Request bodies as undici accepts them (string, Buffer/Uint8Array, Readable, async iterable),
 * teed into a {@link BodyCapture} as they are read, so a streamed upload is recorded without
 * being held.
 */

import type { BodyCapture } from './body-capture.js';
import type { RecordedBody } from './cassette.js';

/** A request body as a dispatch carries it. @internal */
export type DispatchBody = unknown;

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

/**
 * Converts one chunk of a request body to bytes.
 * @internal
 */
export function chunkBytes(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return Buffer.from(chunk);
  return Buffer.from(String(chunk), 'utf8');
}

/**
 * The capture of one request body. `body` is what to dispatch in place of the original (a
 * generator that tees into the capture, or the original bytes); `result()` resolves with the
 * body reference once the body has been read, or with what was read so far when sealed early.
 * @internal
 */
export interface RequestBodyTee {
  readonly body: DispatchBody;
  /** The recorded body; `seal()` first when the exchange ended before the body was read. */
  result(): Promise<RecordedBody | null>;
  /** Stops capturing (further chunks pass through unrecorded) and finishes what was captured. */
  seal(): Promise<RecordedBody | null>;
}

/**
 * Tees a dispatch body into `capture`. Bodies it cannot read without consuming them (FormData,
 * Blob) are passed through and recorded as `null`.
 * @internal
 */
export function teeRequestBody(body: DispatchBody, createCapture: () => BodyCapture): RequestBodyTee {
  if (body === undefined || body === null) {
    const none = Promise.resolve(null);
    return { body, result: () => none, seal: () => none };
  }
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const capture = createCapture();
    capture.write(chunkBytes(body));
    const done = capture.finish();
    return { body, result: () => done, seal: () => done };
  }
  if (!isAsyncIterable(body)) {
    const none = Promise.resolve(null);
    return { body, result: () => none, seal: () => none };
  }
  const capture = createCapture();
  let sealed = false;
  let finishing: Promise<RecordedBody | null> | undefined;
  let resolveDone: (value: Promise<RecordedBody | null>) => void = () => {};
  const done = new Promise<RecordedBody | null>((resolve) => {
    resolveDone = resolve;
  });
  const finish = (): Promise<RecordedBody | null> => {
    if (finishing === undefined) {
      sealed = true;
      finishing = capture.finish();
      resolveDone(finishing);
    }
    return finishing;
  };
  const source = body;
  async function* tee(): AsyncGenerator<Buffer, void, undefined> {
    try {
      for await (const chunk of source) {
        const bytes = chunkBytes(chunk);
        if (!sealed && !capture.write(bytes)) await capture.waitForDrain();
        yield bytes;
      }
    } finally {
      void finish().catch(() => {});
    }
  }
  return { body: tee(), result: () => done, seal: finish };
}
