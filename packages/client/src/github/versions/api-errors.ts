/**
 * Turns the Packages REST API's refusals into errors a person can act on: which scope or role is
 * missing, why a package may look absent, and GitHub's two deletion rules (the last version, the
 * 5,000-download limit) as their own codes instead of a bare 400 (ghcr-facts §3 "Permissions and
 * rules").
 */

import {
  AuthenticationError,
  AuthorizationError,
  ConfigError,
  GhcrError,
  GhcrErrorCode,
  NotFoundError,
  ResourceConflictError,
} from '@ghcr/oci-types';
import type { OwnerType } from './versions-options.js';

/**
 * What was being done when the API refused, for the explanation.
 * @internal
 */
export type ApiAction =
  | 'detect the owner type of'
  | 'list packages of'
  | 'get'
  | 'delete'
  | 'restore'
  | 'list versions of'
  | 'list deleted versions of'
  | 'get a version of'
  | 'delete a version of'
  | 'restore a version of';

/**
 * The request an error is explained for.
 * @internal
 */
export interface ApiTarget {
  readonly action: ApiAction;
  readonly owner: string;
  /** Undefined for owner-level requests (detection, list packages). */
  readonly ownerType?: OwnerType;
  readonly packageName?: string;
  readonly versionId?: number;
  /** `X-GitHub-Api-Version` sent, for the unsupported-version explanation. */
  readonly apiVersion: string;
  /** A sentence appended to the explanation (what state the caller's operation left behind). */
  readonly note?: string;
}

const READ = ['read:packages'];
const DELETE = ['read:packages', 'delete:packages'];
const WRITE = ['read:packages', 'write:packages'];

/** The classic-PAT scopes each action needs (docs.github.com/rest/packages/packages). */
function scopesFor(action: ApiAction): readonly string[] {
  switch (action) {
    case 'delete':
    case 'delete a version of':
    case 'list deleted versions of':
      return DELETE;
    case 'restore':
    case 'restore a version of':
      return WRITE;
    default:
      return READ;
  }
}

/** Whether the action also needs the admin role on the package (deletion and restore). */
function needsAdmin(action: ApiAction): boolean {
  return (
    action === 'delete' ||
    action === 'delete a version of' ||
    action === 'restore' ||
    action === 'restore a version of' ||
    action === 'list deleted versions of'
  );
}

function ownerPhrase(target: ApiTarget): string {
  switch (target.ownerType) {
    case 'org':
      return `organization ${target.owner}`;
    case 'user':
      return `user ${target.owner}`;
    case 'authenticated-user':
      return 'the authenticated user';
    default:
      return target.owner;
  }
}

/** `container package "team/app" of organization acme` (with the version, when there is one). @internal */
export function describeTarget(target: ApiTarget): string {
  if (target.packageName === undefined) return ownerPhrase(target);
  const pkg = `container package "${target.packageName}" of ${ownerPhrase(target)}`;
  return target.versionId === undefined ? pkg : `version ${target.versionId} of ${pkg}`;
}

/** The action as a verb phrase in front of {@link describeTarget} (which names the version itself). */
function verb(target: ApiTarget): string {
  if (target.versionId === undefined) return target.action;
  return target.action.replace(/ a version of$/, '');
}

function adminAdvice(target: ApiTarget): string {
  if (target.ownerType === 'org') {
    return 'the Admin role on the package (package settings → "Manage access"; for a GITHUB_TOKEN, give the workflow\'s repository the Admin role under "Manage Actions access")';
  }
  return 'admin rights on the package (for a user-owned package: be that user)';
}

const LAST_VERSION = /last (?:tagged )?version of a package/i;
const DOWNLOAD_LIMIT = /(?:5,?000|\d[\d,]*) downloads/i;
const UNSUPPORTED_VERSION = /X-GitHub-Api-Version/i;
const ADMIN_MESSAGE = /admin/i;
const VERSION_NOT_FOUND = /version not found/i;
const NAME_REUSED = /already exists/i;

function finish(explanation: string, target: ApiTarget): string {
  return target.note === undefined ? explanation : `${explanation} ${target.note}`;
}

/**
 * Returns an error explaining a Packages API refusal (keeping the original as `cause` and its HTTP
 * context), or the original when there is nothing to add (rate limits, 5xx, connection failures).
 * @internal
 */
