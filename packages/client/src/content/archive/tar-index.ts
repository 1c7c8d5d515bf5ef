import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { posix } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import {
  definedProps,
  GhcrErrorCode,
  InvalidInputError,
  NotFoundError,
  ProtocolError,
} from '@ghcr/oci-types';
import {
  type BlobOpenOptions,
  closeQuietly,
  recycledFileChunks,
  ringPays,
} from '../../registry/blob-source.js';
import { signalOption } from '../content.js';
import { fileFailure } from '../layout-paths.js';

let zlibModule: typeof import('node:zlib') | undefined;

/**
 * `node:zlib`, loaded by the first archive that needs it: every command's process imports this
 * module, and only archive pushes and pulls gzip or gunzip (loading zlib costs ~4 ms of start-up).
 * Kept once loaded: a layer's gzip asks for it with every chunk it takes.
 * @internal
 */
export const zlib = (): typeof import('node:zlib') => {
  zlibModule ??= createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib');
  return zlibModule;
};

/**
 * One entry of a tar archive, as {@link indexTar} found it.
 * @internal
 */
export interface TarEntry {
  /** The entry's path inside the archive, normalised (no `./`, no trailing `/`). */
  readonly name: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  /** Where the entry's data starts (in the decompressed stream for a gzip-compressed archive). */
  readonly offset: number;
  readonly size: number;
  /** For a link: the archive path it points at, resolved and normalised. */
  readonly linkTarget?: string;
}

/**
 * A tar archive read once: every entry by name, and where its bytes are. Entries are then read
 * by offset ({@link TarArchive.open}): a plain tar with positioned file reads, a gzip-compressed
 * one by decompressing from the start again (a deflate stream cannot be entered in the middle),
 * so such an archive is read once for the index and once per large entry read. Small entries
 * of a compressed archive (up to 1 MiB each, 64 MiB in all) are kept from the first pass.
 * @internal
 */
export interface TarArchive {
  /** The archive file (absolute). */
  readonly path: string;
  /** True when the file is gzip-compressed. */
  readonly compressed: boolean;
  /** Entries in archive order (a later entry of the same name replaces an earlier one in {@link TarArchive.entry}). */
  readonly entries: readonly TarEntry[];
  /**
   * The regular-file entry a name leads to, links followed.
   * @throws NotFoundError when there is none; InvalidInputError `GHCR_INVALID_ARCHIVE` for a link loop.
   */
  entry(name: string): TarEntry;
  /** True when a name leads to a regular file. */
  has(name: string): boolean;
  /**
   * An entry's bytes from `offset` (a stream of at most its size; a short file errors the stream).
   * With `options.recycleAfter`, an uncompressed archive's long entry is read into a ring of
   * reused buffers ({@link BlobOpenOptions.recycleAfter}).
   */
  open(entry: TarEntry, offset?: number, signal?: AbortSignal, options?: BlobOpenOptions): Readable;
  /** A small entry read whole, refused when larger than `maxBytes`. */
  read(entry: TarEntry, maxBytes: number, what: string): Promise<Buffer>;
}

const BLOCK = 512;
const MAX_META_BYTES = 1024 * 1024;
const KEEP_SMALL_BYTES = 1024 * 1024;
const KEEP_TOTAL_BYTES = 64 * 1024 * 1024;
const READ_BUFFER_BYTES = 1024 * 1024;
/**
 * Bytes of each buffer of a ring read (`recycleAfter`, an upload's source): 512 KiB, as a push
 * from an OCI layout reads its blob files (`oci-layout.ts`).
 */
const RING_BUFFER_BYTES = 512 * 1024;

/**
 * The error for a damaged or unsafe archive.
 * @internal
 */
export function archiveError(
  path: string,
  problem: string,
  advice = 'the archive is damaged; write it again',
): InvalidInputError {
  return new InvalidInputError(`${path}: ${problem}; ${advice}`, {
    code: GhcrErrorCode.INVALID_ARCHIVE,
    input: path,
  });
}

/** Reads blocks of the archive: positioned reads of a plain file, or a decompressed stream. */
interface Cursor {
  readonly position: number;
  /** Exactly `n` bytes, or fewer at the end of the data. */
  read(n: number): Promise<Buffer>;
  /** Skips `n` bytes; false when the data ends first. */
  skip(n: number): Promise<boolean>;
  close(): Promise<void>;
}

