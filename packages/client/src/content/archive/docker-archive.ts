import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { pipeline as pipelineCallback, Readable } from 'node:stream';
import {
  DEFAULT_MAX_MANIFEST_BYTES,
  isImageManifest,
  isIndex,
  type ParsedManifest,
  parseManifest,
} from '@ghcr/manifest';
import {
  createVerifyingStream,
  type Descriptor,
  definedProps,
  GhcrErrorCode,
  InvalidInputError,
  isDigest,
  MediaType,
  NotFoundError,
  parseDigest,
} from '@ghcr/oci-types';
import { type BlobOpenOptions, type BlobSource, closeQuietly } from '../../registry/blob-source.js';
import { mapLimit } from '../../registry/concurrency.js';
import { readAllCapped, skipBytes } from '../content.js';
import { fileFailure } from '../layout-paths.js';
import { goJson } from '../oci-layout.js';
import { isManifestDescriptor } from '../target.js';
import {
  type ArchiveImage,
  type ArchiveTarget,
  blobEntry,
  isContentDigest,
  layerGzip,
  measureLayer,
  plainDescriptor,
  selectImage,
  writeBlob,
} from './archive-common.js';
import type { LayerSpool } from './layer-spool.js';
import { archiveError, openTar, type TarArchive, type TarEntry } from './tar-index.js';
import { TarWriter } from './tar-writer.js';

/**
 * Options of {@link dockerArchive}.
 * @public
 */
export interface DockerArchiveOptions {
  /**
   * Read uncompressed layers as the OCI uncompressed layer type
   * (`application/vnd.oci.image.layer.v1.tar`, digest = diff_id, byte-identical), in an OCI
   * manifest. If omitted, false: they are gzip-compressed as they are read, in a Docker schema 2
   * manifest (the usual types; the digests are ours, see the README).
   */
  readonly keepUncompressed?: boolean | undefined;
  /** gzip level (1-9) of layers compressed while reading. If omitted, 6 (the zlib and Go default). */
  readonly compressionLevel?: number | undefined;
  /** Layers measured at once when an image is first resolved. If omitted, 2. */
  readonly concurrency?: number | undefined;
  /** Largest manifest or config read. If omitted, 4 MiB for manifests and 64 MiB for configs. */
  readonly maxManifestBytes?: number | undefined;
  /**
   * Keep the gzip stream of each layer compressed while reading (the pass that learns its digest
   * for the manifest) in an unlinked temp file, so sending the layer reads it back instead of
   * compressing it again. A layer's file is freed once the layer has been read to its end (a
   * later read compresses again, to the same bytes); it needs temp space for the compressed
   * layers of the image. If omitted, false: each read compresses again. `Images.push` sets it.
   */
  readonly spoolCompressed?: boolean | undefined;
  /**
   * Also hand each layer's gzip stream, as the pass that learns its digest makes it, to this
   * function: to upload it while it is compressed (`Blobs.uploadStream`), as `Images.push` does
   * into a repository that does not exist yet. The stream ends only once the layer matched its
   * config's diff_id (else it fails, so nothing is committed), and the pass waits for the
   * function's promise. No spool is kept for such a layer; when the function fails, reading the
   * layer later compresses it again. If omitted, the stream goes nowhere else.
   */
  readonly sendCompressed?: ((layer: Readable) => Promise<unknown>) | undefined;
  /**
   * Told how far the pass that reads each layer once (to learn its digests, and with
   * `sendCompressed` to send it) has read it: at its start, then after each piece it reads (the
   * last at the layer's end). If omitted, nothing is told.
   */
  readonly onLayerRead?: ((progress: ArchiveLayerRead) => void) | undefined;
}

/**
 * How far the pass that reads a docker-archive's layers has read one of them
 * ({@link DockerArchiveOptions.onLayerRead}).
 * @public
 */
