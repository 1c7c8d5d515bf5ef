import { type GhcrClient, packageVersionTags } from '@ghcr/client/core';
import { isDigest, NotFoundError, type PackageVersion } from '@ghcr/oci-types';
import { type Command, Option } from 'commander';
import { type PackageArgument, packageArgument } from '../arguments.js';
import { type CommandRegistrar, contextOf } from '../command.js';
import { usageError } from '../errors.js';
import { table } from '../format.js';

/**
 * A package version in `--json` output.
 * @public
 */
export interface VersionEntry {
  /** The version id (what the Packages API deletes and restores). */
  readonly id: number;
  /** The manifest digest (the version's name). */
  readonly digest: string;
  readonly tags: readonly string[];
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601. */
  readonly updatedAt: string;
  /** ISO 8601, for a deleted version. */
  readonly deletedAt?: string;
}

/**
 * `--json` shape of `ghcr versions list`.
 * @public
 */
export interface VersionsListResult {
  /** The registry whose credentials were used (ghcr.io unless the package named one). */
  readonly registry: string;
  /** `owner/package`. */
  readonly package: string;
  readonly state: 'active' | 'deleted';
  /** Newest first. */
  readonly versions: readonly VersionEntry[];
}

/**
 * `--json` shape of `ghcr versions delete` and `ghcr versions restore`.
 * @public
 */
export interface VersionChangeResult {
  readonly registry: string;
  readonly package: string;
  readonly id: number;
  readonly digest: string;
  /** The version's tags (they go and come back with it). */
  readonly tags: readonly string[];
  /** `deleted`, `already-deleted` (GitHub no longer had it), or `restored`. */
  readonly outcome: 'deleted' | 'already-deleted' | 'restored';
}

function entryOf(version: PackageVersion): VersionEntry {
  return {
    id: version.id,
    digest: version.name,
    tags: packageVersionTags(version),
    createdAt: version.created_at,
    updatedAt: version.updated_at,
    ...(version.deleted_at === undefined || version.deleted_at === null
      ? {}
      : { deletedAt: version.deleted_at }),
  };
}

function renderVersions(versions: readonly VersionEntry[]): string[] {
  const rows = versions.map((version) => [
    String(version.id),
    version.createdAt.replace(/\.\d+Z$/, 'Z'),
    version.digest,
    version.tags.join(', ') || '-',
  ]);
  return table(['ID', 'CREATED', 'DIGEST', 'TAGS'], rows);
}

/**
 * The version a `<version-id|digest|tag>` argument names, in the given state.
 * @throws NotFoundError naming what was looked for, and how to list what there is.
 */
async function findVersion(
  client: GhcrClient,
  target: PackageArgument,
  which: string,
  state: 'active' | 'deleted',
): Promise<PackageVersion> {
  const list = `"ghcr versions list ${target.repository}${state === 'deleted' ? ' --state deleted' : ''}" lists them`;
  if (/^\d+$/.test(which)) {
    const id = Number(which);
    if (state === 'active') return client.versions.get(target.repository, id);
    for await (const version of client.versions.iterate(target.repository, { state })) {
      if (version.id === id) return version;
    }
    throw new NotFoundError(`${target.repository} has no deleted version ${id}; ${list}`, {
      code: 'GHCR_NOT_FOUND',
      resource: `version ${id} of ${target.repository}`,
    });
  }
  if (isDigest(which)) {
    const found = await client.versions.findByDigest(target.repository, which, { state });
    if (found !== undefined) return found;
    throw new NotFoundError(`${target.repository} has no ${state} version ${which}; ${list}`, {
      code: 'GHCR_NOT_FOUND',
      resource: `version ${which} of ${target.repository}`,
    });
  }
  if (which.startsWith('sha256:')) {
    throw usageError(
      `"${which}" is not a digest (sha256: and 64 hex digits); give a version id, digest or tag`,
    );
  }
  if (state === 'active') {
    const found = await client.versions.findByTag(target.repository, which);
    if (found !== undefined) return found;
  } else {
    for await (const version of client.versions.iterate(target.repository, { state })) {
      if (packageVersionTags(version).includes(which)) return version;
    }
  }
  throw new NotFoundError(`${target.repository} has no ${state} version tagged "${which}"; ${list}`, {
    code: 'GHCR_NOT_FOUND',
    resource: `version ${which} of ${target.repository}`,
  });
}

