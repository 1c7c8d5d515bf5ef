import type { Readable } from 'node:stream';
import {
  type Descriptor,
  type Digest,
  definedProps,
  GhcrErrorCode,
  InvalidInputError,
  ProtocolError,
  parseDigest,
} from '@ghcr/oci-types';
import { resumableBlobStream, verifiedBlobStream } from './blob-download.js';
import { type BlobInput, type BlobSource, toBlobSource } from './blob-source.js';
import {
  identifySource,
  pushBlob,
  pushStream,
  type UploadBlobOptions,
  type UploadBlobResult,
  type UploadStreamOptions,
} from './blob-upload.js';
import type { RegistryDependencies, UploadLimits } from './dependencies.js';
import { checkRepository } from './names.js';
import { discard, header } from './responses.js';
import { registryUrl } from './urls.js';

const OCTET_STREAM = 'application/octet-stream';

/**
 * A blob to read: its digest, or a descriptor (whose `size` is then enforced too).
 * @public
 */
export type BlobRef = string | Pick<Descriptor, 'digest' | 'size'>;

/**
 * Options of blob reads.
 * @public
 */
export interface GetBlobOptions {
  readonly signal?: AbortSignal | undefined;
  /**
   * For `get`: you hold at most this many chunks of the stream at once (a chunk is done with once
   * this many later ones were taken; `BlobOpenOptions.recycleAfter`), so the stream may copy the
   * blob into a ring of reused buffers instead of a new buffer per read. Only for a consumer that
   * copies each chunk out before taking more (a socket write). If omitted, every chunk is a buffer
   * of its own.
   */
  readonly recycleAfter?: number | undefined;
}

/**
 * Options of {@link Blobs.getBytes}.
 * @public
 */
export interface GetBlobBytesOptions extends GetBlobOptions {
  /** Refuse blobs larger than this (read stops there). If omitted, 4 MiB: meant for configs, not layers. */
  readonly maxBytes?: number | undefined;
}

/**
 * The blob operations of one registry. Every blob read is verified against its digest (and size,
 * when a descriptor is given) while it flows; every upload is resumable.
 * @public
 */
export interface Blobs {
  /** HEAD: the blob's descriptor (`application/octet-stream`, digest, size), or undefined when absent. */
  exists(repository: string, digest: string, options?: GetBlobOptions): Promise<Descriptor | undefined>;
  /**
   * A stream of the blob, verified while it flows: a digest or size mismatch errors the stream
   * (DigestMismatchError / `GHCR_SIZE_MISMATCH`) before its last byte is handed on. Follows GHCR's
   * 307 to its blob host (without credentials), and after a dropped connection re-requests from
   * the byte reached with `Range`.
   */
  get(repository: string, blob: BlobRef, options?: GetBlobOptions): Readable;
  /** The whole blob in memory, verified; for small blobs (configs). */
  getBytes(repository: string, blob: BlobRef, options?: GetBlobBytesOptions): Promise<Buffer>;
  /**
   * The blob as a re-readable {@link BlobSource} (each `open(offset)` is a `Range` request), to feed
   * `upload` on another registry: a streamed copy that resumes on both sides. Not verified here:
   * the receiving registry checks the digest when the upload completes.
   */
  source(repository: string, descriptor: Pick<Descriptor, 'digest' | 'size'>): BlobSource;
  /**
   * Pushes a blob unless the repository has it: a mount from `mountFrom` first when given, then one
   * PUT for blobs up to `monolithicThreshold`, else PATCH chunks that resume from the session's
   * offset after a failure. The source is streamed, never held whole.
   */
  upload(repository: string, content: BlobInput, options?: UploadBlobOptions): Promise<UploadBlobResult>;
  /**
   * Pushes content that can be read only once and whose digest is not known beforehand (a stream
   * being compressed, a generated tar): its sha256 is computed as it is sent, in one `PATCH` with
   * no declared length (as Docker streams a layer), and the upload is closed with that digest.
   * No existence check and no resumption: a failure cancels the session and rejects; for a
   * resumable upload give `upload` a {@link BlobSource}. Emits `pushed` (no `progress`: its events
   * name a digest, known only at the end).
   */
  uploadStream(
    repository: string,
    content: Readable | AsyncIterable<Uint8Array>,
    options?: UploadStreamOptions,
  ): Promise<UploadBlobResult>;
}

