import { PassThrough, type Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  createContentVerifier,
  createDigester,
  type Descriptor,
  type Digest,
  definedProps,
  GhcrErrorCode,
  InvalidInputError,
} from '@ghcr/oci-types';
import { type BlobInput, closeQuietly, toBlobSource } from '../../registry/blob-source.js';
import { EARLY_SYNC_BYTES } from '../oci-layout.js';
import type { Target, TargetPushOptions, TargetPushResult } from '../target.js';
import { writeVerifiedFile } from '../verified-file-write.js';
import { LayerGzip } from './layer-gzip.js';
import { createSpool, type LayerSpool } from './layer-spool.js';
import { archiveError, zlib } from './tar-index.js';
import type { TarWriter } from './tar-writer.js';

/**
 * The two archive formats: `docker-archive` (what `docker save` writes and `docker load` reads)
 * and `oci-archive` (a tar of an OCI image layout).
 * @public
 */
export type ArchiveFormat = 'docker-archive' | 'oci-archive';

/**
 * One image of an archive, as listed by {@link ArchiveTarget.images}.
 * @public
 */
export interface ArchiveImage {
  /** Its position (0-based), selected with `@INDEX`. */
  readonly index: number;
  /** Its names: `RepoTags` of a docker-archive, `org.opencontainers.image.ref.name` of an oci-archive. */
  readonly names: readonly string[];
}

/**
 * A tar archive as a {@link Target}. Reading (resolve, fetch, …) reads the archive at `path` as it
 * is: one pass indexes the tar, entries are then read by offset, nothing is extracted. Writing
 * (push, tag) builds a new archive in a temporary file next to `path`: call
 * {@link ArchiveTarget.commit} after the copy to finish it and rename it into place (only then
 * does a file appear at `path`), or {@link ArchiveTarget.discard} after a failure.
 * @public
 */
export interface ArchiveTarget extends Target {
  readonly format: ArchiveFormat;
  /** The archive file (absolute). */
  readonly path: string;
  /** The images of the archive at `path`. */
  images(): Promise<ArchiveImage[]>;
  /** Finishes the archive written by push and tag, and renames it to `path`. */
  commit(): Promise<void>;
  /** Removes the archive being written (nothing appears at `path`). */
  discard(): Promise<void>;
  /**
   * Frees what reading the archive holds: the gzip streams a docker-archive kept
   * (`spoolCompressed`) for layers not read to their end. Reading goes on afterwards (such a
   * layer is compressed again). Call it once a copy from the archive is done.
   */
  close(): Promise<void>;
}

/**
 * Picks an image of an archive: `''` (the archive must hold exactly one), `@INDEX`, or a name
 * (`NAME[:TAG]`, `:latest` assumed when no tag is given).
 * @throws InvalidInputError `GHCR_INVALID_REFERENCE` naming the images there are.
 * @internal
 */
export function selectImage(images: readonly ArchiveImage[], reference: string, where: string): ArchiveImage {
  const listing = (): string =>
    images.map((image) => `@${image.index} (${image.names.join(', ') || 'no name'})`).join('; ') || 'none';
  if (reference === '') {
    const only = images[0];
    if (images.length === 1 && only !== undefined) return only;
    throw new InvalidInputError(
      `${where} holds ${images.length} images; choose one with ${where}:NAME[:TAG] or ${where}:@INDEX — it has: ${listing()}`,
      { code: GhcrErrorCode.INVALID_REFERENCE, input: where },
    );
  }
  if (/^@\d+$/.test(reference)) {
    const found = images[Number(reference.slice(1))];
    if (found !== undefined) return found;
  } else {
    const wanted = withTag(reference);
    const found = images.find((image) =>
      image.names.some(
        (name) => name === reference || withTag(name) === wanted || shortName(name) === wanted,
      ),
    );
    if (found !== undefined) return found;
  }
  throw new InvalidInputError(`${where} has no image "${reference}"; it has: ${listing()}`, {
    code: GhcrErrorCode.INVALID_REFERENCE,
    input: reference,
  });
}

/** `NAME` → `NAME:latest`; a name with a tag or digest is kept. */
function withTag(name: string): string {
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.includes(':') || last.includes('@') ? name : `${name}:latest`;
}

/** `docker.io/library/alpine:3` → `alpine:3` (how `docker save` names Hub images). */
function shortName(name: string): string {
  return withTag(name.replace(/^(?:docker\.io|index\.docker\.io)\/(?:library\/)?/, ''));
}

