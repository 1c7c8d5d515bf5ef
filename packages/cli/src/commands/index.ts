/**
 * `ghcr index create`: the `ghcr index` command group. Like every file in this folder it is named
 * for its command (`versions.ts` holds `ghcr versions list|delete|restore`); it is not a barrel.
 */
import { formatPlatform, isIndex } from '@ghcr/manifest';
import { definedProps, isDigest, isValidTag, parseReference, type Reference } from '@ghcr/oci-types';
import { type Command, Option } from 'commander';
import { collect, parseAnnotations } from '../arguments.js';
import { type CommandRegistrar, contextOf } from '../command.js';
import { usageError } from '../errors.js';
import { formatImage, imageReference } from '../references.js';

/**
 * An entry of the index in `ghcr index create --json` output.
 * @public
 */
export interface IndexEntry {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  /** `os/arch[/variant]` of the entry. */
  readonly platform?: string;
}

/**
 * `--json` shape of `ghcr index create`.
 * @public
 */
export interface IndexCreateResult {
  readonly registry: string;
  readonly repository: string;
  /** The tags the index was pushed under. */
  readonly tags: readonly string[];
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  /** Its entries, in order. */
  readonly manifests: readonly IndexEntry[];
}

/**
 * A manifest argument of `index create`: a tag, a digest (`sha256:…` or `@sha256:…`), or a full
 * reference in the index's repository; as the tag or digest to read.
 */
function manifestSource(input: string, index: Reference): string {
  const bare = input.startsWith('@') ? input.slice(1) : input;
  if (isDigest(bare) || isValidTag(bare)) return bare;
  const reference = parseReference(input);
  if (
    reference.registry.toLowerCase() !== index.registry.toLowerCase() ||
    reference.repository !== index.repository
  ) {
    throw usageError(
      `"${input}" is not in ${index.registry}/${index.repository}: an index lists manifests of its own repository; copy it there first (ghcr copy ${input} ${index.registry}/${index.repository}:<tag>)`,
    );
  }
  return reference.digest ?? reference.tag ?? 'latest';
}

/**
 * `ghcr index create <ref> <manifest-ref>...`: a multi-platform index of manifests already in the
 * repository, each entry's platform read from its image config.
 * @internal
 */
export const registerIndexCommand: CommandRegistrar = (program, runtime) => {
  const index = program
    .command('index')
    .description('multi-platform indexes: create one from platform images');
  index
    .command('create')
    .description('create a multi-platform index of images in the repository and push it under a tag')
    .argument('<ref>', 'the index to create: registry/repository:tag (":latest" if no tag)')
    .argument(
      '<manifest-ref...>',
      'platform images (or indexes) in that repository: tags, digests, or full references',
    )
    .option('--annotation <key=value>', 'an annotation of the index (repeatable)', collect)
    .addOption(
      new Option('--format <format>', 'oci (image index) or docker (manifest list)')
        .choices(['oci', 'docker'])
        .default('oci'),
    )
    .action(async (refArgument: string, manifestArguments: string[], _options: unknown, command: Command) => {
      const context = contextOf(runtime, command);
      const options = command.opts<{ annotation?: string[]; format: 'oci' | 'docker' }>();
      const reference = imageReference(refArgument);
      if (reference.digest !== undefined) {
        throw usageError(
          `index create takes a tag to push the index to, not a digest ("${refArgument}"): the digest comes from the content`,
        );
      }
      const tag = reference.tag ?? 'latest';
      const sources = manifestArguments.map((argument) => manifestSource(argument, reference));
      const annotations = parseAnnotations(options.annotation);
      if (annotations !== undefined && options.format === 'docker') {
        throw usageError('a Docker manifest list has no annotations; drop --annotation or use --format oci');
      }
      const client = context.client(reference.registry);
      const descriptor = await client.multiArch.createIndex(reference.repository, [tag], sources, {
        mediaType: options.format,
        ...definedProps({ annotations }),
      });
      const created = await client.manifests.get(reference.repository, descriptor.digest);
      const entries = isIndex(created) ? created.manifest.manifests : [];
      const result: IndexCreateResult = {
        registry: reference.registry,
        repository: reference.repository,
        tags: [tag],
        digest: descriptor.digest,
        mediaType: descriptor.mediaType,
        size: descriptor.size,
        manifests: entries.map((entry) => ({
          digest: entry.digest,
          mediaType: entry.mediaType,
          size: entry.size,
          ...(entry.platform === undefined ? {} : { platform: formatPlatform(entry.platform) }),
        })),
      };
      context.output.emit(result, () => [
        formatImage(result.registry, result.repository, tag, result.digest),
        ...result.manifests.map((entry) => `  ${(entry.platform ?? '-').padEnd(16)}  ${entry.digest}`),
      ]);
    });
};
