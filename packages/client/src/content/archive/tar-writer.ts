import { randomUUID } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { GhcrErrorCode, InternalError, InvalidInputError, ProtocolError } from '@ghcr/oci-types';
import { fileFailure } from '../layout-paths.js';
import { writeAll } from '../verified-file-write.js';

const BLOCK = 512;

/**
 * Writes an entry's content: exactly the entry's size in bytes, into `handle` from `position`
 * (positioned writes only: other entries are written at the same time). Resolves with the bytes
 * written.
 * @internal
 */
export type TarEntryWrite = (handle: FileHandle, position: number) => Promise<number>;

/**
 * Writes a tar archive (ustar, with GNU long names when a name is over 100 bytes) to a temporary
 * file next to its final path. Each entry's place is taken when it is added (its size is known),
 * so entries are written at the same time, each at its own offset, and the archive lists them in
 * the order they were added. {@link TarWriter.commit} waits for them, ends the archive, syncs it
 * and renames it into place; {@link TarWriter.discard} removes it. After a failed entry the
 * archive is damaged and can only be discarded.
 * @internal
 */
export class TarWriter {
  /** The final path (absolute). */
  readonly path: string;
  /** The temporary file written until commit. */
  readonly temp: string;
  #handle: Promise<FileHandle> | undefined;
  /** Where the next entry's header goes. */
  #end = 0;
  /** Every entry added, by name: its write (settled once it is in the file, or failed). */
  readonly #entries = new Map<string, Promise<void>>();
  /** The entries whose bytes are all in the file. */
  readonly #names = new Set<string>();
  #failed: unknown;
  #done = false;

  constructor(path: string) {
    this.path = resolve(path);
    this.temp = join(dirname(this.path), `.${basename(this.path)}.ghcr-tmp-${randomUUID()}`);
  }

  /** True when an entry of this name was written whole. */
  has(name: string): boolean {
    return this.#names.has(name);
  }

  /** Adds a file entry from bytes in memory. */
  bytes(name: string, content: Uint8Array): Promise<void> {
    return this.file(name, content.byteLength, async (handle, position) => {
      await writeAt(handle, content, position, this.path);
      return content.byteLength;
    });
  }

  /**
   * Adds a file entry of `size` bytes, which `write` puts in the file at the position it is given
   * (it may verify them and throw: the archive is then damaged). An entry of a name already added
   * is not written again: this returns that entry's write.
   */
  file(name: string, size: number, write: TarEntryWrite): Promise<void> {
    return this.#add(name, size, write);
  }

