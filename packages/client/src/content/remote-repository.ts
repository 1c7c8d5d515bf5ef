import { Readable } from 'node:stream';
import { DEFAULT_MAX_MANIFEST_BYTES, type ParsedManifest } from '@ghcr/manifest';
import {
  type Descriptor,
  DistributionErrorCode,
  definedProps,
  GhcrErrorCode,
  isDigest,
  NotFoundError,
  ProtocolError,
  parseDigest,
} from '@ghcr/oci-types';
import { type BlobInput, type BlobSource, toBlobSource } from '../registry/blob-source.js';
import type { Blobs } from '../registry/blobs.js';
import type { Manifests } from '../registry/manifests.js';
import { checkRepository, checkTag, parseManifestReference } from '../registry/names.js';
import type { Tags } from '../registry/tags.js';
import { checkBytes, countingSource, readAllCapped, signalOption } from './content.js';
import { isManifestDescriptor, type Target, type TargetLocation } from './target.js';

/**
 * The parts of a client a remote repository target needs; a `GhcrClient` has them all.
 * @public
 */
export interface RemoteRepositoryParts {
  /** Registry host, e.g. `ghcr.io` or `127.0.0.1:5000`. */
  readonly registry: string;
  readonly blobs: Blobs;
  readonly manifests: Manifests;
  readonly tags: Tags;
}

/**
 * Options of {@link remoteRepository}.
 * @public
 */
export interface RemoteRepositoryOptions {
  /** Largest manifest pushed through this target. If omitted, 4 MiB. */
  readonly maxManifestBytes?: number | undefined;
}

/**
 * A repository of a registry as a {@link Target}: blobs through `blobs` (verified reads that
 * resume with `Range`; resumable uploads, mounted from `mountFrom` when on the same registry),
 * manifests through `manifests` (exact bytes), tags through `tags`.
 * @public
 */
export interface RemoteRepositoryTarget extends Target {
  readonly location: TargetLocation;
  /** A blob read with `Range` from any offset (`Blobs.source`); the receiving side verifies it. */
  source(descriptor: Descriptor): BlobSource;
}

/**
 * Wraps one repository of a client's registry as a copy {@link Target}.
 *
 * ```ts
 * const source = remoteRepository(client, 'octo/app');
 * const descriptor = await source.resolve('1.0.0');
 * ```
 * @public
 */