/**
 * `ghcr versions list|delete|restore`: package versions through the GitHub Packages API.
 * @internal
 */
export const registerVersionsCommand: CommandRegistrar = (program, runtime) => {
  const versions = program
    .command('versions')
    .description('package versions through the GitHub Packages API: list, delete, restore');

  versions
    .command('list')
    .description('list the versions of a package, newest first')
    .argument('<package>', '[registry/]owner/package, e.g. octo-org/app')
    .addOption(
      new Option('--state <state>', 'active, or deleted (restorable for 30 days)')
        .choices(['active', 'deleted'])
        .default('active'),
    )
    .action(async (packageName: string, _options: unknown, command: Command) => {
      const context = contextOf(runtime, command);
      const options = command.opts<{ state: 'active' | 'deleted' }>();
      const target = packageArgument(packageName, context.options.apiUrl);
      const client = context.client(target.registry);
      const found = await client.versions.list(target.repository, { state: options.state });
      const result: VersionsListResult = {
        registry: target.registry,
        package: target.repository,
        state: options.state,
        versions: found.map(entryOf),
      };
      context.output.emit(result, () => renderVersions(result.versions));
    });

  versions
    .command('delete')
    .description('delete a package version (its manifest and every tag on it; restorable for 30 days)')
    .argument('<package>', '[registry/]owner/package, e.g. octo-org/app')
    .argument('<version>', 'a version id, a manifest digest (sha256:…) or a tag')
    .action(async (packageName: string, which: string, _options: unknown, command: Command) => {
      const context = contextOf(runtime, command);
      const target = packageArgument(packageName, context.options.apiUrl);
      const client = context.client(target.registry);
      const version = await findVersion(client, target, which, 'active');
      const deleted = await client.versions.delete(target.repository, version.id, { ignoreMissing: true });
      const result: VersionChangeResult = {
        registry: target.registry,
        package: target.repository,
        id: version.id,
        digest: version.name,
        tags: packageVersionTags(version),
        outcome: deleted.outcome,
      };
      context.output.emit(result, () => [
        `${result.outcome === 'deleted' ? 'deleted' : 'already deleted:'} ${target.repository} version ${result.id} (${result.digest}${result.tags.length === 0 ? '' : `; tags ${result.tags.join(', ')}`})`,
      ]);
      context.output.note(
        `restore it within 30 days with: ghcr versions restore ${packageName} ${result.id}`,
      );
    });

  versions
    .command('restore')
    .description('restore a deleted package version (within 30 days), with its tags unless they moved')
    .argument('<package>', '[registry/]owner/package, e.g. octo-org/app')
    .argument('<version>', 'a version id, a manifest digest (sha256:…) or a tag it had')
    .action(async (packageName: string, which: string, _options: unknown, command: Command) => {
      const context = contextOf(runtime, command);
      const target = packageArgument(packageName, context.options.apiUrl);
      const client = context.client(target.registry);
      const version = await findVersion(client, target, which, 'deleted');
      await client.versions.restore(target.repository, version.id);
      const result: VersionChangeResult = {
        registry: target.registry,
        package: target.repository,
        id: version.id,
        digest: version.name,
        tags: packageVersionTags(version),
        outcome: 'restored',
      };
      context.output.emit(result, () => [
        `restored ${target.repository} version ${result.id} (${result.digest}${result.tags.length === 0 ? '' : `; tags ${result.tags.join(', ')}`})`,
      ]);
    });
};
