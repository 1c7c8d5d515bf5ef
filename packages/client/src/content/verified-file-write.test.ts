import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createContentVerifier, DigestMismatchError, digestOf, GhcrErrorCode } from '@ghcr/oci-types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeVerifiedFile } from './verified-file-write.js';

const MiB = 1024 * 1024;

/** `bytes` cut into pieces of `size`. */
function* piecesOf(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size);
}

async function* fromArray(pieces: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) yield piece;
}

/**
 * A stand-in for a FileHandle that records what it is asked: each writev takes at most `maxWrite`
 * bytes (a short write) at the position given, and every datasync is logged with the bytes
 * written before it.
 */
function recordingHandle(maxWrite = Number.POSITIVE_INFINITY) {
  let file = Buffer.alloc(0);
  let cursor = 0;
  let total = 0;
  const syncs: number[] = [];
  const handle = {
    async writev(buffers: Uint8Array[], position?: number) {
      let budget = maxWrite;
      // Without a position, at the file's own position (where the last write ended), as a file does.
      let at = position ?? cursor;
      for (const buffer of buffers) {
        if (budget <= 0) break;
        const part = buffer.subarray(0, Math.min(buffer.byteLength, budget));
        if (file.byteLength < at + part.byteLength) {
          const grown = Buffer.alloc(at + part.byteLength);
          file.copy(grown);
          file = grown;
        }
        file.set(part, at);
        at += part.byteLength;
        budget -= part.byteLength;
      }
      const bytesWritten = at - (position ?? cursor);
      cursor = at;
      total += bytesWritten;
      return { bytesWritten, buffers };
    },
    async datasync() {
      syncs.push(total);
    },
  };
  return { handle: handle as unknown as FileHandle, syncs, contents: () => file };
}

/** `recorded`, its every write taking a turn of the event loop first, as a slow disk would. */
function slowDisk<T extends ReturnType<typeof recordingHandle>>(recorded: T): T {
  const writev = recorded.handle.writev.bind(recorded.handle);
  recorded.handle.writev = (async (buffers: Uint8Array[], position?: number) => {
    await new Promise((resolve) => setImmediate(resolve));
    return writev(buffers, position);
  }) as FileHandle['writev'];
  return recorded;
}

/** `recorded`, its every write failing as a full disk's does. */
function fullDisk<T extends ReturnType<typeof recordingHandle>>(recorded: T): T {
  recorded.handle.writev = (async () => {
    throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  }) as FileHandle['writev'];
  return recorded;
}

