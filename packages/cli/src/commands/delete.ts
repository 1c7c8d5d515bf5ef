import { definedProps, GhcrError, NotFoundError, ProtocolError } from '@ghcr/oci-types';
import type { Command } from 'commander';
import { type CommandRegistrar, contextOf } from '../command.js';
import { usageError } from '../errors.js';
import { formatImage, imageReference } from '../references.js';

/**
 * `--json` shape of `ghcr delete`.
 * @public
 */
export interface DeleteResult {
  readonly registry: string;
  readonly repository: string;
  /** The manifest deleted. */
  readonly digest: string;
  /** The tag the digest was resolved from, when `<ref>` named a tag. */
  readonly resolvedFrom?: string;
  readonly deleted: true;
}

/**
 * `ghcr delete <ref>`: deletes a manifest by digest with the registry API (a tag is resolved to its
 * digest first; every tag on that manifest goes with it). ghcr.io has no registry delete: there the
 * command explains that `ghcr versions delete` (the GitHub Packages API) does it.
 * @internal
 */
export const registerDeleteCommand: CommandRegistrar = (program, runtime) => {
  program
    .command('delete')
    .description('delete a manifest by digest (a tag is resolved to its digest: every tag on it goes too)')
    .argument('<ref>', 'registry/repository@sha256:… (or :tag, resolved to its digest)')
    .action(async (refArgument: string, _options: unknown, command: Command) => {
      const context = contextOf(runtime, command);
      const reference = imageReference(refArgument);
      const { registry, repository } = reference;
      const client = context.client(registry);
      let digest: string | undefined = reference.digest;
      if (digest === undefined) {
        const tag = reference.tag;
        if (tag === undefined) {
          throw usageError(
            `delete needs a digest or a tag: ${registry}/${repository}@sha256:… (or :<tag>), got "${refArgument}"`,
          );
        }
        const head = await client.manifests.head(repository, tag);
        if (head === undefined) {
          throw new NotFoundError(
            `cannot delete ${formatImage(registry, repository, tag)}: the tag does not exist`,
            {
              code: 'MANIFEST_UNKNOWN',
              resource: formatImage(registry, repository, tag),
            },
          );
        }
        digest = head.digest;
        context.output.note(`${formatImage(registry, repository, tag)} is ${digest}; deleting that manifest`);
      }
      const versionsCommand = `ghcr versions delete ${repository} ${digest}`;
      if (client.flavor === 'ghcr') {
        throw new ProtocolError(
          `cannot delete ${formatImage(registry, repository, undefined, digest)}: ${registry} has no registry delete; images are deleted as package versions through the GitHub Packages API. Run: ${versionsCommand}`,
          { code: 'UNSUPPORTED' },
        );
      }
      try {
        await client.manifests.delete(repository, digest);
      } catch (error) {
        if (GhcrError.isInstance(error) && error.code === 'UNSUPPORTED') {
          throw new ProtocolError(
            `${error.message}. If ${registry} is a GHCR (ghcr.io, or "ghcr serve" in its default ghcr profile), delete the package version instead: ${versionsCommand}`,
            { code: 'UNSUPPORTED', cause: error, ...definedProps({ http: error.http }) },
          );
        }
        throw error;
      }
      const result: DeleteResult = {
        registry,
        repository,
        digest,
        ...(reference.digest === undefined && reference.tag !== undefined
          ? { resolvedFrom: reference.tag }
          : {}),
        deleted: true,
      };
      context.output.emit(result, () => [`deleted ${formatImage(registry, repository, undefined, digest)}`]);
    });
};
