import { pipeline as pipelineCallback, Readable } from 'node:stream';
import { DEFAULT_MAX_MANIFEST_BYTES, type ParsedManifest, parseManifest } from '@ghcr/manifest';
import {
  createVerifyingStream,
  type Descriptor,
  GhcrErrorCode,
  InvalidInputError,
  isDigest,
  MediaType,
  NotFoundError,
  parseDigest,
} from '@ghcr/oci-types';
import type { BlobOpenOptions, BlobSource } from '../../registry/blob-source.js';
import { readAllCapped } from '../content.js';
import { goJson, OCI_REF_NAME_ANNOTATION } from '../oci-layout.js';
import { isManifestDescriptor } from '../target.js';
import {
  type ArchiveImage,
  type ArchiveTarget,
  blobEntry,
  isContentDigest,
  plainDescriptor,
  selectImage,
  writeBlob,
} from './archive-common.js';
import { archiveError, openTar, type TarArchive } from './tar-index.js';
import { TarWriter } from './tar-writer.js';

/**
 * Options of {@link ociArchive}.
 * @public
 */
export interface OciArchiveOptions {
  /** Largest manifest read. If omitted, 4 MiB. */
  readonly maxManifestBytes?: number | undefined;
}

const MAX_INDEX_BYTES = 64 * 1024 * 1024;
const CONTAINERD_NAME = 'io.containerd.image.name';

/**
 * An oci-archive (a tar of an OCI image layout: `oci-layout`, `index.json`, `blobs/<alg>/<hex>`,
 * as `podman save --format oci-archive`, `buildx --output type=oci` and skopeo's `oci-archive:`
 * write it) as an {@link ArchiveTarget}. Docker 25+ `docker save` output is one too.
 *
 * Reading resolves `index.json` entries by `org.opencontainers.image.ref.name` (or
 * `io.containerd.image.name`), `@INDEX`, or digest; `''` takes the only entry. Manifests and
 * blobs are the archive's own bytes, verified as they stream. Writing keeps the whole graph (an
 * index and all its platforms) and names the tagged entries in `index.json`.
 *
 * ```ts
 * const out = ociArchive('./app-oci.tar');
 * await copy(dockerArchive('./app.tar'), '', out, '1.0');
 * await out.commit();
 * ```
 * @public
 */
