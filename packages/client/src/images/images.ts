import type { Readable } from 'node:stream';
import {
  canonicalRegistry,
  type Descriptor,
  DOCKER_HUB_REGISTRY,
  definedProps,
  InvalidInputError,
  MediaType,
  type Platform,
  parseReference,
  type Reference,
} from '@ghcr/oci-types';
import {
  type ArchiveTargetOptions,
  archiveFormatFromName,
  archiveTarget,
  detectArchiveFormat,
} from '../content/archive/archive.js';
import type { ArchiveFormat, ArchiveTarget } from '../content/archive/archive-common.js';
import type { ArchiveLayerRead } from '../content/archive/docker-archive.js';
import { signalOption } from '../content/content.js';
import { type CopyOptions, type CopyProgress, type CopyResult, copy } from '../content/copy.js';
import { ociLayout } from '../content/oci-layout.js';
import { platformWanted } from '../content/platform-choice.js';
import { type RemoteRepositoryParts, remoteRepository } from '../content/remote-repository.js';
import type { ReadOnlyTarget } from '../content/target.js';
import { type ProgressContext, ProgressReporter } from '../progress.js';
import type { Blobs } from '../registry/blobs.js';
import type { ClientEventSink, CopyLimits, RegistryEndpoint } from '../registry/dependencies.js';
import type { Manifests } from '../registry/manifests.js';
import { checkRepository, checkTag } from '../registry/names.js';
import type { Tags } from '../registry/tags.js';
import { type FilesArtifactSource, filesArtifact } from './artifact.js';
import { emitCopyRetry } from './copy-retry.js';
import { type ImageInspection, type InspectOptions, inspectTarget } from './inspect.js';

/**
 * Options every image operation takes.
 * @public
 */
export interface ImageOperationOptions {
  /** Requests and transfers in flight at once. If omitted, the client's `concurrency` (4). */
  readonly concurrency?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Progress per blob and item counts; also emitted as client `progress` events. If omitted, events only. */
  readonly onProgress?: ((progress: CopyProgress) => void) | undefined;
}

/**
 * Which part of an index to take.
 * @public
 */
export interface PlatformSelection {
  /** One platform of an index (`linux/arm64`): only that manifest is transferred, and tagged. If omitted, see `allPlatforms`. */
  readonly platform?: string | Platform;
  /** Without `platform`: `true` the whole index, `false` this machine's platform. If omitted, true. */
  readonly allPlatforms?: boolean;
}

/**
 * What `Images.push` pushes: an OCI image layout (skopeo's `oci:DIR:TAG`; `tag` names the
 * `index.json` entry, and may be left out when there is one), files as an artifact, or any
 * read-only target (a `memoryTarget()` built from descriptors and streams).
 * @public
 */
export type ImagePushSource =
  | { readonly layout: string; readonly tag?: string }
  | FilesArtifactSource
  | { readonly target: ReadOnlyTarget; readonly reference: string }
  | ArchivePushSource;

/**
 * An archive to push from (see `archiveTarget`): a docker-archive (`docker save`) or an
 * oci-archive, plain or gzip-compressed.
 * @public
 */
export interface ArchivePushSource {
  /** The archive file. */
  readonly archive: string;
  /** Its format. If omitted, found from the content. */
  readonly format?: ArchiveFormat;
  /** Which image: `NAME[:TAG]` or `@INDEX`. If omitted, the archive must hold one. */
  readonly image?: string;
  /** Push uncompressed docker-archive layers as they are (OCI uncompressed layer type, digest = diff_id). If omitted, false: they are gzip-compressed. */
  readonly keepUncompressed?: boolean;
}

/**
 * An archive to pull into, written atomically (a temporary file renamed when every digest is verified).
 * @public
 */
export interface ArchivePullDestination {
  /** The archive file to write (replaced if it exists). */
  readonly archive: string;
  /** Its format. If omitted, from the file name (`archiveFormatFromName`: `*.oci.tar` → oci-archive, else docker-archive). */
  readonly format?: ArchiveFormat;
}

/**
 * Where `Images.push` pushes: `repository[:tag]` (or with this client's registry in front), or a
 * repository and several tags.
 * @public
 */
export type ImagePushDestination = string | { readonly repository: string; readonly tags: readonly string[] };

/**
 * Options of `Images.push`.
 * @public
 */
export interface PushImageOptions extends ImageOperationOptions, PlatformSelection {}

/**
 * Options of `Images.pull`.
 * @public
 */
