import type { Digest } from '@ghcr/oci-types';

/**
 * An inclusive byte range of a blob (`bytes=start-end`).
 * @public
 */
export interface ByteRange {
  /** First byte, zero-based. */
  readonly start: number;
  /** Last byte, inclusive. */
  readonly end: number;
}

/**
 * The outcome of {@link BlobWriter.commit}.
 * @public
 */
export type BlobCommitResult =
  | { readonly ok: true; readonly digest: Digest; readonly size: number }
  | { readonly ok: false; readonly actual: Digest; readonly size: number };

/**
 * An in-progress blob write (one upload session). Bytes are hashed as they are written; nothing is
 * visible in the store until {@link BlobWriter.commit} succeeds.
 * @public
 */
export interface BlobWriter {
  /** Bytes written so far. */
  readonly size: number;
  /** Appends a chunk; resolves once the store has taken it (this is the backpressure point). */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Finishes the write. When the content hashes to `expected`, stores it under that digest (a
   * no-op when the store already has it) and returns `ok: true`; otherwise discards nothing and
   * returns `ok: false` with the actual digest, leaving the writer usable (the client may retry).
   */
  commit(expected: Digest): Promise<BlobCommitResult>;
  /** Discards everything written. Idempotent. */
  abort(): Promise<void>;
}

/**
 * Content-addressed bytes (blobs and manifest bytes) plus the simulation's metadata document.
 * Implementations: memory (tests) and disk (`ghcr serve --data DIR`).
 * @public
 */
export interface BlobStore {
  /** Which implementation this is. */
  readonly kind: 'memory' | 'disk';
  /** The size of a stored blob, or undefined when the store does not hold it. Synchronous. */
  sizeOf(digest: Digest): number | undefined;
  /** Starts a streamed write. */
  createWriter(): BlobWriter;
  /** Streams a stored blob (or a range of it). Throws when absent: check {@link BlobStore.sizeOf} first. */
  read(digest: Digest, range?: ByteRange): AsyncIterable<Uint8Array>;
  /** Stores small content whole (manifests, configs, seeds) and returns its sha256 digest. */
  putBytes(bytes: Uint8Array): Promise<Digest>;
  /** Reads a whole blob into memory. Only for small content (manifests, configs). */
  readBytes(digest: Digest): Promise<Uint8Array>;
  /** Forgets a blob's bytes. Idempotent. */
  delete(digest: Digest): Promise<void>;
  /** Every stored digest. */
  digests(): Digest[];
  /** The saved metadata document, or undefined when none was saved yet. */
  loadMetadata(): unknown;
  /** Saves the metadata document (atomically on disk). */
  saveMetadata(document: unknown): void;
  /** Removes every blob and the metadata. */
  clear(): void;
}
