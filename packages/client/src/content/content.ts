import { Readable } from 'node:stream';
import {
  type Descriptor,
  DigestMismatchError,
  definedProps,
  digestOf,
  GhcrErrorCode,
  ProtocolError,
} from '@ghcr/oci-types';
import type { ViewConsumer } from '@ghcr/transport';
import { type BlobInput, type BlobSource, closeQuietly, toBlobSource } from '../registry/blob-source.js';
import { hasViews } from '../registry/each-chunk.js';

/**
 * Reads a whole (small) content into memory, refusing more than `maxBytes`.
 * @throws ProtocolError `GHCR_MANIFEST_TOO_LARGE`.
 * @internal
 */
export async function readAllCapped(
  input: BlobInput,
  maxBytes: number,
  what: string,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  if (input instanceof Uint8Array) {
    if (input.byteLength > maxBytes) throw tooLarge(what, input.byteLength, maxBytes);
    return input;
  }
  const source = toBlobSource(input);
  if (source.size !== undefined && source.size > maxBytes) throw tooLarge(what, source.size, maxBytes);
  const stream = source.open(0, signal);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      total += chunk.byteLength;
      if (total > maxBytes) throw tooLarge(what, total, maxBytes);
      chunks.push(chunk);
    }
  } finally {
    closeQuietly(stream);
  }
  return Buffer.concat(chunks);
}

function tooLarge(what: string, size: number, maxBytes: number): ProtocolError {
  return new ProtocolError(`${what} has ${size} bytes or more, over the ${maxBytes}-byte limit`, {
    code: GhcrErrorCode.MANIFEST_TOO_LARGE,
  });
}

/**
 * Checks in-memory bytes against a descriptor's size and digest.
 * @throws ProtocolError `GHCR_SIZE_MISMATCH`, DigestMismatchError.
 * @internal
 */
export function checkBytes(
  bytes: Uint8Array,
  descriptor: Pick<Descriptor, 'digest' | 'size'>,
  what: string,
): void {
  if (bytes.byteLength !== descriptor.size) {
    throw new ProtocolError(
      `${what} has ${bytes.byteLength} bytes but its descriptor says ${descriptor.size}; the descriptor or the content is wrong`,
      { code: GhcrErrorCode.SIZE_MISMATCH },
    );
  }
  const algorithm = descriptor.digest.startsWith('sha512:') ? 'sha512' : 'sha256';
  const actual = digestOf(bytes, algorithm);
  if (actual !== descriptor.digest) {
    throw new DigestMismatchError(
      `${what} hashes to ${actual}, not ${descriptor.digest}; the content was corrupted or does not belong to this descriptor`,
      { expected: descriptor.digest, actual },
    );
  }
}

/**
 * A source whose streams report, as they are read, the byte offset reached (from the offset each
 * was opened at, so a restarted transfer reports going back).
 * @internal
 */
export function countingSource(source: BlobSource, onProgress: (bytesDone: number) => void): BlobSource {
  return {
    ...definedProps({ size: source.size }),
    open(offset, signal, options) {
      const inner = source.open(offset, signal, options);
      onProgress(offset);
      let done = offset;
      const counted = Readable.from(
        (async function* counted() {
          try {
            for await (const chunk of inner) {
              done += chunk.byteLength;
              onProgress(done);
              yield chunk;
            }
          } finally {
            closeQuietly(inner);
          }
        })(),
        { objectMode: false },
      );
      if (!hasViews(inner)) return counted;
      // A source that hands out views (a blob read from a registry) keeps doing so through the
      // count, for an upload that writes them to its socket as they are (`ViewBody`).
      counted.once('close', () => closeQuietly(inner));
      return Object.assign(counted, {
        eachView: (onView: ViewConsumer): Promise<void> =>
          inner.eachView((view) => {
            done += view.byteLength;
            onProgress(done);
            return onView(view);
          }),
      });
    },
  };
}

/**
 * Drops the first `skip` bytes of a stream (a source that can only start at byte 0).
 * @internal
 */
export async function* skipBytes(
  stream: AsyncIterable<Uint8Array>,
  skip: number,
): AsyncGenerator<Uint8Array> {
  let remaining = skip;
  for await (const chunk of stream) {
    if (remaining >= chunk.byteLength) {
      remaining -= chunk.byteLength;
      continue;
    }
    yield remaining > 0 ? chunk.subarray(remaining) : chunk;
    remaining = 0;
  }
}

/** `{ signal }` when defined (exactOptionalPropertyTypes). @internal */
export function signalOption(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}
