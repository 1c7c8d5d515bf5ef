import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { InvalidInputError } from '@ghcr/oci-types';

/**
 * How a {@link BlobSource} stream is consumed, so the source can read with less memory.
 * @public
 */
export interface BlobOpenOptions {
  /**
   * The consumer holds at most this many chunks of the stream at once (a chunk is done with once
   * this many later chunks have been taken), so the source may read into a ring of this many
   * buffers and reuse each one instead of allocating a new buffer per chunk. Only a consumer that
   * copies each chunk out before taking more (a socket write) may set it. If omitted, every chunk
   * is a buffer of its own that the consumer may keep.
   */
  readonly recycleAfter?: number;
}

/**
 * Content that can be read again from any byte offset, so an upload can resume after a failure
 * without holding the blob in memory: a file, a Buffer, or a blob in another registry (read with
 * `Range`, see `Blobs.source`).
 * @public
 */
export interface BlobSource {
  /** Total bytes, when known without reading (a file's size). If omitted, a first pass measures it. */
  readonly size?: number;
  /**
   * A fresh stream of the content starting at `offset`. Called again after a failure. `options`
   * says how the stream is consumed (a source may ignore it).
   */
  open(offset: number, signal?: AbortSignal, options?: BlobOpenOptions): Readable | AsyncIterable<Uint8Array>;
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
    open(offset, signal, options = {}) {
      if (options.recycleAfter !== undefined && ringPays(info.size - offset, options, FILE_CHUNK_BYTES)) {
        return Readable.from(recycledFileChunks(path, offset, options.recycleAfter, signal), {
          objectMode: false,
        });
      }
      return createReadStream(path, {
        start: offset,
        highWaterMark: FILE_CHUNK_BYTES,
        ...(signal ? { signal } : {}),
      });
    },
  };
}

/** Bytes per read of a file source. */
const FILE_CHUNK_BYTES = 1024 * 1024;

/**
 * Whether reading `bytes` through a ring (`options.recycleAfter`) of `chunkBytes` buffers pays:
 * only when the ring comes round, i.e. some buffer is used twice. A blob that fits in the ring is
 * read with a plain file stream (a ring costs more to open than it saves there: 64×1 MiB pushed
 * through it took 1.19× the CPU).
 * @internal
 */
export function ringPays(bytes: number, options: BlobOpenOptions, chunkBytes: number): boolean {
  return options.recycleAfter !== undefined && bytes > chunkBytes * (options.recycleAfter + 1);
}

/**
 * A file's bytes from `offset` (to its end, or `length` bytes at most), read into a ring of
 * `ring` + 1 buffers of `chunkBytes` that are reused in turn (see
 * {@link BlobOpenOptions.recycleAfter}): no buffer is allocated per chunk, so a long read neither
 * grows the heap's external memory until a collection nor faults in fresh pages for every chunk
 * (a 256 MiB read: ~0.25 s less system CPU, ~30 MiB less peak RSS).
 * @internal
 */
export async function* recycledFileChunks(
  path: string,
  offset: number,
  ring: number,
  signal?: AbortSignal,
  chunkBytes = FILE_CHUNK_BYTES,
  length = Number.POSITIVE_INFINITY,
): AsyncGenerator<Buffer> {
  if (!Number.isSafeInteger(ring) || ring < 1) {
    throw new InvalidInputError(`recycleAfter must be a whole number of at least 1, got ${ring}`);
  }
  const handle = await open(path, 'r');
  try {
    const buffers: Buffer[] = [];
    let position = offset;
    const end = offset + length;
    for (let turn = 0; position < end; turn += 1) {
      signal?.throwIfAborted();
      const index = turn % (ring + 1);
      buffers[index] ??= Buffer.allocUnsafeSlow(chunkBytes);
      const buffer = buffers[index];
      const { bytesRead } = await handle.read(buffer, 0, Math.min(chunkBytes, end - position), position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
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
