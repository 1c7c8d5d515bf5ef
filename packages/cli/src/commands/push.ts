import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ArtifactFile, ImagePushSource } from '@ghcr/client';
import { definedProps } from '@ghcr/oci-types';
import type { Command } from 'commander';
import { archiveToRead } from '../archive-arguments.js';
import { collect, type PathArgument, parseAnnotations, pathArgument } from '../arguments.js';
import { type CommandRegistrar, contextOf } from '../command.js';
import { usageError } from '../errors.js';
import { formatImage, imageReference } from '../references.js';
import { describeCounts, type TransferCounts, transferCounts, withProgress } from '../transfer.js';

/**
 * `--json` shape of `ghcr push`.
 * @public
 */
export interface PushResult extends TransferCounts {
  readonly registry: string;
  readonly repository: string;
  /** The tags the pushed manifest now has (one: the reference's tag, `latest` when it named none). */
  readonly tags: readonly string[];
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  /** `image` (from an OCI image layout) or `artifact` (from files). */
  readonly kind: 'image' | 'artifact';
  /** The artifact's type (`--artifact-type`), for an artifact. */
  readonly artifactType?: string;
  /** What was pushed: the layout directory (absolute) and, when given, the entry's name; the archive (absolute), its format when given and the image chosen; or the files, as given. */
  readonly source:
    | { readonly layout: string; readonly name?: string }
    | { readonly files: readonly string[] }
    | { readonly archive: string; readonly format?: string; readonly image?: string };
}

interface PushOptions {
  readonly artifactType?: string;
  readonly annotation?: string[];
  readonly keepUncompressed?: boolean;
}

async function isLayout(directory: string): Promise<boolean> {
  try {
    await access(join(directory, 'oci-layout'));
    return true;
  } catch {
    return false;
  }
}

/** What the paths are: one OCI image layout, or files (an artifact). */
async function pushSource(
  paths: readonly PathArgument[],
  options: PushOptions,
): Promise<{ source: ImagePushSource; described: PushResult['source']; kind: PushResult['kind'] }> {
  const directories = paths.filter((path) => path.kind === 'directory');
  if (directories.length > 0) {
    const [layout] = directories;
    if (layout === undefined || paths.length > 1) {
      throw usageError(
        'push takes one OCI image layout directory, or files (an artifact), not both or several layouts',
      );
    }
    if (!(await isLayout(layout.path))) {
      throw usageError(
        `"${layout.path}" is a directory but not an OCI image layout (it has no oci-layout file); give an image layout (skopeo copy … oci:DIR:TAG writes one), or the files to push as an artifact`,
      );
    }
    if (options.artifactType !== undefined || options.annotation !== undefined) {
      throw usageError(
        '--artifact-type and --annotation are for artifacts pushed from files; an image layout is pushed as it is (its digest would change otherwise)',
      );
    }
    const directory = resolve(layout.path);
    return {
      source: { layout: directory, ...definedProps({ tag: layout.suffix }) },
      described: { layout: directory, ...definedProps({ name: layout.suffix }) },
      kind: 'image',
    };
  }
  if (options.artifactType === undefined) {
    throw usageError(
      'pushing files makes an artifact, which needs --artifact-type, e.g. --artifact-type application/vnd.example.config.v1+json',
    );
  }
  const files: ArtifactFile[] = paths.map((path) =>
    path.suffix === undefined ? path.path : { path: path.path, mediaType: path.suffix },
  );
  const annotations = parseAnnotations(options.annotation);
  return {
    source: {
      files,
      artifactType: options.artifactType,
      ...definedProps({ annotations }),
    },
    described: { files: paths.map((path) => path.path) },
    kind: 'artifact',
  };
}

/**
 * `ghcr push <ref> <path>...`: an OCI image layout directory (its image, blobs first, the index
 * after its manifests, the tag last), or files as an artifact (one layer per file).
 * @internal
 */
export const registerPushCommand: CommandRegistrar = (program, runtime) => {
  program
    .command('push')
    .description(
      'push an OCI image layout directory, a docker-archive or oci-archive, or files as an artifact, under a tag',
    )
    .argument('<ref>', 'where to: registry/repository:tag (":latest" if no tag)')
    .argument(
      '<path...>',
      'an OCI image layout directory (DIR or DIR:NAME for one of its entries), an archive (docker-archive:FILE[:IMAGE], oci-archive:FILE[:IMAGE], or a tar FILE[:IMAGE] detected by content; IMAGE is NAME[:TAG] or @INDEX), or files (FILE or FILE:MEDIA-TYPE)',
    )
    .option('--artifact-type <type>', 'the artifact type of files pushed as an artifact (required for files)')
    .option('--annotation <key=value>', 'an annotation of the artifact manifest (repeatable)', collect)
    .option(
      '--keep-uncompressed',
      "push a docker-archive's uncompressed layers as they are (OCI uncompressed layer type, digest = diff_id) instead of gzip-compressing them",
    )
    .action(async (refArgument: string, pathArguments: string[], _options: unknown, command: Command) => {
      const context = contextOf(runtime, command);
      const options = command.opts<PushOptions>();
      const reference = imageReference(refArgument);
      if (reference.digest !== undefined) {
        throw usageError(
          `push takes a tag to push to, not a digest ("${refArgument}"): the digest comes from the content`,
        );
      }
      const tag = reference.tag ?? 'latest';
      const archive =
        pathArguments.length === 1 && options.artifactType === undefined
          ? await archiveToRead(pathArguments[0] as string)
          : undefined;
      if (archive === undefined && options.keepUncompressed === true) {
        throw usageError('--keep-uncompressed is for pushing a docker-archive');
      }
      const { source, described, kind } =
        archive === undefined
          ? await pushSource(await Promise.all(pathArguments.map(pathArgument)), options)
          : {
              source: {
                archive: archive.path,
                ...definedProps({ format: archive.format, image: archive.image }),
                ...(options.keepUncompressed === true ? { keepUncompressed: true } : {}),
              },
              described: {
                archive: archive.path,
                ...definedProps({ format: archive.format, image: archive.image }),
              },
              kind: 'image' as const,
            };
      const client = context.client(reference.registry);
      const pushed = await withProgress(context, client.events, 'images.push', () =>
        client.images.push({ repository: reference.repository, tags: [tag] }, source),
      );
      const result: PushResult = {
        registry: reference.registry,
        repository: reference.repository,
        tags: pushed.references,
        digest: pushed.descriptor.digest,
        mediaType: pushed.descriptor.mediaType,
        size: pushed.descriptor.size,
        kind,
        ...definedProps({ artifactType: options.artifactType }),
        source: described,
        ...transferCounts(pushed),
      };
      context.output.emit(result, () =>
        result.tags.map((name) => formatImage(result.registry, result.repository, name, result.digest)),
      );
      context.output.note(`pushed: ${describeCounts(result)}`);
    });
};
