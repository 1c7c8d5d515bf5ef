import type { GhcrClient, ImageInspection } from '@ghcr/client';
import {
  formatPlatform,
  isIndex,
  listPlatforms,
  type ParsedManifest,
  parsePlatform,
  platformMatches,
  selectPlatformManifest,
} from '@ghcr/manifest';
import {
  type Descriptor,
  definedProps,
  MediaType,
  NotFoundError,
  type Platform,
  referenceTarget,
} from '@ghcr/oci-types';
import type { Command } from 'commander';
import { type CommandRegistrar, contextOf } from '../command.js';
import { alignedFields, formatBytes } from '../format.js';
import { formatImage, imageReference } from '../references.js';

/**
 * A descriptor in `ghcr inspect --json` output.
 * @public
 */
export interface InspectDescriptor {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * A child of an index in `ghcr inspect --json` output.
 * @public
 */
export interface InspectIndexEntry extends InspectDescriptor {
  /** `os/arch[/variant]`, when the entry declares a platform (`unknown/unknown` for attestations). */
  readonly platform?: string;
}

/**
 * The image config summary in `ghcr inspect --json` output.
 * @public
 */
export interface InspectConfig extends InspectDescriptor {
  /** `os/arch[/variant]` from the config. */
  readonly platform?: string;
  /** RFC 3339 creation time from the config. */
  readonly created?: string;
  /** `config.Labels` of the image config. */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * `--json` shape of `ghcr inspect`.
 * @public
 */
export interface InspectResult {
  readonly registry: string;
  readonly repository: string;
  /** What was read: the tag or digest (`latest` when the reference named neither). */
  readonly reference: string;
  readonly digest: string;
  readonly mediaType: string;
  /** Manifest size in bytes. */
  readonly size: number;
  readonly kind: ParsedManifest['kind'];
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly subject?: InspectDescriptor;
  /** Index: its children, in order. */
  readonly manifests?: readonly InspectIndexEntry[];
  /** Index: the distinct platforms of its children (attestation entries `unknown/unknown` left out). */
  readonly platforms?: readonly string[];
  /** Image or artifact: the config descriptor (with the image config's platform, created and labels). */
  readonly config?: InspectConfig;
  /** Image or artifact: the layers, in order. */
  readonly layers?: readonly InspectDescriptor[];
  /** Image or artifact: config + layers, in bytes. */
  readonly totalSize?: number;
  /** With `--platform` on an index: the index the platform's manifest was picked from. */
  readonly index?: InspectDescriptor;
  /**
   * When it was built: the image config's `created`, else the `org.opencontainers.image.created`
   * annotation (indexes and artifacts).
   */
  readonly created?: string;
  /**
   * Bytes a pull of this reference moves: the manifest with its config and layers; for an index,
   * the index and every manifest in it with theirs. Each distinct blob is counted once.
   */
  readonly pullSize: number;
}

const IMAGE_CONFIG_TYPES = new Set<string>([MediaType.OciConfig, MediaType.DockerConfig]);

function descriptorOf(descriptor: Descriptor): InspectDescriptor {
  return {
    digest: descriptor.digest,
    mediaType: descriptor.mediaType,
    size: descriptor.size,
    ...definedProps({ artifactType: descriptor.artifactType, annotations: descriptor.annotations }),
  };
}

/**
 * `ghcr inspect <ref> [--raw] [--platform P]`: what an image is (media type, digest, size), and
 * for an index its platforms, for an image its config (platform, created, labels) and layers, with
 * the bytes a pull of it moves.
 * @internal
 */
export const registerInspectCommand: CommandRegistrar = (program, runtime) => {
  program
    .command('inspect')
    .description(
      'show an image: media type, digest, size; platforms of an index; config and layers of an image',
    )
    .argument('<ref>', 'registry/repository:tag or @digest (":latest" if neither)')
    .option('--raw', 'print the manifest bytes exactly as the registry sent them (overrides --json)')
    .option('--platform <os/arch[/variant]>', 'of an index, inspect the manifest for this platform')
    .action(async (refArgument: string, _options: unknown, command: Command) => {
      const context = contextOf(runtime, command);
      const options = command.opts<{ raw?: boolean; platform?: string }>();
      const reference = imageReference(refArgument);
      const wanted = options.platform === undefined ? undefined : parsePlatform(options.platform);
      const client = context.client(reference.registry);
      const target = referenceTarget(reference);
      const image = formatImage(reference.registry, reference.repository, reference.tag, reference.digest);
      if (options.raw === true) {
        context.output.raw(await rawManifest(client, reference.repository, target, image, wanted));
        return;
      }
      const inspection = await client.images.inspect(image, {
        ...definedProps({ platform: wanted }),
      });
      if (wanted !== undefined && inspection.index === undefined && inspection.platform !== undefined) {
        // A single-platform image: fine when it is the platform asked for.
        if (!platformMatches(inspection.platform, wanted)) {
          throw new NotFoundError(
            `${image} is a single-platform image for ${formatPlatform(inspection.platform)}, not ${formatPlatform(wanted)}`,
            { code: 'MANIFEST_UNKNOWN', resource: formatPlatform(wanted) },
          );
        }
      }
      const result = inspectResult(reference.registry, reference.repository, target, inspection);
      context.output.emit(result, () => renderInspect(result));
    });
};

/** The exact bytes of the manifest `--raw` prints: the reference's, or its platform's. */
async function rawManifest(
  client: GhcrClient,
  repository: string,
  target: string,
  image: string,
  wanted: Platform | undefined,
): Promise<Uint8Array> {
  const top = await client.manifests.get(repository, target);
  if (wanted === undefined) return top.bytes;
  if (isIndex(top)) {
    const chosen = selectPlatformManifest(top, wanted);
    if (chosen === undefined) {
      const platforms = listPlatforms(top).map(formatPlatform);
      throw new NotFoundError(
        `${image} has no manifest for ${formatPlatform(wanted)}; it has ${[...new Set(platforms)].join(', ') || 'no platforms'}`,
        { code: 'MANIFEST_UNKNOWN', resource: formatPlatform(wanted) },
      );
    }
    return (await client.manifests.get(repository, chosen.digest)).bytes;
  }
  const inspection = await client.images.inspect(image);
  if (inspection.platform !== undefined && !platformMatches(inspection.platform, wanted)) {
    throw new NotFoundError(
      `${image} is a single-platform image for ${formatPlatform(inspection.platform)}, not ${formatPlatform(wanted)}`,
      { code: 'MANIFEST_UNKNOWN', resource: formatPlatform(wanted) },
    );
  }
  return top.bytes;
}

/**
 * The `--json` document of an inspection.
 * @internal
 */
export function inspectResult(
  registry: string,
  repository: string,
  reference: string,
  inspection: ImageInspection,
): InspectResult {
  const annotations = Object.keys(inspection.annotations).length === 0 ? undefined : inspection.annotations;
  const base = {
    registry,
    repository,
    reference: inspection.index === undefined ? reference : inspection.digest,
    digest: inspection.digest,
    mediaType: inspection.mediaType,
    size: inspection.size,
    kind: inspection.kind,
    ...definedProps({ artifactType: inspection.artifactType, annotations }),
    ...(inspection.subject === undefined ? {} : { subject: descriptorOf(inspection.subject) }),
    ...(inspection.index === undefined
      ? {}
      : {
          index: {
            digest: inspection.index.digest,
            mediaType: inspection.index.mediaType,
            size: inspection.index.size,
          },
        }),
    ...definedProps({ created: inspection.created }),
  };
  if (inspection.manifests !== undefined) {
    const manifests: InspectIndexEntry[] = inspection.manifests.map((entry) => ({
      ...descriptorOf(entry),
      ...(entry.platform === undefined ? {} : { platform: formatPlatform(entry.platform) }),
    }));
    const platforms = [...new Set(inspection.platforms.map(formatPlatform))];
    return { ...base, manifests, platforms, pullSize: inspection.totalSize };
  }
  const config = inspection.config;
  const imageConfig = config !== undefined && IMAGE_CONFIG_TYPES.has(config.mediaType);
  const labels = Object.keys(inspection.labels).length === 0 ? undefined : inspection.labels;
  return {
    ...base,
    ...(config === undefined
      ? {}
      : {
          config: {
            ...descriptorOf(config),
            ...(imageConfig && inspection.platform !== undefined
              ? { platform: formatPlatform(inspection.platform) }
              : {}),
            ...(imageConfig && inspection.created !== undefined ? { created: inspection.created } : {}),
            ...definedProps({ labels }),
          },
        }),
    layers: inspection.layers.map(descriptorOf),
    totalSize: (config?.size ?? 0) + inspection.layers.reduce((sum, layer) => sum + layer.size, 0),
    pullSize: inspection.totalSize,
  };
}

function annotationLines(
  annotations: Readonly<Record<string, string>> | undefined,
  indent: string,
): string[] {
  return Object.entries(annotations ?? {}).map(([key, value]) => `${indent}${key}=${value}`);
}

/**
 * The human rendering of an inspect result.
 * @internal
 */
export function renderInspect(result: InspectResult): string[] {
  const image = result.reference.includes(':')
    ? formatImage(result.registry, result.repository, undefined, result.reference)
    : formatImage(result.registry, result.repository, result.reference);
  const config = result.config;
  const lines = alignedFields([
    ['Reference', image],
    ['Index', result.index === undefined ? undefined : `${result.index.digest} (${result.index.mediaType})`],
    ['Digest', result.digest],
    ['Media type', result.mediaType],
    ['Artifact type', result.artifactType],
    ['Size', `${formatBytes(result.size)} (${result.size} bytes)`],
    [
      'Subject',
      result.subject === undefined ? undefined : `${result.subject.digest} (${result.subject.mediaType})`,
    ],
    ['Platform', config?.platform],
    ['Created', config?.created ?? result.created],
    [
      'Config',
      config === undefined ? undefined : `${config.digest}  ${formatBytes(config.size)}  ${config.mediaType}`,
    ],
    [
      'Layers',
      result.layers === undefined
        ? undefined
        : `${result.layers.length} (${formatBytes(result.totalSize ?? 0)} with the config)`,
    ],
    ['Manifests', result.manifests === undefined ? undefined : String(result.manifests.length)],
    ['Pull size', `${formatBytes(result.pullSize)} (manifests, configs and layers, each once)`],
  ]);
  for (const layer of result.layers ?? [])
    lines.push(`  ${layer.digest}  ${formatBytes(layer.size)}  ${layer.mediaType}`);
  if (result.manifests !== undefined) {
    const width = Math.max(0, ...result.manifests.map((entry) => (entry.platform ?? '-').length));
    for (const entry of result.manifests) {
      const role = entry.annotations?.['vnd.docker.reference.type'];
      const about = entry.annotations?.['vnd.docker.reference.digest'];
      const note = role === undefined ? '' : `  ${role}${about === undefined ? '' : ` for ${about}`}`;
      lines.push(
        `  ${(entry.platform ?? '-').padEnd(width)}  ${entry.digest}  ${formatBytes(entry.size)}${note}`,
      );
    }
  }
  const labels = annotationLines(config?.labels, '  ');
  if (labels.length > 0) lines.push('Labels:', ...labels);
  const annotations = annotationLines(result.annotations, '  ');
  if (annotations.length > 0) lines.push('Annotations:', ...annotations);
  return lines;
}
