import type { FileHandle } from 'node:fs/promises';
import { finished, Readable } from 'node:stream';
import type { ContentVerifier } from '@ghcr/oci-types';

/**
 * Bytes gathered before one `writev` to the file. While one batch is being written the next one
 * fills, so at most about twice this is held: a bounded amount, whatever the blob's size. 2 MiB,
 * as the write stream this replaces buffered: with 256 KiB a pull took 10-25 % longer (the socket
 * waited on the disk more often).
 */
const WRITE_BATCH_BYTES = 2 * 1024 * 1024;

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
}

/**
 * Writes `source` to the open file `handle` from its first byte, feeding every chunk to
 * `verifier` first, and finishes the verifier at the end (so this rejects on a size or digest
 * mismatch after the last byte was written: the caller writes to a temporary file and renames it
 * only once this resolved). Chunks are written in batches of 2 MiB with one `writev` each, one batch
 * in flight while the next fills, and the source is not read further while both are full.
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
): Promise<void> {
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
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
  let position = 0;
  let writing: Promise<void> | undefined;
  const startWrite = (): Promise<void> | undefined => {
    const pieces = batch;
    const bytes = batchBytes;
    const at = position;
    batch = [];
    batchBytes = 0;
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
  await eachChunk(source, (piece) => {
    if (piece.byteLength === 0) return undefined;
    verifier.update(piece);
    options.onBytes?.(verifier.size);
    batch.push(piece);
    batchBytes += piece.byteLength;
    return batchBytes >= WRITE_BATCH_BYTES ? startWrite() : undefined;
  });
  if (batch.length > 0) startWrite();
  await writing;
  if (syncing !== undefined) await syncing;
  verifier.finish();
}

/**
 * Calls `onChunk` with each chunk of `source` in order and resolves at its end. A Readable is read
 * through its `data` events: each chunk the stream is given is handed on as it is, where async
 * iteration (`read()`) would first concatenate every chunk buffered since the last read into a
 * new buffer (a copy of most of the blob when the disk is slower than the socket). While a promise
 * `onChunk` returned is pending, the stream is paused, and this resolves only after the last one
 * settled. Rejects with the stream's error, with `onChunk`'s (the stream is then destroyed), or
 * when the stream closes before its end.
 */
function eachChunk(
  source: Readable | AsyncIterable<Uint8Array>,
  onChunk: (chunk: Uint8Array) => Promise<void> | undefined,
): Promise<void> {
  if (!(source instanceof Readable)) {
    return (async () => {
      for await (const chunk of source) await onChunk(chunk);
    })();
  }
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      source.destroy();
      reject(error);
    };
    // What the last chunk's onChunk returned: the stream can end (its last chunk was read) while
    // that is still pending, and this resolves only after it.
    let pending: Promise<void> | undefined;
    source.on('data', (chunk: Uint8Array) => {
      if (failed) return;
      try {
        pending = onChunk(chunk);
      } catch (error) {
        fail(error);
        return;
      }
      if (pending === undefined) return;
      source.pause();
      pending.then(() => {
        if (!failed) source.resume();
      }, fail);
    });
    finished(source, { writable: false }, (error) => {
      if (failed) return;
      if (error !== undefined && error !== null) {
        failed = true;
        reject(error);
        return;
      }
      Promise.resolve(pending).then(() => {
        if (failed) return;
        failed = true;
        resolve();
      }, fail);
    });
  });
}

/** `writev` until every byte of `pieces` is in the file (a short write continues where it stopped). */
async function writeAll(handle: FileHandle, pieces: Uint8Array[], position: number): Promise<void> {
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
