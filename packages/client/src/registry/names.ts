import {
  type Digest,
  GhcrErrorCode,
  InvalidInputError,
  isValidRepositoryName,
  isValidTag,
  parseDigest,
} from '@ghcr/oci-types';

/**
 * Checks a repository name against the distribution-spec grammar.
 * @throws InvalidInputError saying what the grammar is.
 * @internal
 */
export function checkRepository(repository: string): string {
  if (!isValidRepositoryName(repository)) {
    throw new InvalidInputError(
      `invalid repository "${repository}": each "/"-separated component is lowercase letters and digits, separated by ".", "_", "__" or "-" (e.g. octo/app), with no registry host in front`,
      { code: GhcrErrorCode.INVALID_REFERENCE, input: repository },
    );
  }
  return repository;
}

/**
 * Checks a tag against the distribution-spec grammar.
 * @internal
 */
export function checkTag(tag: string): string {
  if (!isValidTag(tag)) {
    throw new InvalidInputError(
      `invalid tag "${tag}": a tag is 1 to 128 characters of letters, digits, "_", "." and "-", and does not start with "." or "-"`,
      { code: GhcrErrorCode.INVALID_REFERENCE, input: tag },
    );
  }
  return tag;
}

/**
 * A manifest reference: a digest (it contains ":") or a tag.
 * @internal
 */
export function parseManifestReference(
  reference: string,
): { kind: 'digest'; digest: Digest } | { kind: 'tag'; tag: string } {
  if (reference.includes(':')) return { kind: 'digest', digest: parseDigest(reference).digest };
  return { kind: 'tag', tag: checkTag(reference) };
}