export function ociArchive(path: string, options: OciArchiveOptions = {}): ArchiveTarget {
  const writer = new TarWriter(path);
  const name = `oci-archive:${writer.path}`;
  const maxManifestBytes = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;

  let loaded: Promise<{ archive: TarArchive; entries: Descriptor[]; images: ArchiveImage[] }> | undefined;
  const load = () => {
    loaded ??= (async () => {
      const archive = await openTar(writer.path);
      if (!archive.has('index.json') || !archive.has('oci-layout')) {
        const hint = archive.has('manifest.json')
          ? 'it is a docker-archive: read it as docker-archive'
          : 'it is not an OCI image layout in a tar';
        throw archiveError(writer.path, 'it has no index.json and oci-layout', hint);
      }
      const bytes = await archive.read(archive.entry('index.json'), MAX_INDEX_BYTES, 'index.json');
      let index: ParsedManifest;
      try {
        index = parseManifest(bytes, { maxBytes: MAX_INDEX_BYTES, contentType: MediaType.OciIndex });
      } catch (error) {
        throw archiveError(
          writer.path,
          `its index.json is not a valid image index (${error instanceof Error ? error.message : String(error)})`,
        );
      }
      const entries = (index.manifest as { manifests?: Descriptor[] | null }).manifests ?? [];
      const images = entries.map((entry, position) => ({
        index: position,
        names: [entry.annotations?.[OCI_REF_NAME_ANNOTATION], entry.annotations?.[CONTAINERD_NAME]].filter(
          (value): value is string => value !== undefined,
        ),
      }));
      return { archive, entries, images };
    })();
    loaded.catch(() => {
      loaded = undefined;
    });
    return loaded;
  };

  const blob = async (descriptor: Descriptor) => {
    const { archive } = await load();
    const entryName = blobEntry(parseDigest(descriptor.digest).digest);
    if (!archive.has(entryName)) {
      throw new NotFoundError(`${name} has no blob ${descriptor.digest}; the archive is incomplete`, {
        resource: descriptor.digest,
      });
    }
    return { archive, entry: archive.entry(entryName) };
  };

  const raw = (
    descriptor: Descriptor,
    offset: number,
    signal?: AbortSignal,
    options?: BlobOpenOptions,
  ): Readable =>
    Readable.from(
      (async function* content() {
        const { archive, entry } = await blob(descriptor);
        yield* archive.open(entry, offset, signal, options) as AsyncIterable<Buffer>;
      })(),
      { objectMode: false },
    );

  const pushedManifests = new Set<string>();
  const names = new Map<string, Descriptor>();
  const unnamed: Descriptor[] = [];

  return {
    format: 'oci-archive',
    path: writer.path,
    name,
    images: async () => (await load()).images,
    async resolve(reference) {
      const { entries, images } = await load();
      if (isContentDigest(reference)) {
        const listed = entries.find((entry) => entry.digest === reference);
        if (listed !== undefined) return plainDescriptor(listed);
        const manifest = await this.fetchManifest({ mediaType: '', digest: reference, size: -1 });
        return plainDescriptor(manifest);
      }
      const chosen = selectImage(images, reference, name);
      return entries[chosen.index] as Descriptor;
    },
    async exists(descriptor) {
      return writer.has(blobEntry(parseDigest(descriptor.digest).digest));
    },
    fetch(descriptor, readOptions = {}) {
      const verifier = createVerifyingStream(descriptor.digest, {
        size: descriptor.size,
        what: `blob ${descriptor.digest} of ${name}`,
      });
      pipelineCallback(raw(descriptor, 0, readOptions.signal), verifier, () => {
        // Errors reach the consumer through `verifier`.
      });
      return verifier;
    },
    async fetchManifest(descriptor) {
      const { archive, entry } = await blob(descriptor);
      const limit = Math.max(maxManifestBytes, descriptor.size);
      const bytes = await archive.read(entry, limit, `manifest ${descriptor.digest}`);
      if (descriptor.size >= 0 && bytes.byteLength !== descriptor.size) {
        throw archiveError(
          writer.path,
          `manifest ${descriptor.digest} has ${bytes.byteLength} bytes but its descriptor says ${descriptor.size}`,
        );
      }
      return parseManifest(bytes, {
        ...(descriptor.mediaType === '' ? {} : { contentType: descriptor.mediaType }),
        expectedDigest: descriptor.digest,
        maxBytes: limit,
      });
    },
    source(descriptor): BlobSource {
      return {
        size: descriptor.size,
        open: (offset, signal, options) => raw(descriptor, offset, signal, options),
      };
    },
    async push(descriptor, content, pushOptions = {}) {
      if (isManifestDescriptor(descriptor)) {
        const bytes = await readAllCapped(content, Math.max(maxManifestBytes, descriptor.size), 'manifest');
        parseManifest(bytes, {
          contentType: descriptor.mediaType,
          expectedDigest: descriptor.digest,
          maxBytes: Math.max(maxManifestBytes, descriptor.size),
        });
        pushedManifests.add(descriptor.digest);
        return writeBlob(writer, descriptor, bytes, pushOptions, name);
      }
      return writeBlob(writer, descriptor, content, pushOptions, name);
    },
    async tag(descriptor, reference) {
      if (!pushedManifests.has(descriptor.digest)) {
        throw new NotFoundError(`cannot name ${descriptor.digest} in ${name}: push the manifest first`, {
          resource: descriptor.digest,
        });
      }
      const entry = plainDescriptor(descriptor);
      if (isDigest(reference)) {
        if (reference !== descriptor.digest) {
          throw new InvalidInputError(
            `cannot record ${descriptor.digest} in ${name} under the digest ${reference}`,
            {
              code: GhcrErrorCode.INVALID_REFERENCE,
              input: reference,
            },
          );
        }
        if (!unnamed.some((existing) => existing.digest === entry.digest)) unnamed.push(entry);
        return;
      }
      names.set(reference, entry);
    },
    async commit() {
      try {
        const manifests = [
          ...[...names].map(([reference, entry]) => ({
            ...entry,
            annotations: { [OCI_REF_NAME_ANNOTATION]: reference },
          })),
          ...unnamed.filter((entry) => ![...names.values()].some((named) => named.digest === entry.digest)),
        ];
        if (manifests.length === 0) {
          throw new InvalidInputError(
            `nothing was named in ${name}: copy an image to it (with a name or its digest) before committing`,
          );
        }
        await writer.bytes('oci-layout', Buffer.from('{"imageLayoutVersion": "1.0.0"}'));
        await writer.bytes('index.json', Buffer.from(goJson({ schemaVersion: 2, manifests })));
        await writer.commit();
      } catch (error) {
        await writer.discard();
        throw error;
      }
    },
    discard: () => writer.discard(),
    // Reading holds nothing between reads.
    close: async () => {},
  };
}
