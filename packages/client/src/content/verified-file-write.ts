import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ContentVerifier } from '@ghcr/oci-types';
import { eachChunk, hasViews, type ViewSource } from '../registry/each-chunk.js';

/**
 * Bytes gathered before one `writev` to the file. While one batch is being written the next one
 * fills, so at most about twice this is held: a bounded amount, whatever the blob's size. 2 MiB,
 * as the write stream this replaces buffered: with 256 KiB a pull took 10-25 % longer (the socket
 * waited on the disk more often).
 */
const WRITE_BATCH_BYTES = 2 * 1024 * 1024;

/**
 * Bytes of each of the two batch buffers views are copied into (a source of views: the
 * transport's own connections). 512 KiB: against 2 MiB, a pull of 8 × 32 MiB peaked 11 MiB lower
 * (77 against 88 MiB) in the same time (0.91–1.08× over 12 alternated pairs; 256 KiB was 1.20×
 * slower for one 256 MiB blob). Views need no batch as large as the chunks' does: nothing is
 * allocated per read.
 */
const VIEW_BATCH_BYTES = 512 * 1024;

/**
 * Early write-backs (`fdatasync` of what is written so far, while the rest still arrives) running
 * at once in this process. Each holds one of libuv's four pool threads for as long as the disk
 * takes; more than one at a time would leave too few for the writes themselves.
 */
const MAX_EARLY_SYNCS = 1;
let earlySyncs = 0;

/**
 * Options of {@link writeVerifiedFile}.
 * @internal
 */
export interface VerifiedFileWriteOptions {
  /** Called with the bytes written so far after each chunk. */
  readonly onBytes?: (bytes: number) => void;
  /**
   * Start an `fdatasync` (not waited for) each time this many more bytes were written, so the
   * disk writes the blob back while the rest still arrives and the caller's final sync finds
   * little left to do. If omitted, none: only the caller syncs.
   */
  readonly syncEveryBytes?: number;
  readonly signal?: AbortSignal;
  /**
   * Where in the file the source's first byte goes (an entry of an archive written with others
   * at once). If omitted, 0.
   */
  readonly position?: number;
  /**
   * Batch buffers of earlier files, for a source of views to reuse; the two it used are put back
   * when it finished (at most 8 are kept). The caller owns the list: one per layout, so that a
   * pull of many blobs allocates its batches once. If omitted, each file allocates its own.
   */
  readonly spareBatches?: Buffer[];
}

/**
 * Writes `source` to the open file `handle` from its first byte (or `options.position`), feeding
 * every chunk to `verifier` first, and finishes the verifier at the end (so this rejects on a size
 * or digest mismatch after the last byte was written: the caller writes to a temporary file and
 * renames it only once this resolved). Resolves with the bytes written. Chunks are written in
 * batches of 2 MiB with one `writev` each, one batch in flight while the next fills, and the source
 * is not read further while both are full. A source with `eachView` (a blob read on the
 * transport's own connections) is read through it instead: its views are copied into two reused
 * 512 KiB batch buffers, so nothing is allocated per read.
 *
 * This replaces `pipeline(source, verifying Transform, WriteStream)`: no stream stages between
 * the socket and the file, so each chunk costs a hash update and an array push (docs/benchmarks.md,
 * "Pull: one stream layer per chunk").
 * @internal
 */
export async function writeVerifiedFile(
  source: Readable | AsyncIterable<Uint8Array>,
  handle: FileHandle,
  verifier: ContentVerifier,
  options: VerifiedFileWriteOptions = {},
): Promise<number> {
  let written = 0;
  let syncedUpTo = 0;
  let syncing: Promise<void> | undefined;
  const syncEvery = options.syncEveryBytes;
  const maybeSync = (): void => {
    if (syncEvery === undefined || syncing !== undefined || earlySyncs >= MAX_EARLY_SYNCS) return;
    if (written - syncedUpTo < syncEvery) return;
    const upTo = written;
    earlySyncs += 1;
    syncing = handle.datasync().then(
      () => {
        earlySyncs -= 1;
        syncedUpTo = upTo;
        syncing = undefined;
      },
      (error: unknown) => {
        earlySyncs -= 1;
        throw error;
      },
    );
    // A failed early sync fails the write (awaited below); until then it must not go unhandled.
    syncing.catch(() => {});
  };
  // Each batch is taken as soon as it is full and written after the one before it, at its own
  // position in the file; while it waits for that one, the source waits too (at most two
  // batches held: one being written, one waiting).
  const start = options.position ?? 0;
  let position = start;
  let writing: Promise<void> | undefined;
  /** Starts writing `pieces` after the write before it; returns that one (the source waits for it). */
  const startWrite = (pieces: Uint8Array[], bytes: number): Promise<void> | undefined => {
    const at = position;
    position += bytes;
    const before = writing;
    const write = (async () => {
      if (before !== undefined) await before;
      options.signal?.throwIfAborted();
      await writeAll(handle, pieces, at);
      written += bytes;
      maybeSync();
    })();
    // Awaited at the end (each write awaits the one before it, so the last one settles after all
    // of them, and fails with the first failure); until then a failure must not go unhandled.
    write.catch(() => {});
    writing = write;
    return before;
  };
  if (hasViews(source)) {
    const spares = options.spareBatches;
    const batches = await writeViews(source, verifier, options, startWrite, spares);
    await writing;
    spares?.push(...batches.slice(0, Math.max(0, MAX_SPARE_BATCHES - spares.length)));
  } else {
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    const flush = (): Promise<void> | undefined => {
      const pieces = batch;
      const bytes = batchBytes;
      batch = [];
      batchBytes = 0;
      return startWrite(pieces, bytes);
    };
    await eachChunk(source, (piece) => {
      if (piece.byteLength === 0) return undefined;
      verifier.update(piece);
      options.onBytes?.(verifier.size);
      batch.push(piece);
      batchBytes += piece.byteLength;
      return batchBytes >= WRITE_BATCH_BYTES ? flush() : undefined;
    });
    if (batch.length > 0) flush();
    await writing;
  }
  if (syncing !== undefined) await syncing;
  verifier.finish();
  return written;
}