describe('writeVerifiedFile', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ghcr-verified-write-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('writes a real file byte for byte, in order, from pieces of any size', async () => {
    const content = randomBytes(3 * MiB + 12345);
    const path = join(directory, 'blob');
    const handle = await open(path, 'wx');
    const seen: number[] = [];
    try {
      await writeVerifiedFile(
        fromArray(piecesOf(content, 65536 + 7)),
        handle,
        createContentVerifier(digestOf(content), { size: content.byteLength }),
        { onBytes: (bytes) => seen.push(bytes) },
      );
    } finally {
      await handle.close();
    }
    expect(Buffer.compare(await readFile(path), content)).toBe(0);
    expect(seen.at(-1)).toBe(content.byteLength);
  });

  it('writes from `position` on, leaving the bytes before it, and resolves with the bytes written', async () => {
    const content = randomBytes(2 * MiB + 77);
    const path = join(directory, 'entry');
    const handle = await open(path, 'wx');
    let written: number;
    try {
      await handle.write(Buffer.alloc(1000, 0x61), 0, 1000, 0);
      written = await writeVerifiedFile(
        fromArray(piecesOf(content, 300_000)),
        handle,
        createContentVerifier(digestOf(content), { size: content.byteLength }),
        { position: 1000 },
      );
    } finally {
      await handle.close();
    }
    expect(written).toBe(content.byteLength);
    const file = await readFile(path);
    expect(file.byteLength).toBe(1000 + content.byteLength);
    expect(file.subarray(0, 1000).equals(Buffer.alloc(1000, 0x61))).toBe(true);
    expect(Buffer.compare(file.subarray(1000), content)).toBe(0);
  });

  it('continues a short write where it stopped', async () => {
    const content = randomBytes(2 * MiB + 5);
    const { handle, contents } = recordingHandle(300_001);
    await writeVerifiedFile(
      fromArray(piecesOf(content, 100_003)),
      handle,
      createContentVerifier(digestOf(content), { size: content.byteLength }),
    );
    expect(Buffer.compare(contents(), content)).toBe(0);
  });

  it('rejects content that hashes to another digest after writing it (the caller discards the file)', async () => {
    const content = randomBytes(MiB + 3);
    const { handle } = recordingHandle();
    const error = await writeVerifiedFile(
      fromArray(piecesOf(content, 65536)),
      handle,
      createContentVerifier(digestOf('other content'), { size: content.byteLength }),
    ).catch((caught: unknown) => caught);
    expect(DigestMismatchError.isInstance(error)).toBe(true);
  });

  it('stops at the first byte past the size, before writing it', async () => {
    const content = randomBytes(3 * MiB);
    const { handle, contents } = recordingHandle();
    const error = await writeVerifiedFile(
      fromArray(piecesOf(content, MiB)),
      handle,
      createContentVerifier(digestOf(content), { size: MiB + 10 }),
    ).catch((caught: unknown) => caught);
    expect((error as { code?: string }).code).toBe(GhcrErrorCode.SIZE_MISMATCH);
    expect(contents().byteLength).toBeLessThanOrEqual(MiB + 10);
  });

  it('writes back every syncEveryBytes while data still arrives, and not without the option', async () => {
    const content = randomBytes(10 * MiB);
    const verifier = () => createContentVerifier(digestOf(content), { size: content.byteLength });
    const synced = recordingHandle();
    await writeVerifiedFile(fromArray(piecesOf(content, MiB)), synced.handle, verifier(), {
      syncEveryBytes: 4 * MiB,
    });
    // After 4 and 8 MiB were in the file; the caller syncs the rest itself.
    expect(synced.syncs).toEqual([4 * MiB, 8 * MiB]);
    const unsynced = recordingHandle();
    await writeVerifiedFile(fromArray(piecesOf(content, MiB)), unsynced.handle, verifier());
    expect(unsynced.syncs).toEqual([]);
  });

  it('fails when the source fails, and the error is the source’s', async () => {
    const { handle } = recordingHandle();
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield randomBytes(MiB);
      throw new Error('socket closed');
    }
    await expect(
      writeVerifiedFile(broken(), handle, createContentVerifier(digestOf('x'), { size: 2 * MiB })),
    ).rejects.toThrow('socket closed');
  });

  describe('from a Readable (a response body)', () => {
    /** A Readable that has all of `pieces` buffered before it is read, as a fast socket leaves it. */
    const buffered = (pieces: Iterable<Uint8Array>): Readable => {
      const stream = new Readable({ read() {}, highWaterMark: 64 * MiB });
      for (const piece of pieces) stream.push(piece);
      stream.push(null);
      return stream;
    };

    it('hands on the very chunks it was given, never a concatenation of those buffered', async () => {
      const content = randomBytes(5 * MiB + 99);
      const pieces = [...piecesOf(content, 65536)];
      const handed: Uint8Array[] = [];
      const { handle, contents } = recordingHandle();
      const writev = handle.writev.bind(handle);
      handle.writev = (async (buffers: Uint8Array[], position?: number) => {
        handed.push(...buffers);
        return writev(buffers, position);
      }) as FileHandle['writev'];
      await writeVerifiedFile(
        buffered(pieces),
        handle,
        createContentVerifier(digestOf(content), { size: content.byteLength }),
      );
      expect(Buffer.compare(contents(), content)).toBe(0);
      // read() would have joined the buffered chunks into new, larger buffers (a copy of each).
      expect(handed).toHaveLength(pieces.length);
      expect(handed.every((buffer, index) => buffer === pieces[index])).toBe(true);
    });

    it('writes one batch at a time, pausing the stream while the next one waits', async () => {
      const content = randomBytes(12 * MiB);
      const stream = buffered(piecesOf(content, MiB));
      let inFlight = 0;
      let most = 0;
      const pausedAtStart: boolean[] = [];
      const { handle, contents } = recordingHandle();
      const writev = handle.writev.bind(handle);
      handle.writev = (async (buffers: Uint8Array[], position?: number) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        pausedAtStart.push(stream.isPaused());
        // The disk takes a turn of the event loop, so that a second write could overlap.
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
        return writev(buffers, position);
      }) as FileHandle['writev'];
      await writeVerifiedFile(
        stream,
        handle,
        createContentVerifier(digestOf(content), { size: content.byteLength }),
      );
      expect(Buffer.compare(contents(), content)).toBe(0);
      expect(most).toBe(1);
      // Six 2 MiB batches: the first is written at once; each later one waited, the stream paused.
      expect(pausedAtStart).toEqual([false, true, true, true, true, true]);
    });

    it('writes every byte once when the stream ends while its last batch still waits for the disk', async () => {
      // Whole batches only, and a slow disk: the stream has ended (its last chunk read) before the
      // last batch could be handed on.
      const content = randomBytes(8 * MiB);
      const { handle, contents } = slowDisk(recordingHandle());
      await writeVerifiedFile(
        buffered(piecesOf(content, MiB)),
        handle,
        createContentVerifier(digestOf(content), { size: content.byteLength }),
      );
      expect(Buffer.compare(contents(), content)).toBe(0);
    });

    it('rejects with the stream’s error', async () => {
      const stream = new Readable({ read() {} });
      stream.push(randomBytes(MiB));
      setImmediate(() => stream.destroy(new Error('socket closed')));
      const { handle } = recordingHandle();
      await expect(
        writeVerifiedFile(stream, handle, createContentVerifier(digestOf('x'), { size: 2 * MiB })),
      ).rejects.toThrow('socket closed');
    });

    it('rejects when the stream closes before its end', async () => {
      const stream = new Readable({ read() {} });
      stream.push(randomBytes(MiB));
      setImmediate(() => stream.destroy());
      const { handle } = recordingHandle();
      const error = await writeVerifiedFile(
        stream,
        handle,
        createContentVerifier(digestOf('x'), { size: 2 * MiB }),
      ).catch((caught: unknown) => caught);
      expect((error as { code?: string }).code).toBe('ERR_STREAM_PREMATURE_CLOSE');
    });

    it('destroys the stream and rejects with the write’s error when the disk fails', async () => {
      const content = randomBytes(4 * MiB);
      const stream = buffered(piecesOf(content, MiB));
      const { handle } = fullDisk(recordingHandle());
      await expect(
        writeVerifiedFile(
          stream,
          handle,
          createContentVerifier(digestOf(content), { size: content.byteLength }),
        ),
      ).rejects.toThrow('ENOSPC');
      expect(stream.destroyed).toBe(true);
    });
  });

  describe("from a source of views (the transport's own connections)", () => {
    /**
     * A source like a body read into one reused buffer: each piece of `content` is copied into
     * the same buffer and handed on, and once the view's life is over (the consumer returned, or
     * the promise it returned settled) the buffer is scribbled over, so a consumer that kept a
     * view instead of copying it would write garbage.
     */
    const reusingSource = (content: Uint8Array, pieceSize: number) => {
      const buffer = Buffer.alloc(pieceSize);
      const stats = { views: 0, waited: 0 };
      return {
        stats,
        async eachView(onView: (view: Uint8Array) => Promise<void> | undefined): Promise<void> {
          for (const piece of piecesOf(content, pieceSize)) {
            buffer.set(piece);
            stats.views += 1;
            const pending = onView(buffer.subarray(0, piece.byteLength));
            if (pending !== undefined) {
              stats.waited += 1;
              await pending;
            }
            buffer.fill(0xee);
          }
        },
      };
    };

    it('copies every view before its buffer is reused, waiting on the disk when both batches are full', async () => {
      const content = randomBytes(9 * MiB + 4321);
      const source = reusingSource(content, 256 * 1024 + 3);
      const { handle, contents } = slowDisk(recordingHandle());
      await writeVerifiedFile(
        source as unknown as Readable,
        handle,
        createContentVerifier(digestOf(content), { size: content.byteLength }),
      );
      expect(Buffer.compare(contents(), content)).toBe(0);
      expect(source.stats.views).toBe(Math.ceil(content.byteLength / (256 * 1024 + 3)));
      // The slow disk made the source wait on some views: those were copied only once it was free.
      expect(source.stats.waited).toBeGreaterThan(0);
    });

    it('reuses the batch buffers of an earlier file from the spare list it is given', async () => {
      const spareBatches: Buffer[] = [];
      const seen: Set<ArrayBufferLike>[] = [];
      for (let file = 0; file < 2; file++) {
        const content = randomBytes(3 * MiB);
        const { handle, contents } = recordingHandle();
        const writev = handle.writev.bind(handle);
        const buffers = new Set<ArrayBufferLike>();
        handle.writev = (async (pieces: Uint8Array[], position?: number) => {
          for (const piece of pieces) buffers.add(piece.buffer);
          return writev(pieces, position);
        }) as FileHandle['writev'];
        await writeVerifiedFile(
          reusingSource(content, 65536) as unknown as Readable,
          handle,
          createContentVerifier(digestOf(content), { size: content.byteLength }),
          { spareBatches },
        );
        expect(Buffer.compare(contents(), content)).toBe(0);
        seen.push(buffers);
      }
      // Two batch buffers, written in turn, for both files: the second file took the first's.
      expect(seen[0]?.size).toBe(2);
      expect([...(seen[1] ?? [])].every((buffer) => seen[0]?.has(buffer))).toBe(true);
      expect(spareBatches).toHaveLength(2);
    });

    it('writes a real file byte for byte and verifies it', async () => {
      const content = randomBytes(5 * MiB + 17);
      const path = join(directory, 'viewed');
      const handle = await open(path, 'wx');
      try {
        await writeVerifiedFile(
          reusingSource(content, 65536) as unknown as Readable,
          handle,
          createContentVerifier(digestOf(content), { size: content.byteLength }),
        );
      } finally {
        await handle.close();
      }
      expect(Buffer.compare(await readFile(path), content)).toBe(0);
    });

    it('rejects content that hashes to another digest', async () => {
      const content = randomBytes(3 * MiB);
      const { handle } = recordingHandle();
      const error = await writeVerifiedFile(
        reusingSource(content, 65536) as unknown as Readable,
        handle,
        createContentVerifier(digestOf(randomBytes(16)), { size: content.byteLength }),
      ).catch((caught: unknown) => caught);
      expect(DigestMismatchError.isInstance(error)).toBe(true);
    });

    it("rejects with the write's error when the disk fails, and the source stops", async () => {
      const content = randomBytes(8 * MiB);
      const source = reusingSource(content, MiB);
      const { handle } = fullDisk(recordingHandle());
      await expect(
        writeVerifiedFile(
          source as unknown as Readable,
          handle,
          createContentVerifier(digestOf(content), { size: content.byteLength }),
        ),
      ).rejects.toThrow('ENOSPC');
      // Two batches of 2 MiB fill, then the source waits on the failed write and gets its error.
      expect(source.stats.views).toBeLessThan(8);
    });
  });
});
