import { registerCopiedReferrer } from '@ghcr/client/core';
import type { Descriptor } from '@ghcr/oci-types';
import { definedProps } from '@ghcr/oci-types';
import { type Command, Option } from 'commander';
import { platformSelection } from '../arguments.js';
import { type CommandRegistrar, contextOf } from '../command.js';
import { usageError } from '../errors.js';
import { formatImage, imageReference } from '../references.js';
import { describeCounts, type TransferCounts, transferCounts, withProgress } from '../transfer.js';

/**
 * A referrer copied with `ghcr copy --referrers`, in `--json` output.
 * @public
 */
export interface CopiedReferrer {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  readonly artifactType?: string;
  /** The manifest it refers to. */
  readonly subject?: string;
  /**
   * How the destination lists it, for a referrer that was copied now (absent when the destination
   * had it): `api` (the registry indexes referrers itself), `fallback-tag` (added to the index at
   * the subject's `sha256-<hex>` tag), `cosign-tag` (cosign's `sha256-<hex>.sig|.att|.sbom` tag set).
   */
  readonly registered?: 'api' | 'fallback-tag' | 'cosign-tag';
}

/**
 * `--json` shape of `ghcr copy`.
 * @public
 */
export interface CopyResult extends TransferCounts {
  readonly source: {
    readonly registry: string;
    readonly repository: string;
    /** The tag or digest read. */
    readonly reference: string;
  };
  readonly destination: {
    readonly registry: string;
    readonly repository: string;
    /** The tags set (none when copied by digest). */
    readonly tags: readonly string[];
  };
  /** The manifest copied: the source's, or with `--platform` that platform's manifest. */
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  /** The `--platform` asked for, when one was. */
  readonly platform?: string;
  /** With `--referrers`: every referrer copied (or found already there), theirs included. */
  readonly referrers?: readonly CopiedReferrer[];
}

interface CopyOptions {
  readonly platform?: string;
  readonly allPlatforms?: boolean;
  readonly referrers?: boolean;
  readonly srcCreds?: string;
  readonly destCreds?: string;
}

/**
 * `ghcr copy <src-ref> <dst-ref>`: an image and everything it references, inside one registry
 * (blobs mounted) or to another (streamed, verified), optionally with its referrers.
 * @internal
 */
export const registerCopyCommand: CommandRegistrar = (program, runtime) => {
  program
    .command('copy')
    .description('copy an image (every platform, or one) to another repository or registry')
    .argument('<src-ref>', 'registry/repository:tag or @digest (":latest" if neither)')
    .argument(
      '<dst-ref>',
      "registry/repository[:tag] (no tag: the source's tag, or by digest when the source is a digest)",
    )
    .addOption(new Option('--platform <os/arch[/variant]>', 'of an index, copy only this platform'))
    .addOption(new Option('--all-platforms', 'copy the whole index (the default)').conflicts('platform'))
    .option('--referrers', 'also copy the signatures, SBOMs and attestations that refer to what is copied')
    .option('--src-creds <user[:password]>', "credentials for the source's registry")
    .option('--dest-creds <user[:password]>', "credentials for the destination's registry")
    .action(
      async (sourceArgument: string, destinationArgument: string, _options: unknown, command: Command) => {
        const context = contextOf(runtime, command);
        const options = command.opts<CopyOptions>();
        const selection = platformSelection(options);
        const from = imageReference(sourceArgument);
        const to = imageReference(destinationArgument);
        if (to.digest !== undefined) {
          throw usageError(
            `the destination "${destinationArgument}" names a digest: give a tag or none (the digest is the source's)`,
          );
        }
        const fromTarget = from.digest ?? from.tag ?? 'latest';
        const toTag = to.tag ?? (from.digest === undefined ? (from.tag ?? 'latest') : undefined);
        const sameRegistry = from.registry.toLowerCase() === to.registry.toLowerCase();
        const globals = command.optsWithGlobals<{ creds?: string; username?: string }>();
        if (!sameRegistry && (globals.creds !== undefined || globals.username !== undefined)) {
          throw usageError(
            `${globals.creds !== undefined ? '--creds' : '--username'} gives one registry's credentials, but this copy reaches ${from.registry} and ${to.registry}: use --src-creds and --dest-creds`,
          );
        }
        if (options.srcCreds !== undefined)
          context.useCredentials(from.registry, options.srcCreds, '--src-creds');
        if (options.destCreds !== undefined) {
          if (sameRegistry && options.srcCreds !== undefined && options.srcCreds !== options.destCreds) {
            throw usageError(
              `source and destination are both on ${from.registry}: give one set of credentials (--creds), not two`,
            );
          }
          context.useCredentials(to.registry, options.destCreds, '--dest-creds');
        }
        // One client for both sides: the destination is the same client's view of its registry
        // (one connection pool and token cache; each registry gets only its own credentials).
        const source = context.client(from.registry);
        const destination = sameRegistry ? source : source.forRegistry(to.registry);
        const registered = new Map<string, CopiedReferrer['registered']>();
        const subjects = new Map<string, string>();
        const copied = await withProgress(context, source.events, 'images.copy', () =>
          source.images.copy(
            formatImage(from.registry, from.repository, from.tag, from.digest),
            toTag === undefined
              ? formatImage(to.registry, to.repository, undefined, from.digest)
              : formatImage(to.registry, to.repository, toTag),
            {
              ...selection,
              ...(options.referrers === true
                ? {
                    referrers: (descriptor: Descriptor) =>
                      source.referrers.list(from.repository, descriptor.digest),
                    referrerCopied: async (subject: Descriptor, referrer: Descriptor) => {
                      subjects.set(referrer.digest, subject.digest);
                      registered.set(
                        referrer.digest,
                        await registerCopiedReferrer(destination, to.repository, subject, referrer),
                      );
                    },
                  }
                : {}),
            },
          ),
        );
        const result: CopyResult = {
          source: { registry: from.registry, repository: from.repository, reference: fromTarget },
          destination: { registry: to.registry, repository: to.repository, tags: copied.references },
          digest: copied.descriptor.digest,
          mediaType: copied.descriptor.mediaType,
          size: copied.descriptor.size,
          ...definedProps({ platform: options.platform }),
          ...transferCounts(copied),
          ...(options.referrers === true
            ? {
                referrers: copied.referrers.map((referrer) => {
                  const method = registered.get(referrer.digest);
                  const subject = subjects.get(referrer.digest);
                  return {
                    digest: referrer.digest,
                    mediaType: referrer.mediaType,
                    size: referrer.size,
                    ...definedProps({ artifactType: referrer.artifactType, subject, registered: method }),
                  };
                }),
              }
            : {}),
        };
        const destinationImage = formatImage(to.registry, to.repository, undefined, result.digest);
        context.output.emit(result, () =>
          result.destination.tags.length === 0
            ? [destinationImage]
            : result.destination.tags.map((tag) =>
                formatImage(to.registry, to.repository, tag, result.digest),
              ),
        );
        const referrerNote =
          result.referrers === undefined
            ? ''
            : `; ${result.referrers.length} referrer${result.referrers.length === 1 ? '' : 's'}`;
        context.output.note(`copied: ${describeCounts(result)}${referrerNote}`);
      },
    );
};
