import type { Command } from 'commander';
import { type CommandRegistrar, contextOf } from '../command.js';
import { repositoryReference } from '../references.js';

/**
 * `--json` shape of `ghcr tags`.
 * @public
 */
export interface TagsResult {
  /** Registry host, e.g. `ghcr.io`. */
  readonly registry: string;
  /** Repository path, e.g. `octo-org/app`. */
  readonly repository: string;
  /** Every tag, in the registry's order (all pages). */
  readonly tags: readonly string[];
}

/**
 * `ghcr tags <repository>`: every tag of a repository, one per line.
 * @internal
 */
export const registerTagsCommand: CommandRegistrar = (program, runtime) => {
  program
    .command('tags')
    .description('list the tags of a repository (every page), one per line')
    .argument('<repository>', 'the repository, e.g. ghcr.io/octo-org/app or 127.0.0.1:5000/octo-org/app')
    .action(async (repositoryArgument: string, _options: unknown, command: Command) => {
      const context = contextOf(runtime, command);
      const reference = repositoryReference(repositoryArgument);
      const client = context.client(reference.registry);
      const tags = await client.tags.list(reference.repository);
      const result: TagsResult = { registry: reference.registry, repository: reference.repository, tags };
      context.output.emit(result, () => tags);
      if (tags.length === 0) context.output.note(`${reference.registry}/${reference.repository} has no tags`);
    });
};
