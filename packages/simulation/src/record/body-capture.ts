/**
 * Captures one body as it streams past, without ever holding a large one whole: bytes stay in
 * memory up to a limit, then spill to a temporary file in the cassette's `blobs/` directory while
 * a digest is computed, and the file is renamed to `sha256-<hex>` when the body ends.
 */

import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDigester, type Digester, digestOf } from '@ghcr/oci-types';
import type { RecordedBody } from './cassette.js';
import { decodeText, isRedactableContentType, redactBody } from './redaction.js';

/** 64 KiB: bodies larger than this go to the blobs directory. @public */
export const DEFAULT_BODY_THRESHOLD_BYTES = 64 * 1024;
/** JSON, form, text and untyped bodies up to this size are held in memory and redacted. @internal */
export const REDACTION_LIMIT_BYTES = 1024 * 1024;

/**
 * Options of a {@link BodyCapture}.
 * @internal
 */
export interface BodyCaptureOptions {
  /** Where large bodies are written. If omitted, nothing is written and only digest and size are kept. */
  readonly blobsDirectory?: string | undefined;
  /** Directory name of `blobsDirectory` relative to the cassette, used in body refs. */
  readonly blobsPrefix?: string | undefined;
  /** Bodies larger than this are stored by digest. */
  readonly thresholdBytes: number;
  readonly contentType?: string | undefined;
  readonly contentEncoding?: string | undefined;
}

/**
 * What a finished capture produced: the body reference for the cassette, or (when nothing is
 * stored) digest and size only.
 * @internal
 */
export type CapturedBody = RecordedBody;

/** The file name of a blob in the blobs directory (`sha256-<hex>`). @internal */
export function blobFileName(digest: string): string {
  return digest.replace(':', '-');
}

/**
 * A tee for one body. Call {@link BodyCapture.write} per chunk (it returns false when the disk
 * is behind: wait for {@link BodyCapture.waitForDrain}), then {@link BodyCapture.finish}.
 * @internal
 */
export class BodyCapture {
  readonly #options: BodyCaptureOptions;
  readonly #memoryLimit: number;
  readonly #redactable: boolean;
  #chunks: Buffer[] = [];
  #size = 0;
  #file: WriteStream | undefined;
  #temporaryPath: string | undefined;
  #digester: Digester | undefined;
  #failure: unknown;
  #opening: Promise<void> | undefined;

  constructor(options: BodyCaptureOptions) {
    this.#options = options;
    // Bodies that may hold credentials (JSON, form, text, or of unknown type) are redacted when
    // they are at most REDACTION_LIMIT_BYTES, whatever the threshold, so a recorder and a replayer
    // with different thresholds compute the same digest for the same body.
    this.#redactable = options.contentType === undefined || isRedactableContentType(options.contentType);
    this.#memoryLimit = this.#redactable
      ? Math.max(options.thresholdBytes, REDACTION_LIMIT_BYTES)
      : options.thresholdBytes;
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.#size;
  }