export interface PullImageOptions extends ImageOperationOptions, PlatformSelection {
  /** The name (`org.opencontainers.image.ref.name`) in the layout's `index.json`. If omitted, the reference's tag; pulled by digest, an unnamed entry. */
  readonly tag?: string | undefined;
  /** Also pull each manifest's referrers (see `copy`). If omitted, none. */
  readonly referrers?: CopyOptions['referrers'] | undefined;
}

/**
 * Options of `Images.copy`.
 * @public
 */
export interface CopyImageOptions extends ImageOperationOptions, PlatformSelection {
  /** The client of the destination registry (another `GhcrClient`). If omitted, this client: a copy inside one registry, whose blobs are mounted. */
  readonly destinationClient?: RemoteRepositoryParts | undefined;
  /** Also copy each copied manifest's referrers (signatures, SBOMs). If omitted, none. */
  readonly referrers?: CopyOptions['referrers'] | undefined;
  /** Called after each referrer reached the destination (to update a fallback tag). If omitted, nothing. */
  readonly referrerCopied?: CopyOptions['referrerCopied'] | undefined;
  /** {@link CopyOptions.destinationExists}: the destination repository is known to exist, so the copy does not ask. */
  readonly destinationExists?: CopyOptions['destinationExists'];
}

/**
 * What an image operation did, and where.
 * @public
 */
export interface ImageOperationResult extends CopyResult {
  /** The registry of the remote side. */
  readonly registry: string;
  /** The repository of the remote side. */
  readonly repository: string;
}

/**
 * Whole-image operations of one registry: push (from an OCI layout, files or a target), pull to
 * an OCI layout, copy (mounting inside the registry, streaming to another), inspect.
 * @public
 */
export interface Images {
  /**
   * Pushes an image or artifact under one or more tags: blobs in parallel (skipping those the
   * repository has), then manifests, the index after its children, the tags last.
   */
  push(
    destination: ImagePushDestination,
    source: ImagePushSource,
    options?: PushImageOptions,
  ): Promise<ImageOperationResult>;
  /**
   * Pulls an image (one platform, or the whole index) into an OCI image layout directory that
   * skopeo and oras read. Every blob is verified and renamed into place only when whole; a rerun
   * skips the blobs already there. Nothing is written outside `directory`.
   */
  pull(
    reference: string,
    directory: string | ArchivePullDestination,
    options?: PullImageOptions,
  ): Promise<ImageOperationResult>;
  /**
   * Copies an image: inside this registry blobs are mounted (no bytes move); to another registry
   * (`destinationClient`) they stream through without touching the disk, verified.
   */
  copy(
    sourceReference: string,
    destinationReference: string,
    options?: CopyImageOptions,
  ): Promise<ImageOperationResult>;
  /** Media type, digest, size, platforms, layers, created, labels and total size of a reference. */
  inspect(reference: string, options?: InspectOptions): Promise<ImageInspection>;
}

/**
 * The capabilities `createImages` builds on.
 * @internal
 */
export interface ImagesDependencies {
  readonly blobs: Blobs;
  readonly manifests: Manifests;
  readonly tags: Tags;
}

/**
 * Creates the image capability of a client.
 * @internal
 */