/**
 * What one pass over a layer found: its bytes' digest, and the digest of its uncompressed tar.
 * @internal
 */
export interface LayerMeasure {
  readonly compression: 'none' | 'gzip';
  /** sha256 and size of the bytes as stored. */
  readonly stored: { readonly digest: Digest; readonly size: number };
  /** sha256 of the uncompressed tar (the config's diff_id). */
  readonly diffId: Digest;
  /**
   * sha256 and size of the gzip stream made from an uncompressed layer, when asked for; with the
   * stream itself kept in `spool` when one was asked for and could be written.
   */
  readonly gzip?: { readonly digest: Digest; readonly size: number; readonly spool?: LayerSpool };
}

/**
 * The gzip stream a stored layer is compressed with ({@link LayerGzip}: 1 MiB pieces, compressed
 * on the thread pool, incompressible ones stored): always the same settings, so compressing the
 * same bytes again gives the same digest. It keeps references to up to 5 MiB of the chunks written
 * to it, so they must not be reused buffers.
 * @internal
 */
export function layerGzip(level: number): Transform {
  return new LayerGzip(level);
}

/**
 * Where the measuring pass also sends the gzip stream it makes ({@link measureLayer}).
 * @internal
 */
export interface LayerSend {
  /** Takes the stream as it is made; its promise settles when the stream is consumed (or failed). */
  readonly to: (stream: Readable) => Promise<unknown>;
  /** The diff_id the layer must have: the stream ends only when it does, else it fails. */
  readonly diffId: string;
}

/**
 * What {@link measureLayer} does besides measuring.
 * @internal
 */
export interface MeasureLayerOptions {
  /** Keep the gzip stream it makes in a {@link LayerSpool}. If omitted, false. */
  readonly spool?: boolean | undefined;
  /** Hand the gzip stream it makes to a receiver as it is made (instead of a spool). */
  readonly send?: LayerSend | undefined;
  /** Told the bytes of the stored layer read so far, as it reads them (each piece). */
  readonly onRead?: ((bytesRead: number) => void) | undefined;
}

/**
 * Reads a stored layer once: hashes it, finds its compression, hashes its uncompressed tar (the
 * diff_id) and, when `compress` is set and it is uncompressed, the gzip stream made from it
 * (kept in a {@link LayerSpool} when `spool` is set, so reading the layer later does not compress
 * it again; or handed to `send` as it is made, which then takes the spool's place).
 * @throws InvalidInputError `GHCR_INVALID_ARCHIVE` for a zstd layer (Node.js cannot check its diff_id).
 * @internal
 */
export async function measureLayer(
  stream: Readable,
  compress: boolean,
  level: number,
  what: string,
  path: string,
  { spool = false, send, onRead }: MeasureLayerOptions = {},
): Promise<LayerMeasure> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  const head: Buffer = first.done === true ? Buffer.alloc(0) : first.value;
  let bytesRead = 0;
  const counted = (chunk: Buffer): Buffer => {
    bytesRead += chunk.byteLength;
    onRead?.(bytesRead);
    return chunk;
  };
  const rest = async function* all(): AsyncGenerator<Buffer> {
    if (head.byteLength > 0) yield counted(head);
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
      yield counted(next.value);
    }
  };
  const stored = createDigester('sha256');
  const tee = (digester: ReturnType<typeof createDigester>): Transform =>
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        digester.update(chunk);
        callback(null, chunk);
      },
    });
  const sink = (digester: ReturnType<typeof createDigester>): Writable =>
    new Writable({
      highWaterMark: 1024 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        digester.update(chunk);
        callback();
      },
    });
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    stream.destroy();
    throw archiveError(
      path,
      `${what} is zstd-compressed, which this library cannot decompress to check its diff_id`,
      'save the image with gzip or uncompressed layers',
    );
  }
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const diff = createDigester('sha256');
    await pipeline(rest(), tee(stored), zlib().createGunzip(), sink(diff));
    return {
      compression: 'gzip',
      stored: { digest: stored.digest(), size: stored.size },
      diffId: diff.digest(),
    };
  }
  if (!compress) {
    await pipeline(rest(), sink(stored));
    const digest = stored.digest();
    return { compression: 'none', stored: { digest, size: stored.size }, diffId: digest };
  }
  const zipped = createDigester('sha256');
  const fork = send === undefined ? undefined : forkTo(send.to);
  const writer = spool && fork === undefined ? await createSpool() : undefined;
  try {
    const keep = fork?.writable ?? writer?.writable;
    if (keep === undefined) await pipeline(rest(), tee(stored), layerGzip(level), sink(zipped));
    else await pipeline(rest(), tee(stored), layerGzip(level), tee(zipped), keep);
  } catch (error) {
    await writer?.discard();
    await fork?.settle(false);
    throw error;
  }
  const kept = writer?.finish();
  const digest = stored.digest();
  // The receiver gets the stream's end only for the layer the config names.
  await fork?.settle(digest === send?.diffId);
  return {
    compression: 'none',
    stored: { digest, size: stored.size },
    diffId: digest,
    gzip: { digest: zipped.digest(), size: zipped.size, ...definedProps({ spool: kept }) },
  };
}

