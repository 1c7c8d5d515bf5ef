import {
  AuthorizationError,
  definedProps,
  GhcrErrorCode,
  type GithubPackage,
  githubPackageSchema,
  InvalidInputError,
  MediaType,
  NotFoundError,
  type PackageVersion,
  type PackageVisibility,
  packageVersionSchema,
  parseDigest,
  splitPackagePath,
} from '@ghcr/oci-types';
import type { BackoffLimits, RegistryEndpoint } from '../../registry/dependencies.js';
import type { Manifests } from '../../registry/manifests.js';
import { checkRepository, checkTag } from '../../registry/names.js';
import { isUntagPlaceholder } from '../../registry/placeholder.js';
import { discard, header } from '../../registry/responses.js';
import type { Tags, UntagResult } from '../../registry/tags.js';
import { type ApiAction, type ApiTarget, describeTarget } from './api-errors.js';
import {
  type ApiRequest,
  apiPages,
  type GithubApi,
  getApiObject,
  sendApi,
  sendApiNoContent,
} from './github-api.js';
import { checkOwner, createOwnerTypeCache } from './owner-type.js';
import { type OwnerType, resolveVersionsOptions, type VersionsOptions } from './versions-options.js';

/**
 * Options every call takes.
 * @public
 */
export interface VersionCallOptions {
  readonly signal?: AbortSignal | undefined;
  /** The owner's type for this call. If omitted, the `ownerType` option, else detected (and cached). */
  readonly ownerType?: OwnerType | undefined;
}

/**
 * Options of {@link Versions.listPackages}.
 * @public
 */
export interface ListPackagesOptions extends VersionCallOptions {
  /** Only packages of this visibility. If omitted, all the token can see. */
  readonly visibility?: PackageVisibility | undefined;
}

/**
 * Options of {@link Versions.list}, {@link Versions.iterate} and {@link Versions.findByDigest}.
 * @public
 */
export interface ListVersionsOptions extends VersionCallOptions {
  /** `active` or `deleted` (restorable for 30 days; needs delete:packages). If omitted, `active`. */
  readonly state?: 'active' | 'deleted' | undefined;
}

/**
 * Options of {@link Versions.delete}.
 * @public
 */
export interface DeleteVersionOptions extends VersionCallOptions {
  /**
   * Count a version GitHub no longer has ("Package version not found.") as deleted, so that
   * repeating a deletion is harmless. A missing or invisible *package* is still an error. If
   * omitted, false.
   */
  readonly ignoreMissing?: boolean | undefined;
}

/**
 * Options of {@link Versions.restorePackage}.
 * @public
 */
export interface RestorePackageOptions extends VersionCallOptions {
  /** The restore `token` GitHub asks for when several deleted packages had the name. If omitted, none. */
  readonly token?: string | undefined;
}

/**
 * What {@link Versions.delete} did.
 * @public
 */
export interface DeleteVersionResult {
  readonly versionId: number;
  /** `deleted` now, or `already-deleted` (with `ignoreMissing`: GitHub no longer had it). */
  readonly outcome: 'deleted' | 'already-deleted';
}

/**
 * What {@link Versions.untagAndDelete} did.
 * @public
 */
export interface UntagAndDeleteResult {
  readonly tag: string;
  /**
   * How the tag came off: the registry's untag (see the client's `UntagResult`), or `resumed` when
   * the tag already held an untag placeholder (an earlier call stopped before deleting it).
   */
  readonly untag: UntagResult['method'] | 'resumed';
  /** The image the tag pointed at; it is untouched and keeps its other tags. Absent when `resumed`. */
  readonly previousDigest?: string;
  /** The placeholder manifest put on the tag, when one was. */
  readonly placeholderDigest?: string;
  /** The placeholder's package version that was deleted (ghcr.io), which removed the tag. */
  readonly deletedVersionId?: number;
}

/**
 * GitHub package versions of one client's owners (the Packages REST API for `container`
 * packages). A repository path `owner/name…` names the package: the owner is its first component,
 * the package name the rest (`acme/team/app` → package `team/app` of `acme`, sent URL-encoded).
 * @public
 */