export function createImages(
  deps: {
    readonly endpoint: Pick<RegistryEndpoint, 'host'>;
    readonly events: ClientEventSink;
    readonly limits: CopyLimits;
  },
  dependencies: ImagesDependencies,
  forRegistry?: (registry: string) => RemoteRepositoryParts,
): Images {
  const host = deps.endpoint.host;
  const parts: RemoteRepositoryParts = { registry: host, ...dependencies };
  const maxManifestBytes = deps.limits.maxManifestBytes;
  /** This registry's parts, or another registry's (of the same client) when the reference names it. */
  const partsOf = (registry: string): RemoteRepositoryParts => {
    if (registry === host) return parts;
    if (forRegistry === undefined) {
      throw new InvalidInputError(`these image operations talk to ${host} only, not ${registry}`, {
        input: registry,
      });
    }
    return forRegistry(registry);
  };
  const remote = (repository: string, on: RemoteRepositoryParts = parts) =>
    remoteRepository(on, repository, { maxManifestBytes });

  const copyOptions = (
    operation: string,
    where: { registry: string; repository: string },
    options: ImageOperationOptions & PlatformSelection,
  ): CopyOptions => ({
    concurrency: options.concurrency ?? deps.limits.concurrency,
    progressIntervalBytes: deps.limits.progressIntervalBytes,
    clock: deps.limits.clock,
    onRetry: (retry) => emitCopyRetry(deps, operation, where, retry),
    ...definedProps({
      signal: options.signal,
      platform: options.platform,
      allPlatforms: options.allPlatforms,
    }),
    onProgress: (progress) => {
      options.onProgress?.(progress);
      deps.events.emit('progress', {
        operation,
        registry: where.registry,
        repository: where.repository,
        digest: progress.digest,
        bytesDone: progress.bytesDone,
        bytesTotal: progress.bytesTotal,
        itemsDone: progress.itemsDone,
        itemsTotal: progress.itemsTotal,
      });
    },
  });

  /** The `copied` event of a pull, and its result. */
  const pulled = (
    parsed: Reference & { tag?: string },
    destination: string,
    result: CopyResult,
    references: readonly string[],
  ): ImageOperationResult => {
    deps.events.emit('copied', {
      operation: 'pull',
      source: `${parsed.registry}/${parsed.repository}${parsed.digest === undefined ? `:${parsed.tag}` : `@${parsed.digest}`}`,
      destination,
      registry: parsed.registry,
      repository: parsed.repository,
      digest: result.descriptor.digest,
      size: result.descriptor.size,
      mediaType: result.descriptor.mediaType,
      tags: [...references],
      transferred: result.transferred,
      mounted: result.mounted,
      skipped: result.skipped,
      bytesTransferred: result.bytesTransferred,
    });
    return { ...result, references, registry: parsed.registry, repository: parsed.repository };
  };

  /** A pull into an archive: copied, then committed (or discarded after a failure). */
  const pullToArchive = async (
    out: ArchiveTarget,
    parsed: Reference & { tag?: string },
    options: PullImageOptions,
  ): Promise<ImageOperationResult> => {
    const tag = options.tag ?? parsed.tag;
    // A docker-archive's RepoTags name the image whole (registry/repository:tag).
    const names =
      tag === undefined
        ? []
        : [out.format === 'docker-archive' ? `${parsed.registry}/${parsed.repository}:${tag}` : tag];
    let result: CopyResult;
    try {
      result = await copy(remote(parsed.repository, partsOf(parsed.registry)), targetOf(parsed), out, names, {
        ...copyOptions('images.pull', { registry: parsed.registry, repository: parsed.repository }, options),
        ...definedProps({ referrers: options.referrers }),
      });
      if (tag === undefined) await out.tag(result.descriptor, result.descriptor.digest);
      await out.commit();
    } catch (error) {
      await out.discard();
      throw error;
    }
    const references = tag === undefined ? [result.descriptor.digest] : result.references;
    return pulled(parsed, `${out.name}${tag === undefined ? '' : `:${tag}`}`, result, references);
  };

  return {
    async push(destination, source, options = {}) {
      const { registry, repository, tags } = pushDestination(destination, host);
      const target = remote(repository, partsOf(registry));
      let from: ReadOnlyTarget;
      let reference: string;
      let destinationExists: boolean | undefined;
      const streamed: Descriptor[] = [];
      let archive: ArchiveTarget | undefined;
      if ('layout' in source) {
        from = ociLayout(source.layout, { maxManifestBytes });
        reference = source.tag ?? '';
      } else if ('archive' in source) {
        const format = source.format ?? (await detectArchiveFormat(source.archive));
        // A docker-archive's uncompressed layers are gzip-compressed by the pass that learns
        // their digests for the manifest. Into a repository that does not exist yet (nothing
        // there to skip), that pass uploads each layer as it compresses it; elsewhere it keeps
        // the bytes, and the copy sends the layers the repository lacks.
        const compresses = format === 'docker-archive' && source.keepUncompressed !== true;
        const fresh = compresses && (await target.isKnownEmpty?.(signalOption(options.signal))) === true;
        const archiveOptions: ArchiveTargetOptions = {
          maxManifestBytes,
          format,
          ...(fresh
            ? {
                sendCompressed: async (layer: Readable) => {
                  const { descriptor } = await partsOf(registry).blobs.uploadStream(repository, layer, {
                    mediaType: MediaType.DockerLayerGzip,
                    ...signalOption(options.signal),
                  });
                  streamed.push(descriptor);
                },
              }
            : { spoolCompressed: true }),
          ...definedProps({ keepUncompressed: source.keepUncompressed }),
          ...(format === 'docker-archive'
            ? { onLayerRead: layerReadProgress(deps, registry, repository) }
            : {}),
        };
        archive = await archiveTarget(source.archive, archiveOptions);
        from = archive;
        reference = source.image ?? '';
        if (fresh) {
          await archive.resolve(reference, signalOption(options.signal)).catch(async (error: unknown) => {
            await archive?.close();
            throw error;
          });
          // The copy then checks each blob (the streamed layers are there) instead of taking the
          // repository for empty.
          if (streamed.length > 0) destinationExists = true;
        } else if (compresses) {
          // Asked above (it exists, or that cannot be told): the copy would ask again to the
          // same answer and check each blob; it checks them at once.
          destinationExists = true;
        }
      } else if ('files' in source) {
        const artifact = await filesArtifact(source, options.signal);
        from = artifact.target;
        reference = artifact.manifest.digest;
      } else {
        from = source.target;
        reference = source.reference;
      }
      const copied = await copy(from, reference, target, tags, {
        ...copyOptions('images.push', { registry, repository }, options),
        ...definedProps({ destinationExists }),
      }).finally(() => archive?.close());
      // Layers uploaded while they were compressed were sent by this push, though the copy found
      // them there.
      const early = Math.min(streamed.length, copied.skipped);
      const result: CopyResult =
        early === 0
          ? copied
          : {
              ...copied,
              transferred: copied.transferred + early,
              skipped: copied.skipped - early,
              bytesTransferred:
                copied.bytesTransferred +
                streamed.slice(0, early).reduce((sum, layer) => sum + layer.size, 0),
            };
      deps.events.emit('pushed', {
        kind: 'image',
        registry,
        repository,
        digest: result.descriptor.digest,
        size: result.descriptor.size,
        mediaType: result.descriptor.mediaType,
        tags: tags.filter((tag) => !tag.includes(':')),
      });
      return { ...result, registry, repository };
    },

    async pull(reference, directory, options = {}) {
      const parsed = imageReference(reference, host);
      if (typeof directory !== 'string') {
        const format = directory.format ?? archiveFormatFromName(directory.archive);
        const out = await archiveTarget(directory.archive, { format, maxManifestBytes });
        return pullToArchive(out, parsed, options);
      }
      const layout = ociLayout(directory, { maxManifestBytes });
      const name = options.tag ?? parsed.tag;
      const result = await copy(
        remote(parsed.repository, partsOf(parsed.registry)),
        targetOf(parsed),
        layout,
        name ?? [],
        {
          ...copyOptions(
            'images.pull',
            { registry: parsed.registry, repository: parsed.repository },
            options,
          ),
          ...definedProps({ referrers: options.referrers }),
        },
      );
      // Pulled by digest without a name: record the manifest in index.json unnamed.
      const references = name === undefined ? [result.descriptor.digest] : result.references;
      if (name === undefined) await layout.tag(result.descriptor, result.descriptor.digest);
      return pulled(
        parsed,
        `oci:${layout.directory}${name === undefined ? '' : `:${name}`}`,
        result,
        references,
      );
    },

    async copy(sourceReference, destinationReference, options = {}) {
      const from = imageReference(sourceReference, host);
      const to = imageReference(destinationReference, options.destinationClient?.registry ?? host);
      const destinationParts =
        options.destinationClient !== undefined && to.registry === options.destinationClient.registry
          ? options.destinationClient
          : partsOf(to.registry);
      const sourceParts = partsOf(from.registry);
      const result =
        (await unchangedAtDestination(sourceParts, from, destinationParts, to, options)) ??
        (await copy(
          remote(from.repository, sourceParts),
          targetOf(from),
          remote(to.repository, destinationParts),
          to.digest !== undefined && to.tag === undefined ? [] : [to.tag ?? 'latest'],
          {
            ...copyOptions(
              'images.copy',
              { registry: destinationParts.registry, repository: to.repository },
              options,
            ),
            ...definedProps({
              referrers: options.referrers,
              referrerCopied: options.referrerCopied,
              destinationExists: options.destinationExists,
            }),
          },
        ));
      deps.events.emit('copied', {
        operation: 'copy',
        source: `${from.registry}/${from.repository}${from.digest === undefined ? `:${from.tag}` : `@${from.digest}`}`,
        destination: `${destinationParts.registry}/${to.repository}${to.tag === undefined ? `@${result.descriptor.digest}` : `:${to.tag}`}`,
        registry: destinationParts.registry,
        repository: to.repository,
        digest: result.descriptor.digest,
        size: result.descriptor.size,
        mediaType: result.descriptor.mediaType,
        tags: result.references,
        transferred: result.transferred,
        mounted: result.mounted,
        skipped: result.skipped,
        bytesTransferred: result.bytesTransferred,
      });
      return { ...result, registry: destinationParts.registry, repository: to.repository };
    },

    async inspect(reference, options = {}) {
      const parsed = imageReference(reference, host);
      return inspectTarget(remote(parsed.repository, partsOf(parsed.registry)), targetOf(parsed), options);
    },
  };
}

