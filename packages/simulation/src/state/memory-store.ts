import { createHash, type Hash } from 'node:crypto';
import { type Digest, NotFoundError } from '@ghcr/oci-types';
import type { BlobCommitResult, BlobStore, BlobWriter, ByteRange } from './blob-store.js';

interface StoredBlob {
  readonly chunks: readonly Uint8Array[];
  readonly size: number;
}

/** Chunks that are small views of a much larger buffer are copied, so a blob never pins a pool. */
function own(chunk: Uint8Array): Uint8Array {
  return chunk.buffer.byteLength > chunk.byteLength * 2 && chunk.byteLength < 65536
    ? new Uint8Array(chunk)
    : chunk;
}

/** Computes `algorithm:hex` over chunks. */
function hashChunks(chunks: readonly Uint8Array[], algorithm: string): Digest {
  const hash = createHash(algorithm);
  for (const chunk of chunks) hash.update(chunk);
  return `${algorithm}:${hash.digest('hex')}` as Digest;
}

/** Yields the part of `chunks` in `range` without copying. @internal */
export function* sliceChunks(
  chunks: readonly Uint8Array[],
  range: ByteRange | undefined,
): Generator<Uint8Array> {
  if (range === undefined) {
    yield* chunks;
    return;
  }
  let offset = 0;
  for (const chunk of chunks) {
    const chunkEnd = offset + chunk.byteLength; // exclusive
    if (chunkEnd > range.start && offset <= range.end) {
      const from = Math.max(0, range.start - offset);
      const to = Math.min(chunk.byteLength, range.end + 1 - offset);
      yield chunk.subarray(from, to);
    }
    offset = chunkEnd;
    if (offset > range.end) return;
  }
}

function algorithmOf(digest: Digest): string {
  return digest.slice(0, digest.indexOf(':'));
}

/**
 * A {@link BlobStore} that keeps bytes in memory (as the chunks they arrived in: no
 * concatenation copy) and metadata nowhere. The default for tests.
 * @public
 */
export function createMemoryBlobStore(): BlobStore {
  const blobs = new Map<Digest, StoredBlob>();
  return {
    kind: 'memory',
    sizeOf: (digest) => blobs.get(digest)?.size,
    createWriter(): BlobWriter {
      let chunks: Uint8Array[] = [];
      let size = 0;
      let hash: Hash = createHash('sha256');
      return {
        get size() {
          return size;
        },
        async write(chunk) {
          if (chunk.byteLength === 0) return;
          const owned = own(chunk);
          chunks.push(owned);
          hash.update(owned);
          size += owned.byteLength;
        },
        async commit(expected): Promise<BlobCommitResult> {
          const algorithm = algorithmOf(expected);
          const actual =
            algorithm === 'sha256'
              ? (`sha256:${hash.copy().digest('hex')}` as Digest)
              : hashChunks(chunks, algorithm);
          if (actual !== expected) return { ok: false, actual, size };
          if (!blobs.has(actual)) blobs.set(actual, { chunks, size });
          return { ok: true, digest: actual, size };
        },
        async abort() {
          chunks = [];
          size = 0;
          hash = createHash('sha256');
        },
      };
    },
    async *read(digest, range) {
      const blob = blobs.get(digest);
      if (blob === undefined)
        throw new NotFoundError(`blob ${digest} is not in the store`, { resource: digest });
      yield* sliceChunks(blob.chunks, range);
    },
    async putBytes(bytes) {
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
      if (!blobs.has(digest)) blobs.set(digest, { chunks: [new Uint8Array(bytes)], size: bytes.byteLength });
      return digest;
    },
    async readBytes(digest) {
      const blob = blobs.get(digest);
      if (blob === undefined)
        throw new NotFoundError(`blob ${digest} is not in the store`, { resource: digest });
      return new Uint8Array(Buffer.concat(blob.chunks));
    },
    async delete(digest) {
      blobs.delete(digest);
    },
    digests: () => [...blobs.keys()],
    loadMetadata: () => undefined,
    saveMetadata: () => {},
    clear: () => blobs.clear(),
  };
}