  /** Feeds a chunk; false means the file is behind and the producer should wait. */
  write(chunk: Uint8Array): boolean {
    const buffer = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.#size += buffer.byteLength;
    if (this.#digester === undefined) {
      this.#chunks.push(Buffer.from(buffer));
      if (this.#size > this.#memoryLimit) this.#spill();
      return true;
    }
    this.#digester.update(buffer);
    if (this.#options.blobsDirectory === undefined || this.#failure !== undefined) return true;
    if (this.#file === undefined) {
      // Still opening: hold the chunk until the file exists.
      this.#chunks.push(Buffer.from(buffer));
      return this.#chunks.length < 16;
    }
    return this.#file.write(buffer);
  }

  /** Resolves when the file has room again (at once when nothing is pending). */
  waitForDrain(): Promise<void> {
    const file = this.#file;
    if (file === undefined) return this.#opening ?? Promise.resolve();
    if (!file.writableNeedDrain) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        file.off('drain', done);
        file.off('error', done);
        file.off('close', done);
        resolve();
      };
      file.once('drain', done);
      file.once('error', done);
      file.once('close', done);
    });
  }

  #spill(): void {
    const digester = createDigester('sha256');
    for (const chunk of this.#chunks) digester.update(chunk);
    this.#digester = digester;
    const directory = this.#options.blobsDirectory;
    if (directory === undefined) {
      // Matching only: keep the digest, drop the bytes.
      this.#chunks = [];
      this.#file = undefined;
      this.#opening = Promise.resolve();
      return;
    }
    this.#opening = (async () => {
      try {
        await mkdir(directory, { recursive: true });
        const path = join(directory, `.tmp-${randomUUID()}`);
        this.#temporaryPath = path;
        const file = createWriteStream(path);
        file.on('error', (error) => {
          this.#failure ??= error;
        });
        this.#file = file;
        const held = this.#chunks;
        this.#chunks = [];
        for (const chunk of held) file.write(chunk);
      } catch (error) {
        this.#failure ??= error;
        this.#chunks = [];
      }
    })();
  }

  /** Ends the capture and returns the body reference (writing or renaming the blob file). */
  async finish(): Promise<CapturedBody> {
    if (this.#digester === undefined) return this.#finishInMemory();
    await this.#opening;
    const digest = this.#digester.digest();
    const file = this.#file;
    if (file !== undefined) {
      await new Promise<void>((resolve) => file.end(resolve));
    }
    if (this.#failure !== undefined) throw this.#failure;
    const size = this.#size;
    if (this.#options.blobsDirectory === undefined || this.#temporaryPath === undefined) {
      return { size, digest, blob: '' };
    }
    const name = blobFileName(digest);
    const target = join(this.#options.blobsDirectory, name);
    if (await exists(target)) await rm(this.#temporaryPath, { force: true });
    else await rename(this.#temporaryPath, target);
    return { size, digest, blob: `${this.#options.blobsPrefix ?? 'blobs'}/${name}` };
  }

  async #finishInMemory(): Promise<CapturedBody> {
    const whole = Buffer.concat(this.#chunks);
    this.#chunks = [];
    const { bytes, changed } =
      this.#redactable && whole.byteLength <= REDACTION_LIMIT_BYTES
        ? redactBody(whole, this.#options.contentType, this.#options.contentEncoding)
        : { bytes: whole, changed: false };
    const digest = digestOf(bytes);
    const size = bytes.byteLength;
    const redacted = changed ? { redacted: true } : {};
    if (size <= this.#options.thresholdBytes || this.#options.blobsDirectory === undefined) {
      const text = decodeText(bytes);
      if (this.#options.blobsDirectory === undefined) {
        return { size, digest, encoding: 'utf8', data: '', ...redacted };
      }
      return text === undefined
        ? { size, digest, encoding: 'base64', data: Buffer.from(bytes).toString('base64'), ...redacted }
        : { size, digest, encoding: 'utf8', data: text, ...redacted };
    }
    await mkdir(this.#options.blobsDirectory, { recursive: true });
    const name = blobFileName(digest);
    const target = join(this.#options.blobsDirectory, name);
    if (!(await exists(target))) {
      const temporary = join(this.#options.blobsDirectory, `.tmp-${randomUUID()}`);
      await writeFile(temporary, bytes);
      await rename(temporary, target);
    }
    return { size, digest, blob: `${this.#options.blobsPrefix ?? 'blobs'}/${name}`, ...redacted };
  }

  /** Drops whatever was captured (removes a temporary file). */
  async discard(): Promise<void> {
    this.#chunks = [];
    await this.#opening;
    const file = this.#file;
    if (file !== undefined) await new Promise<void>((resolve) => file.end(resolve));
    if (this.#temporaryPath !== undefined) await rm(this.#temporaryPath, { force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