/**
 * `progress` events (`source: 'archive-layer'`) of the pass that reads each layer of a
 * docker-archive once, as `images.push` makes it: the longest part of such a push (each layer
 * compressed, and into a new repository sent). Paced like a blob's.
 */
function layerReadProgress(
  deps: ProgressContext,
  registry: string,
  repository: string,
): (read: ArchiveLayerRead) => void {
  const reporters = new Map<string, ProgressReporter>();
  return (read) => {
    let reporter = reporters.get(read.diffId);
    if (reporter === undefined) {
      reporter = new ProgressReporter(deps, {
        operation: 'images.push',
        registry,
        repository,
        digest: read.diffId,
        bytesTotal: read.bytesTotal,
        source: 'archive-layer',
      });
      reporters.set(read.diffId, reporter);
    }
    reporter.report(read.bytesDone, read.bytesDone === 0);
  };
}

/**
 * Docker Hub counts a manifest's GET against the pull quota and not its HEAD. A copy from there to
 * a tag asks both sides with a HEAD first, and when the tag already names the source's manifest
 * (so the destination holds it and everything it references) nothing is pulled or sent: the
 * result says the root was there. Undefined, and the copy goes on, otherwise: another source, a
 * destination by digest, one platform of an index or referrers asked for (those are known only
 * from the manifests), a tag that names something else or nothing, or a HEAD that failed (the
 * copy reports what is wrong).
 */
