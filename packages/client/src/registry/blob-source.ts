import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { InvalidInputError } from '@ghcr/oci-types';

/**
 * Content that can be read again from any byte offset, so an upload can resume after a failure
 * without holding the blob in memory: a file, a Buffer, or a blob in another registry (read with
 * `Range`, see `Blobs.source`).
 * @public
 */
export interface BlobSource {
  /** Total bytes, when known without reading (a file's size). If omitted, a first pass measures it. */
  readonly size?: number;
  /** A fresh stream of the content starting at `offset`. Called again after a failure. */
  open(offset: number, signal?: AbortSignal): Readable | AsyncIterable<Uint8Array>;
}

/**
 * What `Blobs.upload` accepts: bytes in memory, or a re-readable {@link BlobSource}.
 * @public
 */
export type BlobInput = Uint8Array | BlobSource;

/**
 * A {@link BlobSource} over bytes already in memory (no copy is made).
 * @public
 */
export function bufferSource(bytes: Uint8Array): BlobSource {
  return {
    size: bytes.byteLength,
    open(offset) {
      // One chunk at a time keeps the stream's internal buffer small.
      const view = bytes.subarray(offset);
      const piece = 256 * 1024;
      return Readable.from(
        (function* pieces() {
          for (let at = 0; at < view.byteLength; at += piece) yield view.subarray(at, at + piece);
        })(),
        { objectMode: false },
      );
    },
  };
}

/**
 * A {@link BlobSource} over a file: its size is read now, and every `open(offset)` streams from that
 * byte. The file must not change while it is uploaded (the registry checks the digest at the end).
 * @public
 */
export async function fileSource(path: string): Promise<BlobSource> {
  const info = await stat(path);
  if (!info.isFile()) {
    throw new InvalidInputError(`"${path}" is not a regular file; give the path of the blob's file`, {
      input: path,
    });
  }
  return {
    size: info.size,
    open(offset, signal) {
      return createReadStream(path, {
        start: offset,
        highWaterMark: 256 * 1024,
        ...(signal ? { signal } : {}),
      });
    },
  };
}

/** Normalises a {@link BlobInput}. @internal */
export function toBlobSource(input: BlobInput): BlobSource {
  if (input instanceof Uint8Array) return bufferSource(input);
  if (typeof input === 'object' && input !== null && typeof input.open === 'function') return input;
  throw new InvalidInputError(
    'blob content must be a Uint8Array/Buffer or a BlobSource ({ size?, open(offset) }); for a file use fileSource(path)',
  );
}

/** Closes a stream or iterator opened from a source (idempotent, never throws). @internal */
export function closeQuietly(stream: Readable | AsyncIterable<Uint8Array> | AsyncIterator<Uint8Array>): void {
  try {
    if (stream instanceof Readable) {
      stream.destroy();
      return;
    }
    const iterator = stream as Partial<AsyncIterator<Uint8Array>>;
    if (typeof iterator.return === 'function') {
      iterator.return().catch(() => {});
    }
  } catch {
    // Closing is best effort.
  }
}
