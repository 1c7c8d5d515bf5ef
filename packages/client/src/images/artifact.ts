import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { buildArtifactManifest, type ParsedImageManifest } from '@ghcr/manifest';
import {
  createVerifyingStream,
  type Descriptor,
  type Digest,
  definedProps,
  digestStream,
  EMPTY_DESCRIPTOR,
  EMPTY_JSON_BYTES,
  EMPTY_JSON_DIGEST,
  InvalidInputError,
  MediaType,
  NotFoundError,
} from '@ghcr/oci-types';
import { fileFailure } from '../content/layout-paths.js';
import type { ReadOnlyTarget } from '../content/target.js';
import { type BlobSource, bufferSource, closeQuietly, fileSource } from '../registry/blob-source.js';

/** The annotation oras names a file layer with. @public */
export const TITLE_ANNOTATION = 'org.opencontainers.image.title';

/**
 * One file of an artifact: a path, or a path with its layer's media type, title and annotations.
 * @public
 */
export type ArtifactFile =
  | string
  | {
      readonly path: string;
      /** The layer's media type. If omitted, `application/vnd.oci.image.layer.v1.tar` (as oras). */
      readonly mediaType?: string;
      /** The `org.opencontainers.image.title` annotation. If omitted, the file's base name. */
      readonly title?: string;
      /** More layer annotations. If omitted, only the title. */
      readonly annotations?: Record<string, string>;
    };

/**
 * An artifact to push from files (oras-style): each file one layer.
 * @public
 */
export interface FilesArtifactSource {
  readonly files: readonly ArtifactFile[];
  /** The manifest's `artifactType`, e.g. `application/vnd.example.sbom.v1`. */
  readonly artifactType: string;
  /** Manifest annotations. If omitted, none. */
  readonly annotations?: Record<string, string>;
  /** The config's media type (its bytes are `{}`). If omitted, the OCI empty descriptor. */
  readonly configMediaType?: string;
  /** The manifest this artifact refers to (a signature's image). If omitted, none. */
  readonly subject?: Descriptor;
}

/**
 * Builds the manifest of a files artifact (each file hashed once, not held in memory) and a
 * read-only target serving it, its files and the `{}` config, for `copy` to push.
 * @internal
 */
export async function filesArtifact(
  input: FilesArtifactSource,
  signal?: AbortSignal,
): Promise<{ manifest: ParsedImageManifest; target: ReadOnlyTarget }> {
  const sources = new Map<string, { descriptor: Descriptor; source: BlobSource }>();
  const layers: Descriptor[] = [];
  const titles = new Set<string>();
  for (const file of input.files) {
    const entry = typeof file === 'string' ? { path: file } : file;
    let source: BlobSource;
    let identity: { digest: Digest; size: number };
    try {
      source = await fileSource(entry.path);
      const stream = source.open(0, signal);
      try {
        identity = await digestStream(stream as AsyncIterable<Uint8Array>);
      } finally {
        closeQuietly(stream);
      }
    } catch (error) {
      throw fileFailure(error, `reading the artifact file "${entry.path}"`, entry.path, signal);
    }
    const title = entry.title ?? basename(entry.path);
    if (titles.has(title)) {
      throw new InvalidInputError(
        `two files of the artifact have the title "${title}"; give each a distinct title (pulling would overwrite one with the other)`,
        { input: title },
      );
    }
    titles.add(title);
    const descriptor: Descriptor = {
      mediaType: entry.mediaType ?? MediaType.OciLayer,
      digest: identity.digest,
      size: identity.size,
      annotations: { ...entry.annotations, [TITLE_ANNOTATION]: title },
    };
    layers.push(descriptor);
    sources.set(identity.digest, { descriptor, source });
  }
  const config: Descriptor =
    input.configMediaType === undefined
      ? { ...EMPTY_DESCRIPTOR }
      : { mediaType: input.configMediaType, digest: EMPTY_JSON_DIGEST, size: EMPTY_JSON_BYTES.byteLength };
  const manifest = buildArtifactManifest({
    artifactType: input.artifactType,
    blobs: layers,
    config,
    ...definedProps({ annotations: input.annotations, subject: input.subject }),
  });
  if (!sources.has(EMPTY_JSON_DIGEST)) {
    sources.set(EMPTY_JSON_DIGEST, { descriptor: config, source: bufferSource(EMPTY_JSON_BYTES) });
  }
  const find = (descriptor: Descriptor) => {
    const found = sources.get(descriptor.digest);
    if (found === undefined) {
      throw new NotFoundError(`the files artifact has no blob ${descriptor.digest}`, {
        resource: descriptor.digest,
      });
    }
    return found;
  };
  const descriptor: Descriptor = {
    mediaType: manifest.mediaType,
    digest: manifest.digest,
    size: manifest.size,
  };
  const target: ReadOnlyTarget = {
    name: 'files',
    async resolve() {
      return descriptor;
    },
    async exists(wanted) {
      return wanted.digest === manifest.digest || sources.has(wanted.digest);
    },
    fetch(wanted, options = {}) {
      const bytes = wanted.digest === manifest.digest ? bufferSource(manifest.bytes) : find(wanted).source;
      const verifier = createVerifyingStream(wanted.digest, {
        size: wanted.size,
        what: `file blob ${wanted.digest}`,
      });
      const stream = Readable.from(bytes.open(0, options.signal), { objectMode: false });
      stream.on('error', (error) => verifier.destroy(error));
      return stream.pipe(verifier);
    },
    async fetchManifest(wanted) {
      if (wanted.digest !== manifest.digest) {
        throw new NotFoundError(`the files artifact has no manifest ${wanted.digest}`, {
          resource: wanted.digest,
        });
      }
      return manifest;
    },
    source(wanted) {
      return find(wanted).source;
    },
  };
  return { manifest, target };
}
