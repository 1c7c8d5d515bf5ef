import type { Command } from 'commander';
import { type CommandRegistrar, contextOf } from '../command.js';
import { usageError } from '../errors.js';
import { formatImage, imageReference } from '../references.js';

/**
 * `--json` shape of `ghcr untag`.
 * @public
 */
export interface UntagResult {
  readonly registry: string;
  readonly repository: string;
  /** The tag removed. */
  readonly tag: string;
  /**
   * How: `deleted` (the registry deleted the tag), `placeholder-deleted` (a unique placeholder was
   * put on the tag and deleted by digest: the tag is gone, the image untouched) or `placeholder`
   * (the registry cannot delete, e.g. ghcr.io: the tag now points at a placeholder manifest).
   */
  readonly method: 'deleted' | 'placeholder-deleted' | 'placeholder';
  /** The manifest the tag pointed at (it is not deleted). */
  readonly previousDigest: string;
  /** The placeholder's digest (`placeholder*` methods). */
  readonly placeholderDigest?: string;
}

/**
 * `ghcr untag <ref>`: removes one tag, leaving the image it pointed at in place.
 * @internal
 */
export const registerUntagCommand: CommandRegistrar = (program, runtime) => {
  program
    .command('untag')
    .description('remove a tag without deleting the image it points at')
    .argument('<ref>', 'the tag to remove: registry/repository:tag')
    .action(async (refArgument: string, _options: unknown, command: Command) => {
      const context = contextOf(runtime, command);
      const reference = imageReference(refArgument);
      if (reference.tag === undefined || reference.digest !== undefined) {
        throw usageError(
          `untag takes a tag reference like ${reference.registry}/${reference.repository}:<tag>, got "${refArgument}"; to delete a manifest by digest use "ghcr delete"`,
        );
      }
      const client = context.client(reference.registry);
      const untagged = await client.tags.untag(reference.repository, reference.tag);
      const result: UntagResult = {
        registry: reference.registry,
        repository: reference.repository,
        tag: untagged.tag,
        method: untagged.method,
        previousDigest: untagged.previousDigest,
        ...(untagged.method === 'deleted' ? {} : { placeholderDigest: untagged.placeholderDigest }),
      };
      const image = formatImage(reference.registry, reference.repository, reference.tag);
      context.output.emit(result, () => [`untagged ${image} (was ${untagged.previousDigest})`]);
      if (untagged.method === 'placeholder') {
        context.output.note(
          `${reference.registry} cannot delete tags: ${image} now points at a placeholder manifest ${untagged.placeholderDigest}. Delete that package version to finish: ghcr versions delete ${reference.repository} ${untagged.placeholderDigest}`,
        );
      }
    });
};