export function explainApiError(error: unknown, target: ApiTarget): unknown {
  if (!GhcrError.isInstance(error) || error.http === undefined) return error;
  const http = error.http;
  const status = http.status;
  const said = http.apiMessage ?? '';
  const head = error.message.replace(/[.\s]+$/, '');
  const what = describeTarget(target);
  const scopes = scopesFor(target.action);
  const base = { http, cause: error };

  if (status === 401) {
    const noToken = /requires authentication/i.test(said);
    return new AuthenticationError(
      finish(
        `${head}. Cannot ${verb(target)} ${what}: ${
          noToken
            ? 'no GitHub token was sent. Give the client credentials holding a GitHub token'
            : 'GitHub refused the token (expired, revoked, or not a GitHub token). Use a valid GitHub token'
        } (a personal access token (classic) with ${scopes.join(' and ')}).`,
        target,
      ),
      { ...base, code: GhcrErrorCode.UNAUTHORIZED },
    );
  }

  if (LAST_VERSION.test(said)) {
    return new ResourceConflictError(
      finish(
        `${head}. Cannot delete ${what}: it is the last ${/tagged/i.test(said) ? 'tagged ' : ''}version of the package, and GitHub never deletes that one on its own. Delete the whole package instead (versions.deletePackage), or keep this version.`,
        target,
      ),
      { ...base, code: GhcrErrorCode.LAST_VERSION },
    );
  }

  if (DOWNLOAD_LIMIT.test(said) && status !== 404) {
    return new ResourceConflictError(
      finish(
        `${head}. Cannot delete ${what}: it is public and has more than 5,000 downloads, which GitHub does not let anyone delete through the API or the web. Contact GitHub support (https://support.github.com) to have it removed, or make the package private first if that is acceptable.`,
        target,
      ),
      { ...base, code: GhcrErrorCode.DOWNLOAD_LIMIT },
    );
  }

  if ((status === 400 || status === 410) && UNSUPPORTED_VERSION.test(said)) {
    return new ConfigError(
      finish(
        `${head}. GitHub does not support the API version "${target.apiVersion}" sent as X-GitHub-Api-Version: set the versions option apiVersion to a supported one (2022-11-28 is GitHub's default).`,
        target,
      ),
      { ...base, field: 'apiVersion' },
    );
  }

  if (status === 403 && AuthorizationError.isInstance(error)) {
    const adminMissing = ADMIN_MESSAGE.test(said) && needsAdmin(target.action);
    const advice = adminMissing
      ? `The token's scopes are enough, but the account lacks ${adminAdvice(target)}.`
      : `The token is missing a scope: it needs ${scopes.join(' and ')} (personal access token (classic); a fine-grained token cannot use the Packages API)${
          needsAdmin(target.action) ? `, and the account needs ${adminAdvice(target)}` : ''
        }.`;
    return new AuthorizationError(finish(`${head}. Cannot ${verb(target)} ${what}. ${advice}`, target), {
      ...base,
      code: GhcrErrorCode.FORBIDDEN,
      scope: adminMissing ? 'admin on the package' : scopes.join(' '),
    });
  }

  if (status === 404) {
    return new NotFoundError(finish(`${head}. ${notFoundAdvice(target, said)}`, target), {
      ...base,
      code: GhcrErrorCode.NOT_FOUND,
      resource: what,
    });
  }

  if (status === 409 && target.action === 'restore' && NAME_REUSED.test(said)) {
    return new ResourceConflictError(
      finish(
        `${head}. Cannot restore ${what}: a package with the same name was created after it was deleted, and GitHub restores only into an unused name. Delete (or rename) the new package first.`,
        target,
      ),
      { ...base, code: GhcrErrorCode.CONFLICT },
    );
  }

  if (status === 400 && target.action === 'restore a version of' && NAME_REUSED.test(said)) {
    return new ResourceConflictError(
      finish(
        `${head}. Cannot restore ${what}: the version is not deleted, so there is nothing to restore.`,
        target,
      ),
      { ...base, code: GhcrErrorCode.CONFLICT },
    );
  }

  return error;
}

function notFoundAdvice(target: ApiTarget, said: string): string {
  const what = describeTarget(target);
  if (target.action === 'detect the owner type of') {
    return `There is no GitHub user or organization named "${target.owner}" (the first component of the repository path). Check the name, or pass ownerType when the API at this URL cannot look users up.`;
  }
  if (target.packageName === undefined) {
    return `Cannot ${verb(target)} ${what}: GitHub knows no ${ownerPhrase(target)}. Check the owner name${
      target.ownerType === 'authenticated-user'
        ? ''
        : ' and, when ownerType was given, that it matches (org or user)'
    }.`;
  }
  const orgRole =
    target.ownerType === 'org'
      ? ', and your account needs a role on the package (package settings → "Manage access"; for a GITHUB_TOKEN, "Manage Actions access")'
      : '';
  if (target.versionId !== undefined && VERSION_NOT_FOUND.test(said)) {
    return `Cannot ${verb(target)} ${what}: the package has no such version${
      target.action === 'restore a version of'
        ? ' that can be restored (versions can be restored within 30 days of deletion)'
        : ' (it never existed, or it was deleted already: list versions with state "deleted" to see deleted ones)'
    }.`;
  }
  if (target.action === 'restore') {
    return `Cannot restore ${what}: no deleted package of that name can be restored. It was not deleted in the last 30 days, the restore token does not match, or the token cannot see it: it needs read:packages and write:packages${
      target.ownerType === 'org' ? `, and the account needs ${adminAdvice(target)}` : ''
    }.`;
  }
  return `Cannot ${verb(target)} ${what}: it does not exist, or it is private (or internal) and this token cannot see it. The token needs read:packages${orgRole}. The package name is the repository path after the owner (ghcr.io/${target.owner}/${target.packageName}).`;
}
