import { randomBytes } from 'node:crypto';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable, Writable } from 'node:stream';

const CHUNK_BYTES = 1024 * 1024;

/**
 * The gzip stream of an uncompressed archive layer, kept from the pass that measured it (its
 * digest and size go into the manifest before anything is sent), so the push reads it back
 * instead of compressing the layer a second time. The file is unlinked as soon as it is opened:
 * nothing is left behind, whatever ends the process; its space is freed when the handle closes.
 * The handle closes once the stream has been read to its end and no read is open (a later read
 * gets `undefined`, and the caller compresses again, byte for byte the same).
 * @internal
 */
export interface LayerSpool {
  /** Bytes held. */
  readonly size: number;
  /** The bytes from `offset`, or undefined once the spool is released. */
  open(offset: number, signal?: AbortSignal): Readable | undefined;
  /** Releases the spool now (once the reads open on it end): later reads get `undefined`. */
  release(): void;
}

/**
 * A spool being written: `writable` takes the bytes; `finish()` gives the spool, or undefined if
 * writing it failed (a full disk, no temp directory): the caller then compresses again on push.
 * @internal
 */
export interface SpoolWriter {
  readonly writable: Writable;
  finish(): LayerSpool | undefined;
  /** Drops what was written (the measuring pass failed). */
  discard(): Promise<void>;
}

/**
 * Opens an unlinked temp file to spool a layer's gzip stream into; undefined when the temp
 * directory cannot hold one (the push then compresses again).
 * @internal
 */
export async function createSpool(directory = tmpdir()): Promise<SpoolWriter | undefined> {
  const path = join(directory, `ghcr-layer-${randomBytes(8).toString('hex')}.gz`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'wx+', 0o600);
    await unlink(path);
  } catch {
    await handle?.close().catch(() => {});
    return undefined;
  }
  const file = handle;
  let size = 0;
  let failed = false;
  const writable = new Writable({
    highWaterMark: CHUNK_BYTES,
    write(chunk: Buffer, _encoding, callback) {
      if (failed) {
        callback();
        return;
      }
      file.write(chunk, 0, chunk.byteLength, size).then(
        () => {
          size += chunk.byteLength;
          callback();
        },
        () => {
          // The spool is an optimisation: the measuring pass goes on without it.
          failed = true;
          callback();
        },
      );
    },
  });
  return {
    writable,
    finish() {
      if (failed) {
        file.close().catch(() => {});
        return undefined;
      }
      return spoolOver(file, size);
    },
    async discard() {
      await file.close().catch(() => {});
    },
  };
}

function spoolOver(file: FileHandle, size: number): LayerSpool {
  let handle: FileHandle | undefined = file;
  let readers = 0;
  let readToEnd = false;
  let released = false;
  const release = (): void => {
    if (handle === undefined || readers > 0 || !(readToEnd || released)) return;
    const closing = handle;
    handle = undefined;
    closing.close().catch(() => {});
  };
  return {
    size,
    release() {
      released = true;
      release();
    },
    open(offset, signal) {
      if (handle === undefined) return undefined;
      readers += 1;
      const stream = handle.createReadStream({
        start: offset,
        autoClose: false,
        emitClose: true,
        highWaterMark: CHUNK_BYTES,
      });
      const onAbort = (): void => {
        stream.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted === true) onAbort();
      // A stream that keeps its handle open (`autoClose: false`) may never emit 'close' after
      // 'end': whichever of the two comes first ends this read.
      let ended = false;
      const done = (): void => {
        if (ended) return;
        ended = true;
        signal?.removeEventListener('abort', onAbort);
        readers -= 1;
        release();
      };
      stream.once('end', () => {
        readToEnd = true;
        done();
      });
      stream.once('close', done);
      return stream;
    },
  };
}
