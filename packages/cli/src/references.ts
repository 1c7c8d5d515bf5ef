import { isValidTag, parseReference, type Reference } from '@ghcr/oci-types';
import { usageError } from './errors.js';

/**
 * Parses an image reference argument (`[registry/]name[:tag][@digest]`; the registry defaults to
 * ghcr.io). A bad one is a usage error (`GHCR_INVALID_REFERENCE`, exit 2).
 * @internal
 */
export function imageReference(input: string): Reference {
  return parseReference(input);
}

/**
 * Parses a repository argument: a reference without tag or digest.
 * @throws InvalidInputError (`GHCR_USAGE`) when it carries a tag or digest.
 * @internal
 */
export function repositoryReference(input: string): Reference {
  const reference = parseReference(input);
  if (reference.tag !== undefined || reference.digest !== undefined) {
    const bare = `${reference.registry}/${reference.repository}`;
    throw usageError(`"${input}" names an image, not a repository; give the repository alone, e.g. ${bare}`);
  }
  return reference;
}

/**
 * Checks tag arguments against the distribution-spec grammar.
 * @throws InvalidInputError (`GHCR_USAGE`) naming the first bad tag.
 * @internal
 */
export function checkTagArguments(tags: readonly string[]): string[] {
  for (const tag of tags) {
    if (!isValidTag(tag)) {
      const hint = tag.includes(':') || tag.includes('/') ? ' (give the tag alone, not a reference)' : '';
      throw usageError(
        `"${tag}" is not a valid tag${hint}: a tag is 1 to 128 letters, digits, "_", "." and "-", not starting with "." or "-"`,
      );
    }
  }
  return [...new Set(tags)];
}

/**
 * `registry/repository:tag`, `registry/repository@digest` or both.
 * @internal
 */
export function formatImage(registry: string, repository: string, tag?: string, digest?: string): string {
  return `${registry}/${repository}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
}