export interface ArchiveLayerRead {
  /** The layer's diff_id, as its image's config names it. */
  readonly diffId: string;
  /** Bytes of the layer, as stored in the archive, read so far. */
  readonly bytesDone: number;
  /** The layer's size as stored in the archive. */
  readonly bytesTotal: number;
}

interface LegacyItem {
  readonly Config: string;
  readonly RepoTags?: readonly string[] | null;
  readonly Layers: readonly string[];
}

type BlobPlan =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | {
      readonly kind: 'entry';
      readonly entry: TarEntry;
      readonly gzip: boolean;
      /** The gzip stream kept from the measuring pass (`spoolCompressed`). */
      readonly spool?: LayerSpool;
    };

interface BuiltImage {
  readonly manifest: ParsedManifest;
  readonly blobs: ReadonlyMap<string, BlobPlan>;
}

const MAX_CONFIG_BYTES = 64 * 1024 * 1024;
const MAX_MANIFEST_JSON_BYTES = 16 * 1024 * 1024;

/**
 * A docker-archive (what `docker save` writes and `docker load` reads) as a {@link ArchiveTarget}.
 *
 * Reading follows `manifest.json` (skopeo's `docker-archive:` does the same): both generations —
 * the legacy `<id>/layer.tar` layout (links such as `layer.tar` → `<hex>.tar` followed) and
 * Docker 25+'s, whose `manifest.json` points into `blobs/sha256/` — and gzip-compressed archives.
 * Choose an image with `NAME[:TAG]` or `@INDEX` as the reference; `''` takes the only one. The
 * manifest is built from the config and layers: each layer is read once when the image is first
 * resolved, its sha256 checked against the config's diff_id (a mismatch fails before anything is
 * sent), and, unless `keepUncompressed`, gzip-compressed to learn the digest; the push compresses
 * it again, byte-identically, as it streams.
 *
 * Writing takes one image manifest (not an index: pull one platform) and writes the legacy
 * `manifest.json` and `repositories` next to Docker 25's `oci-layout`, `index.json` and
 * `blobs/sha256/`, the blobs as the registry has them. Tag references are the `RepoTags`
 * (`registry/repository:tag`).
 *
 * ```ts
 * const archive = dockerArchive('./app.tar');
 * await copy(archive, 'app:1.0', ociLayout('./app'), '1.0');
 * ```
 * @public
 */