function refOf(blob: BlobRef): { digest: Digest; size?: number } {
  if (typeof blob === 'string') return { digest: parseDigest(blob).digest };
  return { digest: parseDigest(blob.digest).digest, size: blob.size };
}

/**
 * Creates the blob capability from its endpoint, event sink and upload limits.
 * @internal
 */
export function createBlobs(deps: RegistryDependencies<UploadLimits>): Blobs {
  const exists: Blobs['exists'] = async (repository, digest, options = {}) => {
    checkRepository(repository);
    const parsed = parseDigest(digest).digest;
    const response = await deps.endpoint.send({
      operation: 'blobs.exists',
      method: 'HEAD',
      url: registryUrl(deps, repository, `blobs/${parsed}`),
      auth: { kind: 'registry', repository, actions: ['pull'] },
      acceptStatus: [404],
      ...definedProps({ signal: options.signal }),
    });
    await discard(response);
    if (response.status === 404) return undefined;
    const length = Number(header(response, 'content-length'));
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new ProtocolError(
        `HEAD blob ${parsed} of ${deps.endpoint.host}/${repository}: the registry sent no usable Content-Length, so the blob's size is unknown`,
        { code: GhcrErrorCode.MISSING_HEADER },
      );
    }
    return { mediaType: OCTET_STREAM, digest: parsed, size: length };
  };

  const get: Blobs['get'] = (repository, blob, options = {}) => {
    checkRepository(repository);
    const ref = refOf(blob);
    return verifiedBlobStream(deps, {
      repository,
      digest: ref.digest,
      operation: 'blobs.get',
      ...definedProps({ size: ref.size, signal: options.signal, recycleAfter: options.recycleAfter }),
    });
  };

  return {
    exists,
    get,
    async getBytes(repository, blob, options = {}) {
      const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
      const ref = refOf(blob);
      if (ref.size !== undefined && ref.size > maxBytes)
        throw tooLarge(ref.digest, String(ref.size), maxBytes);
      const stream = get(repository, blob, options);
      const chunks: Buffer[] = [];
      let total = 0;
      try {
        for await (const chunk of stream) {
          total += (chunk as Buffer).byteLength;
          if (total > maxBytes) throw tooLarge(ref.digest, `more than ${maxBytes}`, maxBytes);
          chunks.push(chunk as Buffer);
        }
      } finally {
        stream.destroy();
      }
      return Buffer.concat(chunks);
    },
    source(repository, descriptor) {
      checkRepository(repository);
      const ref = refOf(descriptor);
      return {
        ...definedProps({ size: ref.size }),
        open(offset, signal, openOptions = {}) {
          return resumableBlobStream(deps, {
            repository,
            digest: ref.digest,
            offset,
            operation: 'blobs.get',
            ...definedProps({ size: ref.size, signal, recycleAfter: openOptions.recycleAfter }),
          });
        },
      };
    },
    async uploadStream(repository, content, options = {}) {
      checkRepository(repository);
      const { digest, size } = await pushStream(deps, repository, content, options);
      const mediaType = options.mediaType ?? OCTET_STREAM;
      deps.events.emit('pushed', {
        kind: 'blob',
        registry: deps.endpoint.host,
        repository,
        digest,
        size,
        mediaType,
        tags: [],
        method: 'uploaded',
      });
      return { descriptor: { mediaType, digest, size }, method: 'uploaded' };
    },
    async upload(repository, content, options = {}) {
      checkRepository(repository);
      const source = toBlobSource(content);
      const identity = await identifySource(source, options);
      const mediaType = options.mediaType ?? OCTET_STREAM;
      const descriptor: Descriptor = { mediaType, digest: identity.digest, size: identity.size };
      let method: UploadBlobResult['method'] | undefined;
      if (options.skipExistsCheck !== true) {
        const found = await exists(repository, identity.digest, options);
        if (found !== undefined) method = 'exists';
      }
      method ??= await pushBlob(deps, repository, source, identity, options);
      deps.events.emit('pushed', {
        kind: 'blob',
        registry: deps.endpoint.host,
        repository,
        digest: identity.digest,
        size: identity.size,
        mediaType,
        tags: [],
        method,
      });
      return { descriptor, method };
    },
  };
}

function tooLarge(digest: string, size: string, maxBytes: number): InvalidInputError {
  return new InvalidInputError(
    `blob ${digest} has ${size} bytes, over the ${maxBytes}-byte limit of getBytes; stream it with get() instead, or raise maxBytes`,
  );
}
