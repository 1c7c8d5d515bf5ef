import type { GhcrClient } from '@ghcr/client';
import {
  formatPlatform,
  isIndex,
  type ParsedManifest,
  parsePlatform,
  platformMatches,
  selectPlatformManifest,
} from '@ghcr/manifest';
import {
  type Descriptor,
  imageConfigSchema,
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
}

const IMAGE_CONFIG_TYPES = new Set<string>([MediaType.OciConfig, MediaType.DockerConfig]);

function descriptorOf(descriptor: Descriptor): InspectDescriptor {
  return {
    digest: descriptor.digest,
    mediaType: descriptor.mediaType,
    size: descriptor.size,
    ...(descriptor.artifactType === undefined ? {} : { artifactType: descriptor.artifactType }),
    ...(descriptor.annotations === undefined ? {} : { annotations: descriptor.annotations }),
  };
}

/**
 * `ghcr inspect <ref> [--raw] [--platform P]`: what a manifest is (media type, digest, size), and
 * for an index its platforms, for an image its config (platform, created, labels) and layers.
 * @internal
 */
export const registerInspectCommand: CommandRegistrar = (program, runtime) => {
  program
    .command('inspect')
    .description(
      'show a manifest: media type, digest, size; platforms of an index; config and layers of an image',
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
      const top = await client.manifests.get(reference.repository, target);
      let manifest = top;
      let index: InspectDescriptor | undefined;
      if (wanted !== undefined && isIndex(top)) {
        const chosen = selectPlatformManifest(top, wanted);
        if (chosen === undefined) {
          throw new NotFoundError(
            `${image} has no manifest for ${formatPlatform(wanted)}; it has ${platformsOf(top).join(', ') || 'no platforms'}`,
            { code: 'MANIFEST_UNKNOWN', resource: formatPlatform(wanted) },
          );
        }
        manifest = await client.manifests.get(reference.repository, chosen.digest);
        index = { digest: top.digest, mediaType: top.mediaType, size: top.size };
      }
      if (wanted !== undefined && index === undefined) {
        // A single-platform image: fine when it is the platform asked for.
        const config = await readConfig(client, reference.repository, top);
        if (config?.platform !== undefined && !platformMatches(config.platform, wanted)) {
          throw new NotFoundError(
            `${image} is a single-platform image for ${formatPlatform(config.platform)}, not ${formatPlatform(wanted)}`,
            { code: 'MANIFEST_UNKNOWN', resource: formatPlatform(wanted) },
          );
        }
      }
      if (options.raw === true) {
        context.output.raw(manifest.bytes);
        return;
      }
      const result = await describeManifest(
        client,
        reference.registry,
        reference.repository,
        target,
        manifest,
        index,
      );
      context.output.emit(result, () => renderInspect(result));
    });
};

function platformsOf(manifest: ParsedManifest): string[] {
  if (!isIndex(manifest)) return [];
  const platforms = new Set<string>();
  for (const entry of manifest.manifest.manifests) {
    if (entry.platform === undefined) continue;
    const text = formatPlatform(entry.platform);
    if (text !== 'unknown/unknown') platforms.add(text);
  }
  return [...platforms];
}

interface ConfigSummary {
  readonly platform?: Platform;
  readonly created?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

async function readConfig(
  client: GhcrClient,
  repository: string,
  manifest: ParsedManifest,
): Promise<ConfigSummary | undefined> {
  if (isIndex(manifest)) return undefined;
  const config = manifest.manifest.config;
  if (!IMAGE_CONFIG_TYPES.has(config.mediaType)) return undefined;
  const bytes = await client.blobs.getBytes(repository, config);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = imageConfigSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const image = parsed.data;
  const labels = image.config?.Labels ?? undefined;
  return {
    platform: {
      os: image.os,
      architecture: image.architecture,
      ...(image.variant === undefined ? {} : { variant: image.variant }),
    },
    ...(image.created === undefined ? {} : { created: image.created }),
    ...(labels === undefined || labels === null ? {} : { labels }),
  };
}

async function describeManifest(
  client: GhcrClient,
  registry: string,
  repository: string,
  reference: string,
  manifest: ParsedManifest,
  index: InspectDescriptor | undefined,
): Promise<InspectResult> {
  const document = manifest.manifest as {
    readonly artifactType?: string;
    readonly annotations?: Record<string, string>;
    readonly subject?: Descriptor;
  };
  const base = {
    registry,
    repository,
    reference: index === undefined ? reference : manifest.digest,
    digest: manifest.digest,
    mediaType: manifest.mediaType,
    size: manifest.size,
    kind: manifest.kind,
    ...(document.artifactType === undefined ? {} : { artifactType: document.artifactType }),
    ...(document.annotations === undefined ? {} : { annotations: document.annotations }),
    ...(document.subject === undefined ? {} : { subject: descriptorOf(document.subject) }),
    ...(index === undefined ? {} : { index }),
  };
  if (isIndex(manifest)) {
    const manifests: InspectIndexEntry[] = manifest.manifest.manifests.map((entry) => ({
      ...descriptorOf(entry),
      ...(entry.platform === undefined ? {} : { platform: formatPlatform(entry.platform) }),
    }));
    return { ...base, manifests, platforms: platformsOf(manifest) };
  }
  const { config, layers } = manifest.manifest;
  const summary = await readConfig(client, repository, manifest);
  return {
    ...base,
    config: {
      ...descriptorOf(config),
      ...(summary?.platform === undefined ? {} : { platform: formatPlatform(summary.platform) }),
      ...(summary?.created === undefined ? {} : { created: summary.created }),
      ...(summary?.labels === undefined ? {} : { labels: summary.labels }),
    },
    layers: layers.map(descriptorOf),
    totalSize: config.size + layers.reduce((sum, layer) => sum + layer.size, 0),
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
    ['Created', config?.created],
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
