import { referenceTarget } from '@ghcr/oci-types';
import type { Command } from 'commander';
import { type CommandRegistrar, contextOf } from '../command.js';
import { checkTagArguments, formatImage, imageReference } from '../references.js';

/**
 * `--json` shape of `ghcr tag`.
 * @public
 */
export interface TagResult {
  readonly registry: string;
  readonly repository: string;
  /** The tag or digest the tags were copied from, as given. */
  readonly source: string;
  /** The manifest the tags now point at. */
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  /** The tags set (duplicates removed), in the order given. */
  readonly tags: readonly string[];
}

/**
 * `ghcr tag <ref> <tag>...`: points more tags at the manifest `<ref>` names (its exact bytes are
 * put under each tag; nothing is re-serialised).
 * @internal
 */
export const registerTagCommand: CommandRegistrar = (program, runtime) => {
  program
    .command('tag')
    .description('point one or more tags at the manifest <ref> names, in the same repository')
    .argument('<ref>', 'the image to tag: registry/repository:tag or @digest (":latest" if neither)')
    .argument('<tag...>', 'tags to add, e.g. 1.2.3 stable')
    .action(async (refArgument: string, tagArguments: string[], _options: unknown, command: Command) => {
      const context = contextOf(runtime, command);
      const reference = imageReference(refArgument);
      const tags = checkTagArguments(tagArguments);
      const client = context.client(reference.registry);
      const source = referenceTarget(reference);
      const descriptor = await client.tags.tag(reference.repository, source, tags);
      const result: TagResult = {
        registry: reference.registry,
        repository: reference.repository,
        source,
        digest: descriptor.digest,
        mediaType: descriptor.mediaType,
        size: descriptor.size,
        tags,
      };
      context.output.emit(result, () =>
        tags.map((tag) => formatImage(reference.registry, reference.repository, tag, descriptor.digest)),
      );
    });
};