/**
 * A Writable that hands what it is given to `to`'s stream as it comes, waiting while that stream
 * is full. The stream ends only on `settle(true)`; `settle(false)` fails it. When the receiver
 * settles before the end was given (it failed, or returned without reading on), the rest is
 * dropped: the pass it feeds goes on. `settle` resolves once the receiver has settled.
 */
function forkTo(to: (stream: Readable) => Promise<unknown>): {
  writable: Writable;
  settle(accept: boolean): Promise<void>;
} {
  // One piece of gzip output (up to 1 MiB) at a time on each side: the receiver's socket holds
  // the rest.
  const out = new PassThrough({ highWaterMark: 64 * 1024 });
  // The receiver may not be reading yet when the stream fails (its upload still opening): it
  // meets the error when it reads, and the process must not meet it first.
  out.on('error', () => {});
  let ended = false;
  const received = Promise.resolve()
    .then(() => to(out))
    .then(
      () => undefined,
      () => undefined,
    );
  void received.then(() => {
    if (!ended) out.destroy();
  });
  const writable = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      if (out.destroyed || out.write(chunk)) {
        callback();
        return;
      }
      const go = (): void => {
        out.off('drain', go);
        out.off('close', go);
        callback();
      };
      out.on('drain', go);
      out.on('close', go);
    },
    destroy(error, callback) {
      if (error !== null) out.destroy(error);
      callback(error);
    },
  });
  return {
    writable,
    async settle(accept) {
      if (!out.destroyed) {
        if (accept) {
          ended = true;
          out.end();
        } else {
          out.destroy(new Error('the layer does not match its diff_id: not sent'));
        }
      }
      await received;
    },
  };
}

/** A descriptor with only the fields a manifest carries. @internal */
export function plainDescriptor(descriptor: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>): Descriptor {
  return { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size };
}

/** The entry a blob is stored under in an archive: `blobs/<alg>/<hex>`. @internal */
export function blobEntry(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}

/**
 * Writes a blob (or manifest) into an archive being written, as `blobs/<alg>/<hex>`, verified
 * against its descriptor as it streams. Once written, the same digest is not written again.
 * @internal
 */
export async function writeBlob(
  writer: TarWriter,
  descriptor: Descriptor,
  content: BlobInput,
  options: TargetPushOptions,
  name: string,
): Promise<TargetPushResult> {
  const entry = blobEntry(descriptor.digest);
  if (writer.has(entry)) return { method: 'transferred' };
  await writer.file(entry, descriptor.size, async (handle, position) => {
    // Straight from the source into the archive at the entry's place, verified on the way (a
    // blob read on the transport's own connections: its views copied into reused batches).
    const stream = toBlobSource(content).open(0, options.signal);
    try {
      return await writeVerifiedFile(
        stream,
        handle,
        createContentVerifier(descriptor.digest, {
          size: descriptor.size,
          what: `blob ${descriptor.digest} written to ${name}`,
        }),
        {
          position,
          syncEveryBytes: EARLY_SYNC_BYTES,
          ...definedProps({ onBytes: options.onProgress, signal: options.signal }),
        },
      );
    } catch (error) {
      closeQuietly(stream);
      throw error;
    }
  });
  return { method: 'transferred' };
}

/** True for `sha256:<hex>` or `sha512:<hex>` (an image name such as `app:1` is not one). @internal */
export function isContentDigest(reference: string): reference is `sha${string}:${string}` {
  return /^sha(?:256:[a-f0-9]{64}|512:[a-f0-9]{128})$/.test(reference);
}