export function remoteRepository(
  parts: RemoteRepositoryParts,
  repository: string,
  options: RemoteRepositoryOptions = {},
): RemoteRepositoryTarget {
  checkRepository(repository);
  const maxManifestBytes = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  const name = `${parts.registry}/${repository}`;
  const { blobs, manifests, tags } = parts;

  const fetchManifest = async (descriptor: Descriptor, signal?: AbortSignal): Promise<ParsedManifest> => {
    const parsed = await manifests.get(repository, parseDigest(descriptor.digest).digest, {
      maxBytes: Math.max(maxManifestBytes, descriptor.size),
      ...signalOption(signal),
    });
    if (parsed.size !== descriptor.size) {
      throw new ProtocolError(
        `manifest ${name}@${descriptor.digest} has ${parsed.size} bytes but its descriptor says ${descriptor.size}; the descriptor that pointed at it is wrong`,
        { code: GhcrErrorCode.SIZE_MISMATCH },
      );
    }
    return parsed;
  };

  const missing = (reference: string): string =>
    `${name}${isDigest(reference) ? '@' : ':'}${reference} does not exist: no manifest has that ${isDigest(reference) ? 'digest' : 'tag'}`;

  return {
    name,
    location: { registry: parts.registry, repository },
    async resolve(reference, readOptions = {}) {
      parseManifestReference(reference);
      const found = await manifests.head(repository, reference, readOptions);
      if (found === undefined) {
        throw new NotFoundError(missing(reference), {
          code: 'MANIFEST_UNKNOWN',
          resource: `manifest ${name}:${reference}`,
        });
      }
      return found;
    },
    async fetchManifestByReference(reference, readOptions = {}) {
      parseManifestReference(reference);
      try {
        return await manifests.get(repository, reference, {
          maxBytes: maxManifestBytes,
          ...signalOption(readOptions.signal),
        });
      } catch (error) {
        if (NotFoundError.isInstance(error)) {
          throw new NotFoundError(missing(reference), {
            code: 'MANIFEST_UNKNOWN',
            resource: `manifest ${name}:${reference}`,
            cause: error,
          });
        }
        throw error;
      }
    },
    async exists(descriptor, readOptions = {}) {
      if (isManifestDescriptor(descriptor)) {
        return (
          (await manifests.head(repository, parseDigest(descriptor.digest).digest, readOptions)) !== undefined
        );
      }
      return (await blobs.exists(repository, descriptor.digest, readOptions)) !== undefined;
    },
    fetch(descriptor, readOptions = {}) {
      if (isManifestDescriptor(descriptor)) {
        return Readable.from(
          (async function* manifestBytes() {
            yield (await fetchManifest(descriptor, readOptions.signal)).bytes;
          })(),
          { objectMode: false },
        );
      }
      return blobs.get(repository, descriptor, readOptions);
    },
    fetchManifest: (descriptor, readOptions = {}) => fetchManifest(descriptor, readOptions.signal),
    async isKnownEmpty(readOptions = {}) {
      // One tag is enough to tell: a repository that exists answers 200, even with no tags.
      try {
        await tags.list(repository, { pageSize: 1, limit: 1, ...signalOption(readOptions.signal) });
        return false;
      } catch (error) {
        if (NotFoundError.isInstance(error) && error.code === DistributionErrorCode.NAME_UNKNOWN) return true;
        if (readOptions.signal?.aborted === true) throw error;
        // Anything else (no right to list, a registry without the endpoint, a failure): unsure,
        // so the copy asks blob by blob as it would have.
        return false;
      }
    },
    source(descriptor) {
      return blobs.source(repository, descriptor);
    },
    async push(descriptor, content: BlobInput, pushOptions = {}) {
      if (isManifestDescriptor(descriptor)) {
        const what = `manifest ${descriptor.digest} for ${name}`;
        const bytes = await readAllCapped(content, maxManifestBytes, what, pushOptions.signal);
        checkBytes(bytes, descriptor, what);
        await manifests.put(
          repository,
          { bytes, mediaType: descriptor.mediaType },
          signalOption(pushOptions.signal),
        );
        pushOptions.onProgress?.(bytes.byteLength);
        return { method: 'transferred' };
      }
      const source = toBlobSource(content);
      const counted =
        pushOptions.onProgress === undefined ? source : countingSource(source, pushOptions.onProgress);
      const result = await blobs.upload(repository, counted, {
        digest: descriptor.digest,
        size: descriptor.size,
        mediaType: descriptor.mediaType,
        skipExistsCheck: true,
        ...definedProps({ mountFrom: pushOptions.mountFrom }),
        ...signalOption(pushOptions.signal),
      });
      if (result.method === 'mounted') {
        pushOptions.onProgress?.(descriptor.size);
        return { method: 'mounted' };
      }
      return { method: 'transferred' };
    },
    async tag(descriptor, reference, tagOptions = {}) {
      if (isDigest(reference)) {
        if (reference !== descriptor.digest) {
          throw new ProtocolError(
            `cannot point ${name}@${reference} at ${descriptor.digest}: a digest reference names its own content; give a tag`,
            { code: GhcrErrorCode.INVALID_REFERENCE },
          );
        }
        return;
      }
      checkTag(reference);
      let bytes = tagOptions.manifest;
      if (bytes === undefined) {
        bytes = (await fetchManifest(descriptor, tagOptions.signal)).bytes;
      } else {
        checkBytes(bytes, descriptor, `manifest ${descriptor.digest} to tag ${name}:${reference}`);
      }
      await tags.tag(
        repository,
        { bytes, mediaType: descriptor.mediaType },
        [reference],
        signalOption(tagOptions.signal),
      );
    },
  };
}