export interface Versions {
  /** The GitHub REST API base URL these calls go to (option, else `GITHUB_API_URL`, else api.github.com). */
  readonly apiUrl: string;
  /** `org` or `user`, from `GET /users/{owner}` (cached for the client's lifetime), or the `ownerType` option. */
  ownerType(owner: string, options?: { readonly signal?: AbortSignal | undefined }): Promise<OwnerType>;
  /** Every container package of an owner the token can see (every page). */
  listPackages(owner: string, options?: ListPackagesOptions): Promise<GithubPackage[]>;
  /** The same, one package at a time, page after page. */
  iteratePackages(owner: string, options?: ListPackagesOptions): AsyncIterable<GithubPackage>;
  /** The package of a repository path. @throws NotFoundError explaining the scope or role that may be missing. */
  getPackage(repository: string, options?: VersionCallOptions): Promise<GithubPackage>;
  /** Deletes the whole package (restorable for 30 days). Needs delete:packages and admin on the package. */
  deletePackage(repository: string, options?: VersionCallOptions): Promise<void>;
  /** Restores a deleted package (within 30 days, if its name was not reused). Needs write:packages. */
  restorePackage(repository: string, options?: RestorePackageOptions): Promise<void>;
  /** Every version of the package, newest first (`per_page` 100, following `Link`). */
  list(repository: string, options?: ListVersionsOptions): Promise<PackageVersion[]>;
  /** The same, one version at a time, requesting the next page only when needed. */
  iterate(repository: string, options?: ListVersionsOptions): AsyncIterable<PackageVersion>;
  /** One version by id. */
  get(repository: string, versionId: number, options?: VersionCallOptions): Promise<PackageVersion>;
  /**
   * Deletes one version (its manifest and the tags on it). GitHub refuses the last version
   * (`ResourceConflictError` `GHCR_LAST_VERSION`: delete the package instead) and public versions
   * with more than 5,000 downloads (`GHCR_DOWNLOAD_LIMIT`: contact GitHub support).
   */
  delete(repository: string, versionId: number, options?: DeleteVersionOptions): Promise<DeleteVersionResult>;
  /** Restores a deleted version (within 30 days); its former tags come back unless moved since. */
  restore(repository: string, versionId: number, options?: VersionCallOptions): Promise<void>;
  /** The version whose name is this manifest digest, or undefined. Stops reading pages once found. */
  findByDigest(
    repository: string,
    digest: string,
    options?: ListVersionsOptions,
  ): Promise<PackageVersion | undefined>;
  /** The active version carrying this tag, or undefined. Stops reading pages once found. */
  findByTag(
    repository: string,
    tag: string,
    options?: VersionCallOptions,
  ): Promise<PackageVersion | undefined>;
  /**
   * Removes one tag and leaves the image and its other tags alone. On ghcr.io: the client's
   * placeholder untag (`tags.untag`), then the deletion of that placeholder's package version,
   * found by digest. Elsewhere the registry's own untag already finishes the job. Safe to repeat
   * after a failure: a tag still holding an untag placeholder is finished off (`untag: 'resumed'`).
   */
  untagAndDelete(
    repository: string,
    tag: string,
    options?: VersionCallOptions,
  ): Promise<UntagAndDeleteResult>;
}

/**
 * The tags of a package version (`metadata.container.tags`; the legacy Docker registry's
 * `metadata.docker.tag`), or none.
 * @public
 */
export function packageVersionTags(version: PackageVersion): readonly string[] {
  return version.metadata?.container?.tags ?? version.metadata?.docker?.tag ?? [];
}

/** Placeholders are ~450 bytes; only manifests this small are fetched to check for one. */
const MAX_PLACEHOLDER_BYTES = 1024;

interface PackageRef {
  readonly owner: string;
  readonly packageName: string;
  readonly ownerType: OwnerType;
  /** `…/packages/container/<encoded name>` */
  readonly url: string;
}

/**
 * Creates the package-versions capability. `tags` and `manifests` serve `untagAndDelete`.
 * @throws ConfigError for a bad option (naming it).
 * @internal
 */
