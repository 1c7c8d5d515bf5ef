import { Readable } from 'node:stream';
import { DEFAULT_MAX_MANIFEST_BYTES, parseManifest } from '@ghcr/manifest';
import {
  createVerifyingStream,
  type Descriptor,
  GhcrErrorCode,
  isDigest,
  NotFoundError,
  ProtocolError,
  parseDigest,
} from '@ghcr/oci-types';
import { type BlobInput, type BlobSource, bufferSource, toBlobSource } from '../registry/blob-source.js';
import { checkTag } from '../registry/names.js';
import { checkBytes, readAllCapped } from './content.js';
import { isManifestDescriptor, type Target } from './target.js';

/**
 * Options of {@link memoryTarget}.
 * @public
 */
export interface MemoryTargetOptions {
  /** Refuse a single content larger than this. If omitted, 256 MiB: memory targets are for tests and small artifacts. */
  readonly maxContentBytes?: number | undefined;
}

/**
 * A {@link Target} held in memory (tests, building an artifact before pushing it). It keeps every
 * content it is given whole, so it is not for large images.
 * @public
 */
export interface MemoryTarget extends Target {
  /** Digests of everything stored. */
  digests(): string[];
  /** The tags and the descriptors they point at. */
  references(): Map<string, Descriptor>;
  /** The stored bytes as a source. */
  source(descriptor: Descriptor): BlobSource;
}

/**
 * Creates an empty in-memory target.
 * @public
 */
export function memoryTarget(options: MemoryTargetOptions = {}): MemoryTarget {
  const maxContentBytes = options.maxContentBytes ?? 256 * 1024 * 1024;
  const contents = new Map<string, { bytes: Uint8Array; descriptor: Descriptor }>();
  const tags = new Map<string, Descriptor>();

  const get = (descriptor: Descriptor): Uint8Array => {
    const found = contents.get(parseDigest(descriptor.digest).digest);
    if (found === undefined) {
      throw new NotFoundError(`memory target has no content ${descriptor.digest}`, {
        resource: descriptor.digest,
      });
    }
    return found.bytes;
  };

  return {
    name: 'memory',
    async resolve(reference) {
      const tagged = tags.get(reference);
      if (tagged !== undefined) return tagged;
      if (isDigest(reference)) {
        const found = contents.get(reference);
        if (found !== undefined) return found.descriptor;
      }
      throw new NotFoundError(
        `memory target has no reference "${reference}"; it has ${[...tags.keys()].join(', ') || 'no tags'}`,
        { resource: reference },
      );
    },
    async exists(descriptor) {
      const found = contents.get(descriptor.digest);
      return found !== undefined && found.bytes.byteLength === descriptor.size;
    },
    fetch(descriptor) {
      const verifier = createVerifyingStream(descriptor.digest, {
        size: descriptor.size,
        what: `content ${descriptor.digest} of the memory target`,
      });
      let source: Readable;
      try {
        source = bufferSource(get(descriptor)).open(0) as Readable;
      } catch (error) {
        source = Readable.from(
          (async function* failing() {
            yield* [];
            throw error;
          })(),
        );
      }
      source.on('error', (error) => verifier.destroy(error));
      return source.pipe(verifier);
    },
    async fetchManifest(descriptor) {
      const bytes = get(descriptor);
      checkBytes(bytes, descriptor, `manifest ${descriptor.digest} of the memory target`);
      return parseManifest(bytes, {
        contentType: descriptor.mediaType,
        expectedDigest: descriptor.digest,
        maxBytes: Math.max(DEFAULT_MAX_MANIFEST_BYTES, descriptor.size),
      });
    },
    source(descriptor) {
      return bufferSource(get(descriptor));
    },
    async push(descriptor, content: BlobInput, pushOptions = {}) {
      const digest = parseDigest(descriptor.digest).digest;
      const what = `content ${digest} for the memory target`;
      if (descriptor.size > maxContentBytes) {
        throw new ProtocolError(
          `${what} has ${descriptor.size} bytes, over the memory target's ${maxContentBytes}-byte limit; use an OCI layout for large content`,
          { code: GhcrErrorCode.SIZE_MISMATCH },
        );
      }
      const bytes = await readAllCapped(
        content instanceof Uint8Array ? content : toBlobSource(content),
        Math.max(maxContentBytes, descriptor.size),
        what,
        pushOptions.signal,
      );
      checkBytes(bytes, descriptor, what);
      if (isManifestDescriptor(descriptor)) {
        parseManifest(bytes, { contentType: descriptor.mediaType, expectedDigest: digest });
      }
      contents.set(digest, { bytes, descriptor: { ...descriptor, digest } });
      pushOptions.onProgress?.(bytes.byteLength);
      return { method: 'transferred' };
    },
    async tag(descriptor, reference) {
      if (!contents.has(descriptor.digest)) {
        throw new NotFoundError(
          `cannot tag ${descriptor.digest} as "${reference}" in the memory target: push the manifest first`,
          { resource: descriptor.digest },
        );
      }
      if (isDigest(reference)) return;
      checkTag(reference);
      tags.set(reference, {
        mediaType: descriptor.mediaType,
        digest: descriptor.digest,
        size: descriptor.size,
      });
    },
    digests: () => [...contents.keys()],
    references: () => new Map(tags),
  };
}