  /** Waits for every entry, ends the archive, syncs it and renames it to its final path. */
  async commit(): Promise<void> {
    this.#usable();
    await Promise.allSettled(this.#entries.values());
    this.#usable();
    this.#done = true;
    const handle = await this.#open();
    await writeAt(handle, Buffer.alloc(BLOCK * 2), this.#end, this.path);
    try {
      await handle.datasync();
    } catch (error) {
      throw fileFailure(error, 'syncing the written archive', this.path);
    }
    await handle.close();
    try {
      await rename(this.temp, this.path);
    } catch (error) {
      await rm(this.temp, { force: true });
      throw fileFailure(error, 'renaming the written archive into place', this.path);
    }
  }

  /** Removes the temporary file (after a failure); nothing is left at the final path. */
  async discard(): Promise<void> {
    this.#done = true;
    const handle = await this.#handle?.catch(() => undefined);
    // A FileHandle closes once the writes under way on it are done; later ones fail.
    await handle?.close().catch(() => {});
    await rm(this.temp, { force: true });
  }

  /** Throws when no more can be written: committed, discarded, or damaged by a failed entry. */
  #usable(): void {
    if (this.#done) {
      throw new InternalError(`the archive ${this.path} was already committed or discarded`);
    }
    if (this.#failed !== undefined) {
      throw new ProtocolError(
        `an earlier entry of ${this.path} failed, so the archive cannot be completed; write it again`,
        { code: GhcrErrorCode.INVALID_ARCHIVE, cause: this.#failed },
      );
    }
    if (/\.(?:gz|tgz)$/i.test(this.path)) {
      throw new InvalidInputError(
        `cannot write ${this.path}: archives are written uncompressed (compressed ones are only read); give a name ending in .tar, and gzip it afterwards if needed`,
        { input: this.path },
      );
    }
  }

  #open(): Promise<FileHandle> {
    this.#handle ??= open(this.temp, 'wx', 0o644);
    return this.#handle.catch((error: unknown) => {
      throw fileFailure(error, 'creating the archive', this.temp);
    });
  }

  /** Takes the entry's place now (synchronously, so the order of calls is the archive's), then writes it. */
  #add(key: string, size: number, write: TarEntryWrite): Promise<void> {
    const existing = this.#entries.get(key);
    if (existing !== undefined) return existing;
    try {
      this.#usable();
    } catch (error) {
      return Promise.reject(error);
    }
    const head = header(key, size);
    const at = this.#end;
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    this.#end += head.byteLength + size + pad;
    const written = (async () => {
      try {
        const handle = await this.#open();
        await writeAt(handle, head, at, this.path);
        const bytes = await write(handle, at + head.byteLength);
        if (bytes !== size) {
          throw new ProtocolError(
            `the entry "${key}" of ${this.path} got ${bytes > size ? 'more' : 'fewer'} bytes than its ${size}`,
            { code: GhcrErrorCode.SIZE_MISMATCH },
          );
        }
        if (pad > 0) await writeAt(handle, Buffer.alloc(pad), at + head.byteLength + size, this.path);
        this.#names.add(key);
      } catch (error) {
        this.#failed ??= error;
        throw error;
      }
    })();
    this.#entries.set(key, written);
    // Awaited by the caller, and by commit; a failure must not go unhandled in between.
    written.catch(() => {});
    return written;
  }
}

/** Writes all of `bytes` at `position`, a failure named as the archive's. */
async function writeAt(handle: FileHandle, bytes: Uint8Array, position: number, path: string): Promise<void> {
  await writeAll(handle, [bytes], position).catch((error: unknown) => {
    throw fileFailure(error, 'writing the archive', path);
  });
}

/** A ustar header; a name over 100 bytes is carried by a GNU long-name entry first. */
function header(name: string, size: number): Buffer {
  const encoded = Buffer.from(name, 'utf8');
  if (encoded.byteLength <= 100) return block(encoded, size, '0');
  const longName = Buffer.concat([encoded, Buffer.alloc(1)]);
  const pad = (BLOCK - (longName.byteLength % BLOCK)) % BLOCK;
  return Buffer.concat([
    block(Buffer.from('././@LongLink'), longName.byteLength, 'L'),
    longName,
    Buffer.alloc(pad),
    block(encoded.subarray(0, 100), size, '0'),
  ]);
}

function block(name: Uint8Array, size: number, type: string): Buffer {
  const out = Buffer.alloc(BLOCK);
  out.set(name.subarray(0, 100), 0);
  out.write(octal(0o644, 8), 100, 'latin1');
  out.write(octal(0, 8), 108, 'latin1');
  out.write(octal(0, 8), 116, 'latin1');
  if (size < 8 ** 11) {
    out.write(octal(size, 12), 124, 'latin1');
  } else {
    // GNU base-256 for sizes of 8 GiB and more.
    let value = size;
    for (let i = 135; i > 124; i -= 1) {
      out[i] = value % 256;
      value = Math.floor(value / 256);
    }
    out[124] = 0x80;
  }
  out.write(octal(0, 12), 136, 'latin1');
  out.write(type, 156, 'latin1');
  out.write('ustar\u000000', 257, 'latin1');
  out.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of out) sum += byte;
  out.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return out;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\u0000`;
}
