import {
  addPlatformManifest,
  buildIndex,
  descriptorOf,
  formatPlatform,
  isIndex,
  listPlatforms,
  normalizePlatform,
  type ParsedImageManifest,
  type ParsedIndex,
  parsePlatform,
  platformMatches,
  removePlatformManifest,
} from '@ghcr/manifest';
import {
  type Descriptor,
  definedProps,
  InvalidInputError,
  NotFoundError,
  type Platform,
  ResourceConflictError,
} from '@ghcr/oci-types';
import type { Blobs } from '../registry/blobs.js';
import { mapLimit } from '../registry/concurrency.js';
import type { ManifestLimits, RegistryEndpoint } from '../registry/dependencies.js';
import type { Manifests } from '../registry/manifests.js';
import { checkRepository, parseManifestReference } from '../registry/names.js';
import { isImageConfig, platformFromConfig } from './platform-from-config.js';

/**
 * A platform manifest to put in an index: a tag or digest in the repository, or one with the
 * platform given (for an image whose config names none, such as an artifact).
 * @public
 */
export type PlatformManifestSource =
  | string
  | { readonly reference: string; readonly platform?: string | Platform };

/**
 * Options of {@link MultiArch.createIndex}.
 * @public
 */
export interface CreateIndexOptions {
  /** Index annotations (OCI only; ghcr.io shows `org.opencontainers.image.description` from here). If omitted, none. */
  readonly annotations?: Record<string, string> | undefined;
  /** `oci` (image index) or `docker` (manifest list). If omitted, `oci`. */
  readonly mediaType?: 'oci' | 'docker' | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Options of the index edits.
 * @public
 */
export interface EditIndexOptions {
  /**
   * Tags to push the new index under. If omitted, the tag `indexReference` names (an index given
   * by digest is pushed by digest only); an empty list pushes by digest only.
   */
  readonly tags?: readonly string[] | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Options of {@link MultiArch.addPlatform} and {@link MultiArch.replacePlatform}.
 * @public
 */
export interface AddPlatformOptions extends EditIndexOptions {
  /** The manifest's platform. If omitted, read from its image config (`os`, `architecture`, `variant`, …). */
  readonly platform?: string | Platform | undefined;
}

/**
 * Multi-platform indexes built and edited from what the registry holds: every entry's digest,
 * size and media type are read from the registry, and a single image's platform from its config.
 * Manifests and indexes are in one repository.
 * @public
 */
export interface MultiArch {
  /**
   * Builds an index of the given manifests and pushes it under `tags` (none: by digest). Each source
   * is read (GET): an image manifest becomes one entry whose platform comes from its image config
   * (or the source's `platform`); an index contributes its entries (platforms as its descriptors
   * say; digests and sizes checked with HEAD). The same manifest twice is listed once; two
   * manifests for one platform are refused. Returns the index's descriptor.
   * @throws InvalidInputError for a repeated platform, an image whose config names no platform, or
   * no sources; NotFoundError for a missing manifest.
   */
  createIndex(
    repository: string,
    tags: readonly string[],
    manifestReferences: readonly PlatformManifestSource[],
    options?: CreateIndexOptions,
  ): Promise<Descriptor>;
  /**
   * Adds a manifest (or the platform entries of an index) to the index at `indexReference` and
   * pushes the result. Already there with the same digest: nothing changes.
   * @throws ResourceConflictError when the index has the platform with another manifest (use
   * {@link MultiArch.replacePlatform}).
   */
  addPlatform(
    repository: string,
    indexReference: string,
    manifestReference: string,
    options?: AddPlatformOptions,
  ): Promise<Descriptor>;
  /**
   * Removes the entries for `platform` (`linux/arm64` also matches `linux/arm64/v8`), and the buildx
   * attestation entries that describe them, and pushes the result.
   * @throws InvalidInputError when the index has no such platform, or it is the last one.
   */
  removePlatform(
    repository: string,
    indexReference: string,
    platform: string | Platform,
    options?: EditIndexOptions,
  ): Promise<Descriptor>;
  /**
   * Puts a manifest in place of the index's entry for the same platform (dropping the buildx
   * attestation entry of the one replaced) and pushes the result.
   * @throws InvalidInputError when the index has no entry for that platform (use
   * {@link MultiArch.addPlatform}).
   */
  replacePlatform(
    repository: string,
    indexReference: string,
    manifestReference: string,
    options?: AddPlatformOptions,
  ): Promise<Descriptor>;
}

const isUnknown = (platform: Platform | undefined): boolean =>
  platform === undefined || (platform.os === 'unknown' && platform.architecture === 'unknown');

const samePlatform = (a: Platform, b: Platform): boolean => platformMatches(a, b) && platformMatches(b, a);

/** A platform's identity for duplicate checks: normalised `os/arch/variant`, os.version, sorted os.features. */
function platformKey(platform: Platform): string {
  const normalised = normalizePlatform(platform);
  return JSON.stringify([
    formatPlatform({ ...normalised, 'os.version': '' }),
    normalised['os.version'] ?? '',
    [...(normalised['os.features'] ?? [])].sort(),
  ]);
}

const toPlatform = (platform: string | Platform): Platform =>
  typeof platform === 'string' ? parsePlatform(platform) : platform;

/**
 * Creates the multi-arch capability from its registry host and concurrency, and the client's blobs and manifests.
 * @internal
 */
export function createMultiArch(
  deps: {
    readonly endpoint: Pick<RegistryEndpoint, 'host'>;
    readonly limits: Pick<ManifestLimits, 'concurrency'>;
  },
  capabilities: { readonly blobs: Blobs; readonly manifests: Manifests },
): MultiArch {
  const { blobs, manifests } = capabilities;
  const host = deps.endpoint.host;
  const concurrency = deps.limits.concurrency;
  const signalOption = (signal: AbortSignal | undefined): { signal?: AbortSignal | undefined } =>
    signal === undefined ? {} : { signal };
  const where = (repository: string, reference: string): string =>
    `${host}/${repository}${reference.includes(':') ? '@' : ':'}${reference}`;

  /** The platform of a single image, from its config blob. */
  async function platformOf(
    repository: string,
    manifest: ParsedImageManifest,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<Platform> {
    const config = manifest.manifest.config;
    if (!isImageConfig(config.mediaType)) {
      throw new InvalidInputError(
        `${what} is not a container image (its config is ${config.mediaType}), so it names no platform; give one ({ reference, platform: 'linux/amd64' })`,
      );
    }
    const bytes = await blobs.getBytes(repository, config, signalOption(signal));
    return platformFromConfig(bytes, what);
  }

  /** The index entries a source stands for, with digests, sizes and media types from the registry. */
  async function entriesOf(
    repository: string,
    source: PlatformManifestSource,
    signal: AbortSignal | undefined,
  ): Promise<Descriptor[]> {
    const { reference, platform } =
      typeof source === 'string' ? { reference: source, platform: undefined } : source;
    parseManifestReference(reference);
    const what = where(repository, reference);
    const manifest = await manifests.get(repository, reference, signalOption(signal));
    if (isIndex(manifest)) {
      if (platform !== undefined) {
        throw new InvalidInputError(
          `${what} is an index: its entries carry their own platforms, so none can be given for it`,
        );
      }
      return mapLimit(manifest.manifest.manifests, concurrency, async (entry) => {
        const found = await manifests.head(repository, entry.digest, signalOption(signal));
        if (found === undefined) {
          throw new NotFoundError(
            `${what} lists ${entry.digest}, which ${host}/${repository} does not have; push it first`,
            { code: 'MANIFEST_UNKNOWN', resource: `manifest ${host}/${repository}@${entry.digest}` },
          );
        }
        return { ...entry, mediaType: found.mediaType, digest: found.digest, size: found.size };
      });
    }
    const resolved =
      platform === undefined ? await platformOf(repository, manifest, what, signal) : toPlatform(platform);
    return [descriptorOf(manifest, { platform: resolved })];
  }

  async function loadIndex(
    repository: string,
    reference: string,
    signal: AbortSignal | undefined,
  ): Promise<ParsedIndex> {
    checkRepository(repository);
    parseManifestReference(reference);
    const manifest = await manifests.get(repository, reference, signalOption(signal));
    if (!isIndex(manifest)) {
      throw new InvalidInputError(
        `${where(repository, reference)} is a ${manifest.kind}, not an index; make one with createIndex`,
      );
    }
    return manifest;
  }

  function push(
    repository: string,
    indexReference: string,
    index: ParsedIndex,
    options: EditIndexOptions,
  ): Promise<Descriptor> {
    const reference = parseManifestReference(indexReference);
    const tags = options.tags ?? (reference.kind === 'tag' ? [reference.tag] : []);
    return manifests.put(repository, index, { tags, ...signalOption(options.signal) });
  }

  /** Adds or replaces the source's platform entries; `mode` decides what an existing entry means. */
  async function setPlatforms(
    mode: 'add' | 'replace',
    repository: string,
    indexReference: string,
    manifestReference: string,
    options: AddPlatformOptions,
  ): Promise<Descriptor> {
    const index = await loadIndex(repository, indexReference, options.signal);
    const source: PlatformManifestSource =
      options.platform === undefined
        ? manifestReference
        : { reference: manifestReference, platform: options.platform };
    const additions = (await entriesOf(repository, source, options.signal)).filter(
      (entry): entry is Descriptor & { platform: Platform } => !isUnknown(entry.platform),
    );
    const what = where(repository, indexReference);
    if (additions.length === 0) {
      throw new InvalidInputError(
        `${where(repository, manifestReference)} has no platform entries to put in ${what}`,
      );
    }
    let next = index;
    for (const entry of additions) {
      const existing = next.manifest.manifests.find(
        (candidate) =>
          candidate.platform !== undefined &&
          !isUnknown(candidate.platform) &&
          samePlatform(candidate.platform, entry.platform),
      );
      const platform = formatPlatform(entry.platform);
      if (mode === 'add') {
        if (existing?.digest === entry.digest) continue;
        if (existing !== undefined) {
          throw new ResourceConflictError(
            `${what} already has ${platform} (${existing.digest}); use replacePlatform to put ${entry.digest} in its place`,
          );
        }
      } else if (existing === undefined) {
        const has = listPlatforms(next).map(formatPlatform);
        throw new InvalidInputError(
          `${what} has no ${platform} entry to replace (it has ${has.length === 0 ? 'none' : has.join(', ')}); use addPlatform`,
          { input: platform },
        );
      }
      next = addPlatformManifest(next, entry);
    }
    return push(repository, indexReference, next, options);
  }

  return {
    async createIndex(repository, tags, manifestReferences, options = {}) {
      checkRepository(repository);
      if (manifestReferences.length === 0) {
        throw new InvalidInputError(`createIndex for ${host}/${repository} needs at least one manifest`);
      }
      const groups = await mapLimit(manifestReferences, concurrency, (source) =>
        entriesOf(repository, source, options.signal),
      );
      const entries: Descriptor[] = [];
      const digests = new Set<string>();
      const platforms = new Map<string, string>();
      groups.forEach((group, position) => {
        const source = manifestReferences[position];
        const reference = typeof source === 'string' ? source : (source?.reference ?? '');
        for (const entry of group) {
          if (digests.has(entry.digest)) continue;
          if (entry.platform !== undefined && !isUnknown(entry.platform)) {
            const key = platformKey(entry.platform);
            const earlier = platforms.get(key);
            if (earlier !== undefined) {
              throw new InvalidInputError(
                `platform ${formatPlatform(entry.platform)} is given twice, by ${earlier} and by ${reference} (${entry.digest}); an index holds one manifest per platform`,
                { input: formatPlatform(entry.platform) },
              );
            }
            platforms.set(key, reference);
          }
          digests.add(entry.digest);
          entries.push(entry);
        }
      });
      const index = buildIndex({
        manifests: entries,
        ...definedProps({ annotations: options.annotations, mediaType: options.mediaType }),
      });
      return manifests.put(repository, index, { tags, ...signalOption(options.signal) });
    },
    addPlatform(repository, indexReference, manifestReference, options = {}) {
      return setPlatforms('add', repository, indexReference, manifestReference, options);
    },
    replacePlatform(repository, indexReference, manifestReference, options = {}) {
      return setPlatforms('replace', repository, indexReference, manifestReference, options);
    },
    async removePlatform(repository, indexReference, platform, options = {}) {
      const index = await loadIndex(repository, indexReference, options.signal);
      const wanted = toPlatform(platform);
      const next = removePlatformManifest(index, wanted);
      if (listPlatforms(next).length === 0) {
        throw new InvalidInputError(
          `removing ${formatPlatform(wanted)} would leave ${where(repository, indexReference)} with no platform; untag or delete the index instead`,
          { input: formatPlatform(wanted) },
        );
      }
      return push(repository, indexReference, next, options);
    },
  };
}
