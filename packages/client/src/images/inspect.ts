import {
  isImageManifest,
  isIndex,
  listPlatforms,
  type ManifestKind,
  manifestChildren,
  type ParsedImageManifest,
  type ParsedManifest,
} from '@ghcr/manifest';
import {
  type Descriptor,
  definedProps,
  GhcrErrorCode,
  type ImageConfig,
  imageConfigSchema,
  MediaType,
  type Platform,
  ProtocolError,
} from '@ghcr/oci-types';
import { signalOption } from '../content/content.js';
import { choosePlatform, platformWanted } from '../content/platform-choice.js';
import type { ReadOnlyTarget } from '../content/target.js';
import { mapLimit } from '../registry/concurrency.js';

/**
 * Options of `Images.inspect`.
 * @public
 */
export interface InspectOptions {
  /** For an index: inspect this platform's image (`linux/arm64`). If omitted, the index itself is described. */
  readonly platform?: string | Platform | undefined;
  /** Parallel requests (an index's manifests are read to total their sizes). If omitted, 4. */
  readonly concurrency?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * What `Images.inspect` reports about a reference.
 * @public
 */
export interface ImageInspection {
  /** The manifest described (the platform's manifest when `platform` chose one of an index). */
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly kind: ManifestKind;
  /** The artifact type, for an artifact (OCI `artifactType`, else a non-image config's media type). */
  readonly artifactType?: string;
  /** The manifest's annotations. */
  readonly annotations: Readonly<Record<string, string>>;
  /** An index's platforms; for an image, its own (from the config) when known. */
  readonly platforms: readonly Platform[];
  /** The image's platform (from its config, or the index entry that led to it). */
  readonly platform?: Platform;
  /** An index's entries. */
  readonly manifests?: readonly Descriptor[];
  /** The index the platform was chosen from. */
  readonly index?: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>;
  /** An image's config descriptor. */
  readonly config?: Descriptor;
  /** An image's layers (for an index: none). */
  readonly layers: readonly Descriptor[];
  /** When the image was built: the config's `created`, else the `org.opencontainers.image.created` annotation. */
  readonly created?: string;
  /** The config's labels (`config.Labels`). */
  readonly labels: Readonly<Record<string, string>>;
  /** The manifest this one refers to (signatures, SBOMs). */
  readonly subject?: Descriptor;
  /**
   * Bytes a pull of this reference moves: the manifest, its config and layers; for an index, the
   * index and every manifest in it with theirs (each distinct blob counted once).
   */
  readonly totalSize: number;
}

const IMAGE_CONFIG_TYPES = new Set<string>([MediaType.OciConfig, MediaType.DockerConfig]);
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
const CREATED_ANNOTATION = 'org.opencontainers.image.created';

/**
 * Describes the manifest a reference of a target points at.
 * @internal
 */
export async function inspectTarget(
  target: ReadOnlyTarget,
  reference: string,
  options: InspectOptions = {},
): Promise<ImageInspection> {
  const readOptions = signalOption(options.signal);
  const wanted = platformWanted({
    ...definedProps({ platform: options.platform }),
  });
  const root = await target.resolve(reference, readOptions);
  const manifest = await target.fetchManifest(root, readOptions);
  if (isIndex(manifest)) {
    if (wanted !== undefined) {
      const chosen = choosePlatform(manifest, wanted, `${target.name}:${reference}`);
      const image = await target.fetchManifest(chosen, readOptions);
      return {
        ...(await describeImage(target, image, chosen.platform, options)),
        index: { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size },
      };
    }
    const children = await mapLimit(manifest.manifest.manifests, options.concurrency ?? 4, (entry) =>
      target.fetchManifest(entry, readOptions),
    );
    const counted = new Set<string>();
    let totalSize = manifest.size;
    for (const child of children) totalSize += graphSize(child, counted);
    return {
      ...base(manifest),
      platforms: listPlatforms(manifest),
      manifests: manifest.manifest.manifests,
      layers: [],
      labels: {},
      ...createdOf(undefined, base(manifest).annotations),
      totalSize,
    };
  }
  return describeImage(target, manifest, root.platform, options);
}

function base(
  manifest: ParsedManifest,
): Pick<
  ImageInspection,
  'mediaType' | 'digest' | 'size' | 'kind' | 'annotations' | 'artifactType' | 'subject'
> {
  const document = manifest.manifest as {
    annotations?: Record<string, string>;
    artifactType?: string;
    subject?: Descriptor;
  };
  return {
    mediaType: manifest.mediaType,
    digest: manifest.digest,
    size: manifest.size,
    kind: manifest.kind,
    annotations: document.annotations ?? {},
    ...definedProps({ artifactType: document.artifactType, subject: document.subject }),
  };
}

/** Size of a manifest and the blobs it references, counting each digest once. */
function graphSize(manifest: ParsedManifest, counted: Set<string>): number {
  let total = counted.has(manifest.digest) ? 0 : manifest.size;
  counted.add(manifest.digest);
  for (const child of manifestChildren(manifest)) {
    if (child.role === 'subject' || child.role === 'manifest' || counted.has(child.descriptor.digest))
      continue;
    counted.add(child.descriptor.digest);
    total += child.descriptor.size;
  }
  return total;
}

async function describeImage(
  target: ReadOnlyTarget,
  manifest: ParsedManifest,
  entryPlatform: Platform | undefined,
  options: InspectOptions,
): Promise<ImageInspection> {
  if (!isImageManifest(manifest)) {
    throw new ProtocolError(`manifest ${manifest.digest} is an index inside an index; inspect it by digest`, {
      code: GhcrErrorCode.INVALID_MANIFEST,
    });
  }
  const described = base(manifest);
  const config = manifest.manifest.config;
  const imageConfig = IMAGE_CONFIG_TYPES.has(config.mediaType)
    ? await readConfig(target, manifest, options.signal)
    : undefined;
  const platform = platformOf(imageConfig) ?? entryPlatform;
  const artifactType =
    described.artifactType ??
    (imageConfig === undefined && config.mediaType !== MediaType.OciEmpty ? config.mediaType : undefined);
  return {
    ...described,
    ...definedProps({ artifactType }),
    platforms: platform === undefined ? [] : [platform],
    ...definedProps({ platform }),
    config,
    layers: manifest.manifest.layers,
    ...createdOf(imageConfig, described.annotations),
    labels: imageConfig?.config?.Labels ?? {},
    totalSize: graphSize(manifest, new Set()),
  };
}

function createdOf(
  config: ImageConfig | undefined,
  annotations: Readonly<Record<string, string>>,
): { created?: string } {
  const created = config?.created ?? annotations[CREATED_ANNOTATION];
  return created === undefined ? {} : { created };
}

function platformOf(config: ImageConfig | undefined): Platform | undefined {
  if (config === undefined) return undefined;
  return {
    architecture: config.architecture,
    os: config.os,
    ...definedProps({ variant: config.variant }),
    ...(config['os.version'] === undefined ? {} : { 'os.version': config['os.version'] }),
  };
}

async function readConfig(
  target: ReadOnlyTarget,
  manifest: ParsedImageManifest,
  signal: AbortSignal | undefined,
): Promise<ImageConfig | undefined> {
  const descriptor = manifest.manifest.config;
  if (descriptor.size > MAX_CONFIG_BYTES) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of target.fetch(descriptor, signalOption(signal))) chunks.push(chunk as Buffer);
  let document: unknown;
  try {
    document = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new ProtocolError(`the config ${descriptor.digest} of ${target.name} is not JSON`, {
      code: GhcrErrorCode.INVALID_MANIFEST,
      cause: error,
    });
  }
  const parsed = imageConfigSchema.safeParse(document);
  return parsed.success ? parsed.data : undefined;
}