/** Spare batch buffers kept (`spareBatches`): two for each of four files written at once. */
const MAX_SPARE_BATCHES = 8;

/**
 * Reads a source that hands out views of a reused buffer (the transport's own connections): each
 * view is hashed, then copied into one of two batch buffers, which take turns being written.
 * While the batch to fill next is still being written, the source waits (and the view stays
 * valid). Resolves with the two batch buffers once the last batch's write started.
 */
async function writeViews(
  source: ViewSource,
  verifier: ContentVerifier,
  options: VerifiedFileWriteOptions,
  startWrite: (pieces: Uint8Array[], bytes: number) => Promise<void> | undefined,
  spares: Buffer[] | undefined,
): Promise<Buffer[]> {
  const batches = [
    spares?.pop() ?? Buffer.allocUnsafe(VIEW_BATCH_BYTES),
    spares?.pop() ?? Buffer.allocUnsafe(VIEW_BATCH_BYTES),
  ];
  let current = 0;
  let fill = 0;
  /** Settles when the batch now current may be filled (its last write done); undefined when it may. */
  let busy: Promise<void> | undefined;
  const flush = (): void => {
    const before = startWrite([(batches[current] as Buffer).subarray(0, fill)], fill);
    current ^= 1;
    fill = 0;
    // `before` is the write of the batch that is now current.
    if (before === undefined) return;
    const waiting = before.then(() => {
      if (busy === waiting) busy = undefined;
    });
    busy = waiting;
  };
  /**
   * Copies `bytes` in; a promise when the source must wait for a batch to be free. The rest of a
   * view is copied once that settles: a view stays valid until the promise its consumer returned
   * settles (`ViewConsumer`).
   */
  const place = (bytes: Uint8Array): Promise<void> | undefined => {
    let at = 0;
    while (at < bytes.byteLength) {
      if (busy !== undefined) {
        const rest = bytes.subarray(at);
        return busy.then(() => place(rest));
      }
      const taken = Math.min(VIEW_BATCH_BYTES - fill, bytes.byteLength - at);
      (batches[current] as Buffer).set(bytes.subarray(at, at + taken), fill);
      fill += taken;
      at += taken;
      if (fill === VIEW_BATCH_BYTES) flush();
    }
    return undefined;
  };
  await source.eachView((view) => {
    if (view.byteLength === 0) return undefined;
    verifier.update(view);
    options.onBytes?.(verifier.size);
    return place(view);
  });
  if (fill > 0) flush();
  return batches;
}

/**
 * `writev` until every byte of `pieces` is in the file at `position` (a short write continues
 * where it stopped).
 * @internal
 */
export async function writeAll(handle: FileHandle, pieces: Uint8Array[], position: number): Promise<void> {
  let rest = pieces;
  let at = position;
  for (;;) {
    const { bytesWritten } = await handle.writev(rest, at);
    at += bytesWritten;
    if (bytesWritten <= 0) throw new Error('the file took no bytes of a write');
    let skip = bytesWritten;
    let index = 0;
    while (index < rest.length && skip >= (rest[index]?.byteLength ?? 0)) {
      skip -= rest[index]?.byteLength ?? 0;
      index += 1;
    }
    if (index >= rest.length) return;
    const first = rest[index];
    if (first === undefined) return;
    rest = [first.subarray(skip), ...rest.slice(index + 1)];
  }
}
