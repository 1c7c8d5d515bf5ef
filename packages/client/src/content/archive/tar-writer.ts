import { randomUUID } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { GhcrErrorCode, InternalError, InvalidInputError, ProtocolError } from '@ghcr/oci-types';
import { fileFailure } from '../layout-paths.js';

const BLOCK = 512;
/** Bytes gathered before one positioned write. */
const WRITE_BATCH_BYTES = 1024 * 1024;

/**
 * Writes a tar archive (ustar, with GNU long names when a name is over 100 bytes) to a temporary
 * file next to its final path, one entry at a time: entries are queued, so parallel writers take
 * turns (a writer's content is only opened when its turn comes). {@link TarWriter.commit} ends
 * the archive, syncs it and renames it into place; {@link TarWriter.discard} removes it. After a
 * failed entry the archive is damaged and can only be discarded.
 * @internal
 */
export class TarWriter {
  /** The final path (absolute). */
  readonly path: string;
  /** The temporary file written until commit. */
  readonly temp: string;
  #handle: Promise<FileHandle> | undefined;
  #position = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #failed: unknown;
  #done = false;
  readonly #names = new Set<string>();

  constructor(path: string) {
    this.path = resolve(path);
    this.temp = join(dirname(this.path), `.${basename(this.path)}.ghcr-tmp-${randomUUID()}`);
  }

  /** True when an entry of this name was written. */
  has(name: string): boolean {
    return this.#names.has(name);
  }

  /** Adds a directory entry. */
  directory(name: string): Promise<void> {
    return this.#turn(async (handle) => {
      if (this.#names.has(name)) return;
      await this.#write(handle, header(`${name}/`, 0, '5'));
      this.#names.add(name);
    });
  }

  /** Adds a file entry from bytes in memory. */
  bytes(name: string, content: Uint8Array): Promise<void> {
    return this.file(name, content.byteLength, async () =>
      (async function* one() {
        yield content;
      })(),
    );
  }

  /**
   * Adds a file entry of `size` bytes; `content` is opened when the entry's turn comes, and must
   * yield exactly `size` bytes (it may verify them and throw: the archive is then damaged).
   */
  file(name: string, size: number, content: () => Promise<AsyncIterable<Uint8Array>>): Promise<void> {
    return this.#turn(async (handle) => {
      await this.#write(handle, header(name, size, '0'));
      let written = 0;
      let batch: Uint8Array[] = [];
      let batched = 0;
      const flush = async (): Promise<void> => {
        if (batched === 0) return;
        await this.#write(handle, batch.length === 1 ? (batch[0] as Uint8Array) : Buffer.concat(batch));
        batch = [];
        batched = 0;
      };
      for await (const chunk of await content()) {
        written += chunk.byteLength;
        if (written > size) break;
        batch.push(chunk);
        batched += chunk.byteLength;
        if (batched >= WRITE_BATCH_BYTES) await flush();
      }
      await flush();
      if (written !== size) {
        throw new ProtocolError(
          `the entry "${name}" of ${this.path} got ${written > size ? 'more' : 'fewer'} bytes than its ${size}`,
          { code: GhcrErrorCode.SIZE_MISMATCH },
        );
      }
      const pad = (BLOCK - (size % BLOCK)) % BLOCK;
      if (pad > 0) await this.#write(handle, Buffer.alloc(pad));
      this.#names.add(name);
    });
  }

  /** Ends the archive, syncs it and renames it to its final path. */
  async commit(): Promise<void> {
    await this.#turn(async (handle) => {
      await this.#write(handle, Buffer.alloc(BLOCK * 2));
      await handle.datasync();
    });
    this.#done = true;
    const handle = await this.#handle;
    await handle?.close();
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
    await handle?.close().catch(() => {});
    await rm(this.temp, { force: true });
  }

  #turn(step: (handle: FileHandle) => Promise<void>): Promise<void> {
    const run = this.#queue.then(async () => {
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
      this.#handle ??= open(this.temp, 'wx', 0o644);
      const handle = await this.#handle.catch((error: unknown) => {
        throw fileFailure(error, 'creating the archive', this.temp);
      });
      try {
        await step(handle);
      } catch (error) {
        this.#failed = error;
        throw error;
      }
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  async #write(handle: FileHandle, bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesWritten } = await handle
        .write(bytes, done, bytes.byteLength - done, this.#position + done)
        .catch((error: unknown) => {
          throw fileFailure(error, 'writing the archive', this.path);
        });
      done += bytesWritten;
    }
    this.#position += done;
  }
}

/** A ustar header; a name over 100 bytes is carried by a GNU long-name entry first. */
function header(name: string, size: number, type: '0' | '5'): Buffer {
  const encoded = Buffer.from(name, 'utf8');
  if (encoded.byteLength <= 100) return block(encoded, size, type);
  const longName = Buffer.concat([encoded, Buffer.alloc(1)]);
  const pad = (BLOCK - (longName.byteLength % BLOCK)) % BLOCK;
  return Buffer.concat([
    block(Buffer.from('././@LongLink'), longName.byteLength, 'L'),
    longName,
    Buffer.alloc(pad),
    block(encoded.subarray(0, 100), size, type),
  ]);
}

function block(name: Uint8Array, size: number, type: string): Buffer {
  const out = Buffer.alloc(BLOCK);
  out.set(name.subarray(0, 100), 0);
  out.write(octal(type === '5' ? 0o755 : 0o644, 8), 100, 'latin1');
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
