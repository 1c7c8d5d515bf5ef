import { InvalidInputError, type PackageVersion } from '@ghcr/oci-types';

/**
 * A package version as retention needs it. A GitHub `PackageVersion` (the REST object: `id`,
 * `name` = the digest, `created_at`, `updated_at`, `metadata.container.tags`) is accepted wherever
 * this is, and converted by {@link toRetentionVersion}.
 * @public
 */
export interface RetentionVersion {
  /** The package version id (what the Packages API deletes). */
  readonly id: number;
  /** The manifest digest (`sha256:…`): the version's `name`. */
  readonly digest: string;
  /** Tags on the version. */
  readonly tags: readonly string[];
  /** `created_at`: epoch milliseconds or an ISO 8601 string. */
  readonly createdAt: number | string;
  /** `updated_at`: epoch milliseconds or an ISO 8601 string. If omitted, `createdAt`. */
  readonly updatedAt?: number | string;
}

/**
 * Either shape of a version: {@link RetentionVersion} or the Packages API object.
 * @public
 */
export type RetentionVersionInput = RetentionVersion | PackageVersion;

/**
 * A version with parsed times.
 * @internal
 */
export interface NormalizedVersion {
  readonly id: number;
  readonly digest: string;
  readonly tags: readonly string[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

function isPackageVersion(version: RetentionVersionInput): version is PackageVersion {
  return 'name' in version && 'created_at' in version;
}

function timeOf(value: number | string, field: string, id: number): number {
  const time = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(time)) {
    throw new InvalidInputError(
      `package version ${id}: ${field} "${String(value).slice(0, 40)}" is not a time; give epoch milliseconds or an ISO 8601 string`,
      { input: String(value).slice(0, 40) },
    );
  }
  return time;
}

/**
 * Converts a version (either shape) to the form the planner reads; a deleted version (with
 * `deleted_at`) gives undefined.
 * @throws InvalidInputError when the id or a time is unusable.
 * @internal
 */
export function normalizeVersion(version: RetentionVersionInput): NormalizedVersion | undefined {
  if (isPackageVersion(version)) {
    if (version.deleted_at !== undefined && version.deleted_at !== null) return undefined;
    const tags = version.metadata?.container?.tags ?? version.metadata?.docker?.tag ?? [];
    return normalizeVersion({
      id: version.id,
      digest: version.name,
      tags,
      createdAt: version.created_at,
      updatedAt: version.updated_at,
    });
  }
  if (!Number.isSafeInteger(version.id)) {
    throw new InvalidInputError(`package version id ${String(version.id)} is not an integer`, {
      input: String(version.id),
    });
  }
  const createdAt = timeOf(version.createdAt, 'createdAt', version.id);
  const updatedAt =
    version.updatedAt === undefined ? createdAt : timeOf(version.updatedAt, 'updatedAt', version.id);
  return {
    id: version.id,
    digest: version.digest,
    tags: [...new Set(version.tags)],
    createdAt,
    updatedAt,
  };
}

/**
 * Converts a Packages API version object (or a {@link RetentionVersion}) to a
 * {@link RetentionVersion} with epoch-millisecond times; undefined for a deleted version.
 * @public
 */
export function toRetentionVersion(version: RetentionVersionInput): RetentionVersion | undefined {
  return normalizeVersion(version);
}

/**
 * Normalises a list of versions: drops deleted ones, refuses duplicate ids.
 * @throws InvalidInputError on a duplicate id or an unusable time.
 * @internal
 */
export function normalizeVersions(versions: readonly RetentionVersionInput[]): NormalizedVersion[] {
  const seen = new Set<number>();
  const out: NormalizedVersion[] = [];
  for (const input of versions) {
    const version = normalizeVersion(input);
    if (version === undefined) continue;
    if (seen.has(version.id)) {
      throw new InvalidInputError(
        `package version ${version.id} is listed twice; pass each active version once (the list of one package)`,
        { input: String(version.id) },
      );
    }
    seen.add(version.id);
    out.push(version);
  }
  return out;
}