async function unchangedAtDestination(
  sourceParts: RemoteRepositoryParts,
  from: Reference,
  destinationParts: RemoteRepositoryParts,
  to: Reference & { tag?: string },
  options: CopyImageOptions,
): Promise<CopyResult | undefined> {
  if (
    from.registry !== DOCKER_HUB_REGISTRY ||
    to.tag === undefined ||
    options.referrers !== undefined ||
    platformWanted(options) !== undefined
  ) {
    return undefined;
  }
  const readOptions = signalOption(options.signal);
  const heads = await Promise.all([
    sourceParts.manifests.head(from.repository, targetOf(from), readOptions),
    destinationParts.manifests.head(to.repository, to.tag, readOptions),
  ]).catch((error: unknown) => {
    if (options.signal?.aborted === true) throw error;
    return undefined;
  });
  const [source, destination] = heads ?? [];
  if (source === undefined || destination?.digest !== source.digest) return undefined;
  return {
    descriptor: source,
    references: [to.tag],
    transferred: 0,
    mounted: 0,
    skipped: 1,
    bytesTransferred: 0,
    referrers: [],
  };
}

/** What to resolve: the digest when given, else the tag. */
function targetOf(reference: Reference): string {
  return reference.digest ?? reference.tag ?? 'latest';
}

/**
 * Parses `repository[:tag][@digest]` (on `registry`, the client's default), or the same with a
 * registry in front (any registry; its canonical name, so `index.docker.io/alpine` is
 * `docker.io/library/alpine`). A reference without tag or digest means `latest`.
 * @internal
 */
export function imageReference(input: string, registry: string): Reference & { tag?: string } {
  const first = input.split('/')[0] ?? '';
  const namesRegistry =
    input.includes('/') &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['));
  const parsed = parseReference(namesRegistry ? input : `${registry}/${input}`);
  const canonical = { ...parsed, registry: canonicalRegistry(parsed.registry) };
  if (parsed.tag === undefined && parsed.digest === undefined) return { ...canonical, tag: 'latest' };
  return canonical;
}

function pushDestination(
  destination: ImagePushDestination,
  registry: string,
): { registry: string; repository: string; tags: string[] } {
  if (typeof destination !== 'string') {
    checkRepository(destination.repository);
    if (destination.tags.length === 0) {
      throw new InvalidInputError('push needs at least one tag; give tags: ["1.0.0", "latest"]');
    }
    return {
      registry,
      repository: destination.repository,
      tags: [...new Set(destination.tags)].map(checkTag),
    };
  }
  const parsed = imageReference(destination, registry);
  const references: string[] = [];
  if (parsed.tag !== undefined) references.push(parsed.tag);
  if (parsed.digest !== undefined) references.push(parsed.digest);
  return { registry: parsed.registry, repository: parsed.repository, tags: references };
}
