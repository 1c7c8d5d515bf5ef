import type { Readable } from 'node:stream';
import { UploadError } from '@ghcr/oci-types';
import { closeQuietly } from './blob-source.js';

/**
 * Cuts one stream of a blob into consecutive request bodies of exact lengths, without buffering a
 * chunk: each body is a one-shot async iterable that pulls from the source as the request sends,
 * keeping at most the remainder of one source piece between two bodies.
 * @internal
 */
export class ChunkReader {
  readonly #iterator: AsyncIterator<Uint8Array>;
  readonly #stream: Readable | AsyncIterable<Uint8Array>;
  #leftover: Uint8Array | undefined;
  #closed = false;
  /** Bytes handed out so far (from the offset the stream was opened at). */
  consumed = 0;

  constructor(stream: Readable | AsyncIterable<Uint8Array>) {
    this.#stream = stream;
    this.#iterator = stream[Symbol.asyncIterator]();
  }

  /**
   * A body of exactly `length` bytes. It must be consumed fully before the next `take`.
   * @throws UploadError (through the body) when the source ends early.
   */
  take(length: number, describe: string): AsyncIterable<Uint8Array> {
    const reader = this;
    return {
      async *[Symbol.asyncIterator]() {
        let remaining = length;
        while (remaining > 0) {
          const piece = await reader.#next();
          if (piece === undefined) {
            throw new UploadError(
              `${describe}: the source ended ${remaining} bytes early; it must yield exactly the size it declared, and the same bytes each time it is opened`,
              { isRetryable: false },
            );
          }
          if (piece.byteLength > remaining) {
            reader.#leftover = piece.subarray(remaining);
            reader.consumed += remaining;
            yield piece.subarray(0, remaining);
            remaining = 0;
          } else {
            reader.consumed += piece.byteLength;
            remaining -= piece.byteLength;
            yield piece;
          }
        }
      },
    };
  }

  /** True when the source has nothing after what was taken. */
  async atEnd(): Promise<boolean> {
    const piece = await this.#next();
    if (piece === undefined) return true;
    this.#leftover = piece;
    return false;
  }

  async #next(): Promise<Uint8Array | undefined> {
    if (this.#leftover !== undefined) {
      const piece = this.#leftover;
      this.#leftover = undefined;
      return piece;
    }
    for (;;) {
      const result = await this.#iterator.next();
      if (result.done === true) return undefined;
      const value: unknown = result.value;
      const piece =
        value instanceof Uint8Array
          ? value
          : typeof value === 'string'
            ? Buffer.from(value, 'utf8')
            : undefined;
      if (piece === undefined) {
        throw new UploadError('the blob source yielded something other than bytes; yield Uint8Array chunks', {
          isRetryable: false,
        });
      }
      if (piece.byteLength > 0) return piece;
    }
  }

  /** Releases the source stream. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#stream);
    closeQuietly(this.#iterator);
  }
}