async function fileCursor(handle: FileHandle): Promise<Cursor> {
  const { size } = await handle.stat();
  let position = 0;
  return {
    get position() {
      return position;
    },
    async read(n) {
      const buffer = Buffer.alloc(Math.max(0, Math.min(n, size - position)));
      let done = 0;
      while (done < buffer.byteLength) {
        const { bytesRead } = await handle.read(buffer, done, buffer.byteLength - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      position += done;
      return done === buffer.byteLength ? buffer : buffer.subarray(0, done);
    },
    async skip(n) {
      if (position + n > size) {
        position = size;
        return false;
      }
      position += n;
      return true;
    },
    close: () => handle.close(),
  };
}

function streamCursor(stream: Readable): Cursor {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let pending: Buffer = Buffer.alloc(0);
  let ended = false;
  let position = 0;
  const more = async (): Promise<boolean> => {
    if (ended) return false;
    const next = await iterator.next();
    if (next.done === true) {
      ended = true;
      return false;
    }
    pending = pending.byteLength === 0 ? next.value : Buffer.concat([pending, next.value]);
    return true;
  };
  return {
    get position() {
      return position;
    },
    async read(n) {
      while (pending.byteLength < n && (await more())) {}
      const taken = pending.subarray(0, n);
      pending = pending.subarray(taken.byteLength);
      position += taken.byteLength;
      return Buffer.from(taken);
    },
    async skip(n) {
      let left = n;
      for (;;) {
        const step = Math.min(left, pending.byteLength);
        pending = pending.subarray(step);
        position += step;
        left -= step;
        if (left === 0) return true;
        if (!(await more())) return false;
      }
    },
    async close() {
      closeQuietly(stream);
    },
  };
}

/** True when the file starts with the gzip magic bytes. */
async function isGzip(handle: FileHandle): Promise<boolean> {
  const head = Buffer.alloc(2);
  const { bytesRead } = await handle.read(head, 0, 2, 0);
  return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** A NUL-terminated string field of a header. */
function field(block: Buffer, start: number, length: number): string {
  const bytes = block.subarray(start, start + length);
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** An octal (or GNU base-256) number field. */
function numeric(block: Buffer, start: number, length: number, path: string): number {
  const bytes = block.subarray(start, start + length);
  if (((bytes[0] ?? 0) & 0x80) !== 0) {
    let value = (bytes[0] ?? 0) & 0x7f;
    for (let i = 1; i < length; i += 1) value = value * 256 + (bytes[i] ?? 0);
    if (!Number.isSafeInteger(value)) throw archiveError(path, 'a tar header holds a number too large');
    return value;
  }
  const text = bytes.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw archiveError(path, `a tar header holds "${text}" where a number belongs`);
  return Number.parseInt(text, 8);
}

function checksumOk(block: Buffer, path: string): boolean {
  const stored = numeric(block, 148, 8, path);
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
  return stored === sum;
}

/** Parses pax extended header records (`"<len> key=value\n"`). */
function paxRecords(data: Buffer, path: string): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.byteLength) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number.parseInt(data.subarray(at, space).toString('latin1'), 10);
    if (!Number.isSafeInteger(length) || length <= 0 || at + length > data.byteLength) {
      throw archiveError(path, 'a pax extended header is malformed');
    }
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

/**
 * Normalises an entry name (drops `./` and a trailing `/`), refusing one that leaves the archive
 * (absolute, or climbing above its top with `..`).
 * @internal
 */
export function entryName(raw: string, path: string): string {
  if (raw.startsWith('/') || raw.includes('\0') || /^[A-Za-z]:[\\/]/.test(raw)) {
    throw archiveError(
      path,
      `refusing the entry "${raw}": an absolute path leads outside the archive`,
      'the archive is unsafe; do not use it',
    );
  }
  const normal = posix.normalize(raw);
  if (normal === '..' || normal.startsWith('../') || raw.split('/').includes('..')) {
    throw archiveError(
      path,
      `refusing the entry "${raw}": it leads outside the archive with ".."`,
      'the archive is unsafe; do not use it',
    );
  }
  return normal.replace(/^\.\/?/, '').replace(/\/+$/, '');
}

/**
 * Reads a tar archive's headers once (a gzip-compressed one is decompressed as it streams) and
 * returns its index. Supports ustar (with its name prefix), GNU long names and links (`L`, `K`),
 * GNU base-256 sizes and pax headers (`path`, `linkpath`, `size`). Header checksums are checked;
 * an entry whose data runs past the end is a truncated archive; names that leave the archive
 * (absolute or `..`) are refused, and so are links that point out of it.
 * @throws InvalidInputError `GHCR_INVALID_ARCHIVE`; NotFoundError when the file does not exist.
 * @internal
 */
export async function openTar(path: string, signal?: AbortSignal): Promise<TarArchive> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') {
      throw new NotFoundError(`there is no archive at "${path}"; give the path of a tar file`, {
        resource: path,
      });
    }
    throw fileFailure(error, 'opening the archive', path, signal);
  }
  let compressed: boolean;
  let cursor: Cursor;
  try {
    compressed = await isGzip(handle);
    if (compressed) {
      await handle.close();
      cursor = streamCursor(gunzipFile(path, signal));
    } else {
      cursor = await fileCursor(handle);
    }
  } catch (error) {
    await handle.close().catch(() => {});
    throw fileFailure(error, 'reading the archive', path, signal);
  }
  const entries: TarEntry[] = [];
  const kept = new Map<number, Buffer>();
  try {
    await readHeaders(cursor, path, compressed, entries, kept);
  } catch (error) {
    if (InvalidInputError.isInstance(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (compressed && /unexpected end|incorrect header|invalid/i.test(message)) {
      throw archiveError(path, `its gzip stream is damaged or truncated (${message})`);
    }
    throw fileFailure(error, 'reading the archive', path, signal);
  } finally {
    await cursor.close().catch(() => {});
  }
  return archiveOf(path, compressed, entries, kept);
}

async function readHeaders(
  cursor: Cursor,
  path: string,
  compressed: boolean,
  entries: TarEntry[],
  kept: Map<number, Buffer>,
): Promise<void> {
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, string>();
  let keptBytes = 0;
  const data = async (size: number, what: string): Promise<Buffer> => {
    if (size > MAX_META_BYTES) throw archiveError(path, `a ${what} of ${size} bytes is too large`);
    const bytes = await cursor.read(size);
    if (bytes.byteLength < size || !(await cursor.skip(padding(size)))) {
      throw archiveError(path, `it ends inside a ${what}: the tar is truncated`);
    }
    return bytes;
  };
  for (;;) {
    const block = await cursor.read(BLOCK);
    if (block.byteLength === 0) {
      // Every tar writer ends the archive with zero blocks: without them, it was cut off.
      throw archiveError(path, 'it ends without the end-of-archive blocks: the tar is truncated');
    }
    if (block.byteLength < BLOCK)
      throw archiveError(path, 'it ends inside a tar header: the tar is truncated');
    if (block.every((byte) => byte === 0)) return;
    if (!checksumOk(block, path)) {
      throw archiveError(
        path,
        `the tar header at byte ${cursor.position - BLOCK} has a wrong checksum (not a tar file, or a damaged one)`,
      );
    }
    const flag = String.fromCharCode(block[156] ?? 0);
    let size = numeric(block, 124, 12, path);
    if (flag === 'L') {
      longName = (await data(size, 'GNU long name')).toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (flag === 'K') {
      longLink = (await data(size, 'GNU long link name')).toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (flag === 'x') {
      pax = paxRecords(await data(size, 'pax header'), path);
      continue;
    }
    if (flag === 'g') {
      await data(size, 'pax global header');
      continue;
    }
    const magic = block.subarray(257, 263).toString('latin1');
    const prefix = magic.startsWith('ustar') ? field(block, 345, 155) : '';
    let raw =
      longName ??
      pax.get('path') ??
      (prefix === '' ? field(block, 0, 100) : `${prefix}/${field(block, 0, 100)}`);
    const paxSize = pax.get('size');
    if (paxSize !== undefined) {
      size = Number(paxSize);
      if (!Number.isSafeInteger(size) || size < 0)
        throw archiveError(path, `a pax header gives the size "${paxSize}"`);
    }
    const rawLink = longLink ?? pax.get('linkpath') ?? field(block, 157, 100);
    longName = undefined;
    longLink = undefined;
    pax = new Map();
    if (raw === '') raw = '.';
    const name = entryName(raw, path);
    const type =
      flag === '0' || flag === '\0' || flag === '7'
        ? 'file'
        : flag === '5'
          ? 'directory'
          : flag === '2'
            ? 'symlink'
            : flag === '1'
              ? 'hardlink'
              : 'other';
    const hasData = type === 'file' || type === 'other';
    const offset = cursor.position;
    let linkTarget: string | undefined;
    if (type === 'symlink') {
      if (rawLink.startsWith('/')) {
        throw archiveError(
          path,
          `refusing the link "${name}" → "${rawLink}": an absolute target leads outside the archive`,
          'the archive is unsafe; do not use it',
        );
      }
      linkTarget = entryName(posix.join(posix.dirname(name), rawLink), path);
    } else if (type === 'hardlink') {
      linkTarget = entryName(rawLink, path);
    }
    const entry: TarEntry = {
      name,
      type,
      offset,
      size: hasData ? size : 0,
      ...definedProps({ linkTarget }),
    };
    entries.push(entry);
    if (!hasData || size === 0) continue;
    if (compressed && size <= KEEP_SMALL_BYTES && keptBytes + size <= KEEP_TOTAL_BYTES) {
      const bytes = await cursor.read(size);
      if (bytes.byteLength < size) throw truncated(path, name, size, bytes.byteLength);
      kept.set(offset, bytes);
      keptBytes += size;
      if (!(await cursor.skip(padding(size)))) throw truncated(path, name, size, size);
      continue;
    }
    if (!(await cursor.skip(size + padding(size)))) {
      throw truncated(path, name, size, cursor.position - offset);
    }
  }
}

function truncated(path: string, name: string, size: number, present: number): InvalidInputError {
  return archiveError(
    path,
    `it ends inside the entry "${name}" (${size} bytes, ${Math.max(0, Math.min(present, size))} present): the tar is truncated`,
  );
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function archiveOf(
  path: string,
  compressed: boolean,
  entries: readonly TarEntry[],
  kept: Map<number, Buffer>,
): TarArchive {
  const byName = new Map<string, TarEntry>();
  for (const entry of entries) byName.set(entry.name, entry);

  const lookup = (name: string): TarEntry | undefined => {
    let current = byName.get(name);
    for (let hops = 0; current?.linkTarget !== undefined; hops += 1) {
      if (hops > 16) throw archiveError(path, `the link "${name}" does not lead to a file (a loop)`);
      current = byName.get(current.linkTarget);
    }
    return current?.type === 'file' ? current : undefined;
  };

  const open = (
    entry: TarEntry,
    offset = 0,
    signal?: AbortSignal,
    options: BlobOpenOptions = {},
  ): Readable => {
    const length = entry.size - offset;
    const small = kept.get(entry.offset);
    if (small !== undefined) return Readable.from([small.subarray(offset)], { objectMode: false });
    if (length <= 0) return Readable.from([], { objectMode: false });
    if (!compressed) {
      const start = entry.offset + offset;
      const chunks =
        options.recycleAfter !== undefined && ringPays(length, options, RING_BUFFER_BYTES)
          ? recycledFileChunks(path, start, options.recycleAfter, signal, RING_BUFFER_BYTES, length)
          : createReadStream(path, {
              start,
              end: entry.offset + entry.size - 1,
              highWaterMark: READ_BUFFER_BYTES,
              ...signalOption(signal),
            });
      return Readable.from(checkedLength(chunks, length, path, entry.name), { objectMode: false });
    }
    const gunzip = gunzipFile(path, signal);
    return Readable.from(
      checkedLength(slice(gunzip, entry.offset + offset, length), length, path, entry.name),
      {
        objectMode: false,
      },
    );
  };

  return {
    path,
    compressed,
    entries,
    entry(name) {
      const found = lookup(name);
      if (found === undefined) {
        throw new NotFoundError(`${path} has no file "${name}"; the archive is incomplete, write it again`, {
          resource: name,
        });
      }
      return found;
    },
    has: (name) => lookup(name) !== undefined,
    open,
    async read(entry, maxBytes, what) {
      if (entry.size > maxBytes) {
        throw new ProtocolError(
          `${what} in ${path} has ${entry.size} bytes, over the ${maxBytes}-byte limit`,
          {
            code: GhcrErrorCode.MANIFEST_TOO_LARGE,
          },
        );
      }
      const chunks: Buffer[] = [];
      for await (const chunk of open(entry)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
  };
}

/** Bytes `[start, start + length)` of a stream. */
async function* slice(stream: Readable, start: number, length: number): AsyncGenerator<Buffer> {
  let position = 0;
  const end = start + length;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const from = position;
      position += chunk.byteLength;
      if (position <= start) continue;
      yield chunk.subarray(Math.max(0, start - from), Math.min(chunk.byteLength, end - from));
      if (position >= end) return;
    }
  } finally {
    stream.destroy();
  }
}

/** Passes a stream through, failing when it yields fewer bytes than `length` (the file shrank). */
async function* checkedLength(
  stream: AsyncIterable<Buffer> & { destroy?: () => void },
  length: number,
  path: string,
  name: string,
): AsyncGenerator<Buffer> {
  let done = 0;
  try {
    for await (const chunk of stream) {
      done += chunk.byteLength;
      yield chunk;
    }
  } finally {
    stream.destroy?.();
  }
  if (done < length) throw truncated(path, name, length, done);
}

/**
 * The decompressed bytes of a gzip file. Joined with `pipeline`, so destroying the result (a
 * reader that stops early) closes the file too.
 */
function gunzipFile(path: string, signal?: AbortSignal): Readable {
  const gunzip = zlib().createGunzip();
  pipeline(
    createReadStream(path, { highWaterMark: READ_BUFFER_BYTES, ...signalOption(signal) }),
    gunzip,
    () => {
      // Errors reach the reader through `gunzip`.
    },
  );
  return gunzip;
}
