import { resolve } from 'node:path';
import { definedProps } from '@ghcr/oci-types';
import type { Command } from 'commander';
import { Option } from 'commander';
import { archiveToWrite } from '../archive-arguments.js';
import { platformSelection } from '../arguments.js';
import { type CommandRegistrar, contextOf } from '../command.js';
import { formatImage, imageReference } from '../references.js';
import { describeCounts, type TransferCounts, transferCounts, withProgress } from '../transfer.js';

/**
 * `--json` shape of `ghcr pull`.
 * @public
 */
export interface PullResult extends TransferCounts {
  readonly registry: string;
  readonly repository: string;
  /** What was read: the tag or digest (`latest` when the reference named neither). */
  readonly reference: string;
  /** The manifest pulled: the index, or with `--platform` the platform's manifest. */
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  /** The `--platform` asked for, when one was. */
  readonly platform?: string;
  /** The OCI image layout directory (absolute); for an archive, the archive file. */
  readonly directory: string;
  /** `docker-archive` or `oci-archive` when an archive was written. */
  readonly format?: string;
  /** The names (`org.opencontainers.image.ref.name`) it has in the layout's `index.json`; the digest when pulled by digest. */
  readonly names: readonly string[];
}

/**
 * `ghcr pull <ref> <dir>`: an image (the whole index, or one platform) into an OCI image layout
 * directory that skopeo, oras and crane read.
 * @internal
 */
export const registerPullCommand: CommandRegistrar = (program, runtime) => {
  program
    .command('pull')
    .description(
      'pull an image into an OCI image layout directory or a docker-archive/oci-archive file (every platform, or one)',
    )
    .argument('<ref>', 'registry/repository:tag or @digest (":latest" if neither)')
    .argument(
      '<dir>',
      'the OCI image layout directory (created if missing; other entries are kept), or an archive to write: FILE.tar, docker-archive:FILE or oci-archive:FILE',
    )
    .addOption(
      new Option(
        '--format <format>',
        'write an archive in this format: docker-archive (one platform, what docker load reads) or oci-archive (the whole index); default from the name: *.oci.tar is an oci-archive, other *.tar a docker-archive',
      ).choices(['docker-archive', 'oci-archive']),
    )
    .addOption(
      new Option('--platform <os/arch[/variant]>', 'of an index, pull only the manifest for this platform'),
    )
    .addOption(new Option('--all-platforms', 'pull the whole index (the default)').conflicts('platform'))
    .action(async (refArgument: string, directoryArgument: string, _options: unknown, command: Command) => {
      const context = contextOf(runtime, command);
      const options = command.opts<{ platform?: string; allPlatforms?: boolean; format?: string }>();
      const selection = platformSelection(options);
      const reference = imageReference(refArgument);
      const target = reference.digest ?? reference.tag ?? 'latest';
      const archive = archiveToWrite(directoryArgument, options.format);
      const directory = archive?.path ?? resolve(directoryArgument);
      const client = context.client(reference.registry);
      const pulled = await withProgress(context, client.events, 'images.pull', () =>
        client.images.pull(
          formatImage(reference.registry, reference.repository, reference.tag, reference.digest),
          archive === undefined
            ? directory
            : { archive: archive.path, ...definedProps({ format: archive.format }) },
          selection,
        ),
      );
      const result: PullResult = {
        registry: reference.registry,
        repository: reference.repository,
        reference: target,
        digest: pulled.descriptor.digest,
        mediaType: pulled.descriptor.mediaType,
        size: pulled.descriptor.size,
        ...definedProps({ platform: options.platform }),
        directory,
        ...(archive?.format === undefined ? {} : { format: archive.format }),
        names: pulled.references,
        ...transferCounts(pulled),
      };
      context.output.emit(result, () => [
        `pulled ${formatImage(result.registry, result.repository, reference.tag, result.digest)} to ${directory}`,
      ]);
      context.output.note(`pulled: ${describeCounts(result)}`);
    });
};