export function createVersions(
  deps: {
    readonly endpoint: Pick<RegistryEndpoint, 'host' | 'flavor' | 'send'>;
    readonly limits: Pick<BackoffLimits, 'clock'>;
  },
  capabilities: { readonly tags: Tags; readonly manifests: Manifests },
  options: VersionsOptions = {},
): Versions {
  const resolved = resolveVersionsOptions(options);
  const api: GithubApi = { transport: { send: deps.endpoint.send }, apiVersion: resolved.apiVersion };
  const detect = createOwnerTypeCache(api, resolved.apiUrl);
  const clock = deps.limits.clock;
  const { tags, manifests } = capabilities;

  const ownerTypeOf = async (owner: string, call: VersionCallOptions): Promise<OwnerType> =>
    call.ownerType ?? resolved.ownerType ?? (await detect(owner, call.signal));

  const ownerBase = (ownerType: OwnerType, owner: string): string => {
    switch (ownerType) {
      case 'org':
        return `${resolved.apiUrl}/orgs/${encodeURIComponent(owner)}/packages`;
      case 'user':
        return `${resolved.apiUrl}/users/${encodeURIComponent(owner)}/packages`;
      case 'authenticated-user':
        return `${resolved.apiUrl}/user/packages`;
    }
  };

  const packageRef = async (repository: string, call: VersionCallOptions): Promise<PackageRef> => {
    checkRepository(repository);
    const { owner, packageName } = splitPackagePath(repository);
    checkOwner(owner);
    const ownerType = await ownerTypeOf(owner, call);
    return {
      owner,
      packageName,
      ownerType,
      url: `${ownerBase(ownerType, owner)}/container/${encodeURIComponent(packageName)}`,
    };
  };

  const target = (ref: PackageRef, action: ApiAction, versionId?: number, note?: string): ApiTarget => ({
    action,
    owner: ref.owner,
    ownerType: ref.ownerType,
    packageName: ref.packageName,
    apiVersion: resolved.apiVersion,
    ...definedProps({ versionId, note }),
  });

  const request = (
    operation: string,
    method: ApiRequest['method'],
    url: string,
    apiTarget: ApiTarget,
    signal: AbortSignal | undefined,
  ): ApiRequest => ({ operation, method, url, target: apiTarget, signal });

  async function* iteratePackages(
    owner: string,
    call: ListPackagesOptions = {},
  ): AsyncGenerator<GithubPackage> {
    checkOwner(owner);
    const ownerType = await ownerTypeOf(owner, call);
    const query = new URLSearchParams({ package_type: 'container', per_page: '100' });
    if (call.visibility !== undefined) query.set('visibility', call.visibility);
    const apiTarget: ApiTarget = {
      action: 'list packages of',
      owner,
      ownerType,
      apiVersion: resolved.apiVersion,
    };
    const first = request(
      'packages.list',
      'GET',
      `${ownerBase(ownerType, owner)}?${query}`,
      apiTarget,
      call.signal,
    );
    for await (const page of apiPages(api, first, githubPackageSchema, 'GitHub package object')) yield* page;
  }

  async function* iterateVersions(
    repository: string,
    call: ListVersionsOptions = {},
    note?: string,
  ): AsyncGenerator<PackageVersion> {
    const ref = await packageRef(repository, call);
    const state = call.state ?? 'active';
    const action: ApiAction = state === 'deleted' ? 'list deleted versions of' : 'list versions of';
    const first = request(
      'versions.list',
      'GET',
      `${ref.url}/versions?state=${state}&per_page=100`,
      target(ref, action, undefined, note),
      call.signal,
    );
    for await (const page of apiPages(api, first, packageVersionSchema, 'package version object'))
      yield* page;
  }

  const findByDigest = async (
    repository: string,
    digest: string,
    call: ListVersionsOptions = {},
    note?: string,
  ): Promise<PackageVersion | undefined> => {
    const wanted = parseDigest(digest).digest;
    for await (const version of iterateVersions(repository, call, note)) {
      if (version.name === wanted) return version;
    }
    return undefined;
  };

  const deleteVersion = async (
    repository: string,
    versionId: number,
    call: DeleteVersionOptions = {},
    note?: string,
  ): Promise<DeleteVersionResult> => {
    checkVersionId(versionId);
    const ref = await packageRef(repository, call);
    try {
      await sendApiNoContent(
        api,
        request(
          'versions.delete',
          'DELETE',
          `${ref.url}/versions/${versionId}`,
          target(ref, 'delete a version of', versionId, note),
          call.signal,
        ),
      );
      return { versionId, outcome: 'deleted' };
    } catch (error) {
      if (call.ignoreMissing === true && isVersionGone(error))
        return { versionId, outcome: 'already-deleted' };
      throw error;
    }
  };

  /** The digest on the tag when it holds an untag placeholder (left by an interrupted call). */
  const placeholderOnTag = async (
    repository: string,
    tag: string,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> => {
    const signalOption = signal === undefined ? {} : { signal };
    const current = await manifests.head(repository, tag, signalOption);
    if (
      current === undefined ||
      current.mediaType !== MediaType.OciManifest ||
      current.size > MAX_PLACEHOLDER_BYTES
    ) {
      return undefined;
    }
    const parsed = await manifests.get(repository, current.digest, signalOption);
    return isUntagPlaceholder(parsed) ? parsed.digest : undefined;
  };

  /**
   * GET the package (it must exist and be visible) and, when GitHub reports the token's scopes
   * (`X-OAuth-Scopes`, classic PATs), check that delete:packages is among them.
   */
  const preflight = async (repository: string, call: VersionCallOptions): Promise<void> => {
    const ref = await packageRef(repository, call);
    const response = await sendApi(
      api,
      request('packages.get', 'GET', ref.url, target(ref, 'get'), call.signal),
    );
    await discard(response);
    const granted = header(response, 'x-oauth-scopes');
    if (granted === undefined) return;
    const scopes = granted.split(',').map((scope) => scope.trim());
    if (!scopes.includes('delete:packages')) {
      throw new AuthorizationError(
        `cannot untag on ${deps.endpoint.host}/${repository}: removing a tag on ghcr.io deletes a package version, which needs the delete:packages scope, and this token has ${
          granted.trim() === '' ? 'no scopes' : `only ${granted.trim()}`
        }. Add delete:packages (and read:packages) to the token; the tag was not touched.`,
        { code: GhcrErrorCode.FORBIDDEN, scope: 'read:packages delete:packages' },
      );
    }
  };

  return {
    apiUrl: resolved.apiUrl,
    ownerType: (owner, call = {}) => ownerTypeOf(checkOwner(owner), call),
    iteratePackages,
    async listPackages(owner, call = {}) {
      const all: GithubPackage[] = [];
      for await (const pkg of iteratePackages(owner, call)) all.push(pkg);
      return all;
    },
    async getPackage(repository, call = {}) {
      const ref = await packageRef(repository, call);
      return getApiObject(
        api,
        request('packages.get', 'GET', ref.url, target(ref, 'get'), call.signal),
        githubPackageSchema,
        'a GitHub package object',
      );
    },
    async deletePackage(repository, call = {}) {
      const ref = await packageRef(repository, call);
      await sendApiNoContent(
        api,
        request('packages.delete', 'DELETE', ref.url, target(ref, 'delete'), call.signal),
      );
    },
    async restorePackage(repository, call = {}) {
      const ref = await packageRef(repository, call);
      const query = call.token === undefined ? '' : `?${new URLSearchParams({ token: call.token })}`;
      await sendApiNoContent(
        api,
        request(
          'packages.restore',
          'POST',
          `${ref.url}/restore${query}`,
          target(ref, 'restore'),
          call.signal,
        ),
      );
    },
    iterate: (repository, call = {}) => iterateVersions(repository, call),
    async list(repository, call = {}) {
      const all: PackageVersion[] = [];
      for await (const version of iterateVersions(repository, call)) all.push(version);
      return all;
    },
    async get(repository, versionId, call = {}) {
      checkVersionId(versionId);
      const ref = await packageRef(repository, call);
      return getApiObject(
        api,
        request(
          'versions.get',
          'GET',
          `${ref.url}/versions/${versionId}`,
          target(ref, 'get a version of', versionId),
          call.signal,
        ),
        packageVersionSchema,
        'a package version object',
      );
    },
    delete: (repository, versionId, call = {}) => deleteVersion(repository, versionId, call),
    async restore(repository, versionId, call = {}) {
      checkVersionId(versionId);
      const ref = await packageRef(repository, call);
      await sendApiNoContent(
        api,
        request(
          'versions.restore',
          'POST',
          `${ref.url}/versions/${versionId}/restore`,
          target(ref, 'restore a version of', versionId),
          call.signal,
        ),
      );
    },
    findByDigest: (repository, digest, call = {}) => findByDigest(repository, digest, call),
    async findByTag(repository, tag, call = {}) {
      checkTag(tag);
      for await (const version of iterateVersions(repository, { ...call, state: 'active' })) {
        if (packageVersionTags(version).includes(tag)) return version;
      }
      return undefined;
    },
    async untagAndDelete(repository, tag, call = {}) {
      checkRepository(repository);
      checkTag(tag);
      const signalOption = call.signal === undefined ? {} : { signal: call.signal };
      if (deps.endpoint.flavor !== 'ghcr') {
        // The registry's own untag removes the tag (DELETE, or a placeholder deleted by digest).
        const result = await tags.untag(repository, tag, signalOption);
        return {
          tag,
          untag: result.method,
          previousDigest: result.previousDigest,
          ...(result.method === 'deleted' ? {} : { placeholderDigest: result.placeholderDigest }),
        };
      }
      // Check the package and the token before the tag moves: a wrong name, an invisible package
      // or a token without delete:packages fails here with the tag untouched.
      await preflight(repository, call);
      let untag: UntagAndDeleteResult['untag'] = 'resumed';
      let previousDigest: string | undefined;
      let placeholderDigest = await placeholderOnTag(repository, tag, call.signal);
      if (placeholderDigest === undefined) {
        const result = await tags.untag(repository, tag, signalOption);
        untag = result.method;
        previousDigest = result.previousDigest;
        if (result.method === 'deleted') return { tag, untag, previousDigest };
        placeholderDigest = result.placeholderDigest;
      }
      const note = `The tag "${tag}" now points at the untag placeholder ${placeholderDigest}${
        previousDigest === undefined
          ? ''
          : ` (the image ${previousDigest} is untouched and keeps its other tags)`
      }; once the cause is fixed, call untagAndDelete("${repository}", "${tag}") again to delete the placeholder's version.`;
      let version: PackageVersion | undefined;
      for (let attempt = 0; attempt < resolved.placeholderLookupAttempts; attempt++) {
        if (attempt > 0)
          await clock.sleep(resolved.placeholderLookupDelayMs * 2 ** (attempt - 1), call.signal);
        version = await findByDigest(repository, placeholderDigest, call, note);
        if (version !== undefined) break;
      }
      if (version === undefined) {
        const ref = await packageRef(repository, call);
        throw new NotFoundError(
          `cannot finish untagging "${tag}" of ${describeTarget(target(ref, 'delete a version of'))}: GitHub lists no version for the placeholder ${placeholderDigest} after ${resolved.placeholderLookupAttempts} lookups. ${note}`,
          { code: GhcrErrorCode.NOT_FOUND, resource: `package version ${placeholderDigest}` },
        );
      }
      const deleted = await deleteVersion(repository, version.id, { ...call, ignoreMissing: true }, note);
      return {
        tag,
        untag,
        ...definedProps({ previousDigest }),
        placeholderDigest,
        deletedVersionId: deleted.versionId,
      };
    },
  };
}

function checkVersionId(versionId: number): void {
  if (!Number.isSafeInteger(versionId) || versionId <= 0) {
    throw new InvalidInputError(
      `invalid package version id ${String(versionId)}: it is a positive integer, the "id" of a version (versions.list, findByDigest)`,
      { input: String(versionId) },
    );
  }
}

/** A 404 that says the version (not the package) is gone. */
function isVersionGone(error: unknown): boolean {
  return (
    NotFoundError.isInstance(error) &&
    error.http?.status === 404 &&
    /version not found/i.test(error.http.apiMessage ?? '')
  );
}