export function dockerArchive(path: string, options: DockerArchiveOptions = {}): ArchiveTarget {
  const writer = new TarWriter(path);
  const name = `docker-archive:${writer.path}`;
  const keepUncompressed = options.keepUncompressed ?? false;
  const level = options.compressionLevel ?? 6;
  const maxManifestBytes = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  if (!Number.isInteger(level) || level < 1 || level > 9) {
    throw new InvalidInputError(`compressionLevel must be 1 to 9, got ${level}`, { input: String(level) });
  }

  let loaded:
    | Promise<{ archive: TarArchive; items: readonly LegacyItem[]; images: ArchiveImage[] }>
    | undefined;
  const load = () => {
    loaded ??= (async () => {
      const archive = await openTar(writer.path);
      if (!archive.has('manifest.json')) {
        const hint = archive.has('index.json')
          ? 'it is an OCI image layout in a tar: read it as oci-archive'
          : 'it is not a docker-archive (docker save writes one)';
        throw archiveError(writer.path, 'it has no manifest.json', hint);
      }
      const bytes = await archive.read(
        archive.entry('manifest.json'),
        MAX_MANIFEST_JSON_BYTES,
        'manifest.json',
      );
      const items = parseLegacyManifest(bytes, writer.path);
      const images = items.map((item, index) => ({ index, names: [...(item.RepoTags ?? [])] }));
      return { archive, items, images };
    })();
    loaded.catch(() => {
      loaded = undefined;
    });
    return loaded;
  };

  const built = new Map<number, Promise<BuiltImage>>();
  const byDigest = new Map<string, { image: BuiltImage; plan: BlobPlan | 'manifest' }>();
  /** The spools the measuring passes kept, released by `close`. */
  const spools: LayerSpool[] = [];

  /**
   * Builds image `index` once (its layers read, checked and measured); `signal` stops the
   * reading of the call that starts it (a later call builds again).
   */
  const build = (index: number, signal?: AbortSignal): Promise<BuiltImage> => {
    let pending = built.get(index);
    if (pending === undefined) {
      pending = (async () => {
        const { archive, items } = await load();
        const item = items[index] as LegacyItem;
        const image = await buildImage(archive, item, index, signal);
        byDigest.set(image.manifest.digest, { image, plan: 'manifest' });
        for (const [digest, plan] of image.blobs) byDigest.set(digest, { image, plan });
        return image;
      })();
      built.set(index, pending);
      pending.catch(() => built.delete(index));
    }
    return pending;
  };

  const buildImage = async (
    archive: TarArchive,
    item: LegacyItem,
    index: number,
    signal: AbortSignal | undefined,
  ): Promise<BuiltImage> => {
    const where = `image @${index} of ${writer.path}`;
    const configEntry = entryOf(archive, item.Config, `the config of ${where}`);
    const configBytes = await archive.read(
      configEntry,
      Math.max(MAX_CONFIG_BYTES, maxManifestBytes),
      'config',
    );
    const configDigest = `sha256:${createHash('sha256').update(configBytes).digest('hex')}` as const;
    const named = hexOfPath(item.Config);
    if (named !== undefined && `sha256:${named}` !== configDigest) {
      throw archiveError(
        writer.path,
        `the config "${item.Config}" of ${where} hashes to ${configDigest}, not the digest its name gives`,
      );
    }
    const diffIds = diffIdsOf(configBytes, writer.path, item.Config);
    if (diffIds.length !== item.Layers.length) {
      throw archiveError(
        writer.path,
        `${where} lists ${item.Layers.length} layers but its config has ${diffIds.length} diff_ids`,
      );
    }
    const layers = await mapLimit(item.Layers, options.concurrency ?? 2, async (layerPath, position) => {
      const entry = entryOf(archive, layerPath, `layer ${position + 1} of ${where}`);
      const diffId = diffIds[position] as string;
      const told = options.onLayerRead;
      told?.({ diffId, bytesDone: 0, bytesTotal: entry.size });
      const measure = await measureLayer(
        archive.open(entry, 0, signal),
        !keepUncompressed,
        level,
        `layer "${layerPath}"`,
        writer.path,
        {
          spool: options.spoolCompressed,
          send: options.sendCompressed === undefined ? undefined : { to: options.sendCompressed, diffId },
          onRead:
            told === undefined
              ? undefined
              : (bytesRead) => told({ diffId, bytesDone: bytesRead, bytesTotal: entry.size }),
        },
      ).catch((error: unknown) => {
        throw fileFailure(error, `reading layer "${layerPath}"`, writer.path, signal);
      });
      if (measure.diffId !== diffIds[position]) {
        throw archiveError(
          writer.path,
          `layer "${layerPath}" of ${where} has the diff_id ${measure.diffId}, but the config says ${diffIds[position]}: the layer does not belong to this image or is corrupt`,
        );
      }
      return { entry, measure };
    });
    const oci = keepUncompressed && layers.some(({ measure }) => measure.compression === 'none');
    const blobs = new Map<string, BlobPlan>([[configDigest, { kind: 'bytes', bytes: configBytes }]]);
    const layerDescriptors = layers.map(({ entry, measure }): Descriptor => {
      if (measure.gzip !== undefined) {
        if (measure.gzip.spool !== undefined) spools.push(measure.gzip.spool);
        blobs.set(measure.gzip.digest, {
          kind: 'entry',
          entry,
          gzip: true,
          ...definedProps({ spool: measure.gzip.spool }),
        });
        return {
          mediaType: oci ? MediaType.OciLayerGzip : MediaType.DockerLayerGzip,
          digest: measure.gzip.digest,
          size: measure.gzip.size,
        };
      }
      blobs.set(measure.stored.digest, { kind: 'entry', entry, gzip: false });
      const mediaType =
        measure.compression === 'gzip'
          ? oci
            ? MediaType.OciLayerGzip
            : MediaType.DockerLayerGzip
          : MediaType.OciLayer;
      return { mediaType, digest: measure.stored.digest, size: measure.stored.size };
    });
    const document = {
      schemaVersion: 2,
      mediaType: oci ? MediaType.OciManifest : MediaType.DockerManifest,
      config: {
        mediaType: oci ? MediaType.OciConfig : MediaType.DockerConfig,
        digest: configDigest,
        size: configBytes.byteLength,
      },
      layers: layerDescriptors,
    };
    const manifest = parseManifest(Buffer.from(JSON.stringify(document)), { maxBytes: maxManifestBytes });
    return { manifest, blobs };
  };

  const planOf = async (descriptor: Descriptor): Promise<BlobPlan | 'manifest'> => {
    const found = byDigest.get(descriptor.digest);
    if (found !== undefined) return found.plan;
    // Not resolved yet: build every image to find it.
    const { items } = await load();
    for (let index = 0; index < items.length; index += 1) await build(index);
    const later = byDigest.get(descriptor.digest);
    if (later === undefined) {
      throw new NotFoundError(`${name} has no content ${descriptor.digest}`, { resource: descriptor.digest });
    }
    return later.plan;
  };

  /** The content from `offset` (a compressed layer reads its spool from there when it has one). */
  const open = (
    descriptor: Descriptor,
    signal?: AbortSignal,
    offset = 0,
    options?: BlobOpenOptions,
  ): Readable =>
    Readable.from(
      (async function* content() {
        const plan = await planOf(descriptor);
        const spooled =
          plan !== 'manifest' && plan.kind === 'entry' ? plan.spool?.open(offset, signal) : undefined;
        if (spooled !== undefined) {
          yield* spooled as AsyncIterable<Buffer>;
          return;
        }
        if (offset > 0) {
          yield* skipBytes(open(descriptor, signal), offset) as AsyncIterable<Buffer>;
          return;
        }
        if (plan === 'manifest') {
          yield Buffer.from(
            (byDigest.get(descriptor.digest)?.image.manifest.bytes ?? new Uint8Array()) as Uint8Array,
          );
          return;
        }
        if (plan.kind === 'bytes') {
          yield Buffer.from(plan.bytes);
          return;
        }
        const { archive } = await load();
        // A layer kept as it is stored may be read into a ring (the consumer's `recycleAfter`);
        // gzip's input never is: zlib holds on to what it was given beyond what the consumer sees.
        if (!plan.gzip) {
          yield* archive.open(plan.entry, 0, signal, options) as AsyncIterable<Buffer>;
          return;
        }
        const stream = archive.open(plan.entry, 0, signal);
        const zipped = layerGzip(level);
        pipelineCallback(stream, zipped, () => {
          // Errors reach the consumer through `zipped`.
        });
        try {
          yield* zipped as AsyncIterable<Buffer>;
        } finally {
          closeQuietly(stream);
        }
      })(),
      { objectMode: false },
    );

  const pushedManifests = new Map<string, ParsedManifest>();
  const repoTags = new Map<string, string[]>();

  return {
    format: 'docker-archive',
    path: writer.path,
    name,
    images: async () => (await load()).images,
    async resolve(reference, readOptions = {}) {
      if (isContentDigest(reference)) {
        const plan = await planOf({ mediaType: '', digest: reference, size: 0 });
        const image = byDigest.get(reference)?.image;
        if (plan === 'manifest' && image !== undefined) return plainDescriptor(image.manifest);
        throw new NotFoundError(`${name} has no manifest ${reference}`, { resource: reference });
      }
      const { images } = await load();
      const chosen = selectImage(images, reference, name);
      const image = await build(chosen.index, readOptions.signal);
      return {
        mediaType: image.manifest.mediaType,
        digest: image.manifest.digest,
        size: image.manifest.size,
      };
    },
    async exists(descriptor) {
      // As a destination: what the archive being written has. An index cannot be written.
      if (isManifestDescriptor(descriptor) && !isImageManifestType(descriptor.mediaType)) {
        throw onePlatform(name);
      }
      return writer.has(blobEntry(descriptor.digest));
    },
    fetch(descriptor, readOptions = {}) {
      const verifier = createVerifyingStream(descriptor.digest, {
        size: descriptor.size,
        what: `blob ${descriptor.digest} of ${name}`,
      });
      pipelineCallback(open(descriptor, readOptions.signal), verifier, () => {
        // Errors reach the consumer through `verifier`.
      });
      return verifier;
    },
    async fetchManifest(descriptor) {
      const plan = await planOf(descriptor);
      const image = byDigest.get(descriptor.digest)?.image;
      if (plan !== 'manifest' || image === undefined) {
        throw new NotFoundError(`${name} has no manifest ${descriptor.digest}`, {
          resource: descriptor.digest,
        });
      }
      return image.manifest;
    },
    source(descriptor): BlobSource {
      return {
        size: descriptor.size,
        open: (offset, signal, options) => open(descriptor, signal, offset, options),
      };
    },
    async push(descriptor, content, pushOptions = {}) {
      if (isManifestDescriptor(descriptor)) {
        if (!isImageManifestType(descriptor.mediaType)) throw onePlatform(name);
        const bytes = await readAllCapped(content, Math.max(maxManifestBytes, descriptor.size), 'manifest');
        const parsed = parseManifest(bytes, {
          contentType: descriptor.mediaType,
          expectedDigest: descriptor.digest,
          maxBytes: Math.max(maxManifestBytes, descriptor.size),
        });
        pushedManifests.set(parsed.digest, parsed);
        return writeBlob(writer, descriptor, bytes, pushOptions, name);
      }
      return writeBlob(writer, descriptor, content, pushOptions, name);
    },
    async tag(descriptor, reference) {
      if (isDigest(reference)) return;
      if (!pushedManifests.has(descriptor.digest)) {
        throw new NotFoundError(`cannot tag ${descriptor.digest} in ${name}: push the manifest first`, {
          resource: descriptor.digest,
        });
      }
      const tags = repoTags.get(descriptor.digest) ?? [];
      if (!tags.includes(reference)) tags.push(reference);
      repoTags.set(descriptor.digest, tags);
    },
    async commit() {
      try {
        if (pushedManifests.size === 0) {
          throw new InvalidInputError(
            `nothing was written to ${name}: copy an image to it before committing`,
          );
        }
        const roots = [...pushedManifests.values()].filter(
          (manifest) => repoTags.has(manifest.digest) || pushedManifests.size === 1,
        );
        const legacy: Record<string, unknown>[] = [];
        const repositories: Record<string, Record<string, string>> = {};
        const indexEntries: Record<string, unknown>[] = [];
        for (const manifest of roots) {
          if (!isImageManifest(manifest) || isIndex(manifest)) throw onePlatform(name);
          const body = manifest.manifest;
          const tags = repoTags.get(manifest.digest) ?? [];
          const layers = body.layers.map((layer) => blobEntry(layer.digest));
          legacy.push({ Config: blobEntry(body.config.digest), RepoTags: tags, Layers: layers });
          const topLayer = body.layers.at(-1)?.digest;
          for (const tag of tags) {
            const { repository, version } = splitRepoTag(tag);
            repositories[repository] ??= {};
            if (topLayer !== undefined)
              (repositories[repository] as Record<string, string>)[version] = parseDigest(topLayer).encoded;
          }
          const entries = tags.length === 0 ? [undefined] : tags;
          for (const tag of entries) {
            indexEntries.push({
              mediaType: manifest.mediaType,
              digest: manifest.digest,
              size: manifest.size,
              ...(tag === undefined
                ? {}
                : {
                    annotations: {
                      'io.containerd.image.name': tag,
                      'org.opencontainers.image.ref.name': splitRepoTag(tag).version,
                    },
                  }),
            });
          }
        }
        await writer.bytes(
          'index.json',
          Buffer.from(goJson({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: indexEntries })),
        );
        await writer.bytes('manifest.json', Buffer.from(goJson(legacy)));
        await writer.bytes('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
        if (Object.keys(repositories).length > 0)
          await writer.bytes('repositories', Buffer.from(goJson(repositories)));
        await writer.commit();
      } catch (error) {
        await writer.discard();
        throw error;
      }
    },
    discard: () => writer.discard(),
    async close() {
      for (const spool of spools.splice(0)) spool.release();
    },
  };
}

function isImageManifestType(mediaType: string): boolean {
  return mediaType === MediaType.OciManifest || mediaType === MediaType.DockerManifest;
}

function onePlatform(name: string): InvalidInputError {
  return new InvalidInputError(
    `${name}: a docker-archive holds one platform's image, and this is a multi-platform index; choose one platform (--platform linux/amd64, or the platform option), or write an oci-archive`,
    { code: GhcrErrorCode.INVALID_PLATFORM },
  );
}

/** `registry/repo:tag` → repository and tag (`latest` when none). */
function splitRepoTag(tag: string): { repository: string; version: string } {
  const slash = tag.lastIndexOf('/');
  const colon = tag.lastIndexOf(':');
  if (colon > slash) return { repository: tag.slice(0, colon), version: tag.slice(colon + 1) };
  return { repository: tag, version: 'latest' };
}

/** The hex a content-addressed path names (`<hex>.json`, `blobs/sha256/<hex>`), if it does. */
function hexOfPath(path: string): string | undefined {
  const match = /^([a-f0-9]{64})(?:\.json)?$/.exec(posix.basename(path));
  return match?.[1];
}

function entryOf(archive: TarArchive, path: string, what: string): TarEntry {
  if (!archive.has(path)) {
    throw archiveError(archive.path, `${what} ("${path}") is missing from the archive`);
  }
  return archive.entry(path);
}

function parseLegacyManifest(bytes: Buffer, path: string): LegacyItem[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw archiveError(
      path,
      `its manifest.json is not JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw archiveError(path, 'its manifest.json lists no images');
  }
  return parsed.map((item: unknown, index) => {
    const record = item as Partial<Record<keyof LegacyItem, unknown>>;
    const okLayers =
      Array.isArray(record.Layers) && record.Layers.every((layer) => typeof layer === 'string');
    const okTags =
      record.RepoTags === undefined ||
      record.RepoTags === null ||
      (Array.isArray(record.RepoTags) && record.RepoTags.every((tag) => typeof tag === 'string'));
    if (typeof record.Config !== 'string' || !okLayers || !okTags) {
      throw archiveError(
        path,
        `entry ${index} of its manifest.json needs Config (a path), Layers (paths) and RepoTags`,
      );
    }
    return record as LegacyItem;
  });
}

function diffIdsOf(config: Buffer, path: string, configPath: string): string[] {
  let parsed: { rootfs?: { diff_ids?: unknown } };
  try {
    parsed = JSON.parse(config.toString('utf8')) as typeof parsed;
  } catch {
    throw archiveError(path, `the config "${configPath}" is not JSON`);
  }
  const ids = parsed.rootfs?.diff_ids;
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string' && isDigest(id))) {
    throw archiveError(path, `the config "${configPath}" has no rootfs.diff_ids list of digests`);
  }
  return ids as string[];
}
