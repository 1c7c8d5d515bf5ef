/**
 * The JSON objects of the GitHub REST API, shaped as GitHub returns them (ghcr-facts.md §3): a
 * package, a package version (container metadata with tags), and a user or organisation.
 */

import type { ManifestRecord, OwnerRecord, PackageRecord } from '../state/records.js';
import { isoTime } from './responses.js';

const HTML_ORIGIN = 'https://github.com';

/**
 * Where the objects point: the API base URL (`url` fields) and the web origin (`html_url`).
 * @internal
 */
export interface ObjectUrls {
  /** The API base, e.g. `https://api.github.com` or `http://127.0.0.1:5000/api`. */
  readonly api: string;
}

function ownerRoot(owner: OwnerRecord): string {
  return owner.type === 'Organization' ? 'orgs' : 'users';
}

/**
 * The "simple user" object GitHub embeds as a package's `owner`.
 * @internal
 */
export function simpleOwner(owner: OwnerRecord, urls: ObjectUrls): Record<string, unknown> {
  const url = `${urls.api}/users/${owner.login}`;
  return {
    login: owner.login,
    id: owner.id,
    // GitHub's legacy node ids are base64 of "04:<Type><id>".
    node_id: Buffer.from(`04:${owner.type}${owner.id}`).toString('base64'),
    avatar_url: `https://avatars.githubusercontent.com/u/${owner.id}?v=4`,
    gravatar_id: '',
    url,
    html_url: `${HTML_ORIGIN}/${owner.login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: owner.type,
    user_view_type: 'public',
    site_admin: false,
  };
}

/**
 * `GET /users/{name}` (and, with `authenticated`, `GET /user`): the full user object.
 * @internal
 */
export function userObject(
  owner: OwnerRecord,
  urls: ObjectUrls,
  authenticated = false,
): Record<string, unknown> {
  return {
    ...simpleOwner(owner, urls),
    name: null,
    company: null,
    blog: '',
    location: null,
    email: null,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: isoTime(owner.createdAt),
    updated_at: isoTime(owner.createdAt),
    ...(authenticated
      ? { private_gists: 0, total_private_repos: 0, owned_private_repos: 0, two_factor_authentication: true }
      : {}),
  };
}

/**
 * The API URL of a package (`…/orgs/{org}/packages/container/{url-encoded name}`).
 * @internal
 */
export function packageUrl(owner: OwnerRecord, pkg: PackageRecord, urls: ObjectUrls): string {
  return `${urls.api}/${ownerRoot(owner)}/${owner.login}/packages/container/${encodeURIComponent(pkg.name)}`;
}

/**
 * The web page of a package (`https://github.com/orgs/{org}/packages/container/package/{name}`).
 * @internal
 */
export function packageHtmlUrl(owner: OwnerRecord, pkg: PackageRecord): string {
  return `${HTML_ORIGIN}/${ownerRoot(owner)}/${owner.login}/packages/container/package/${encodeURIComponent(pkg.name)}`;
}

/**
 * A package object. `versionCount` is the number of active versions.
 * @internal
 */
export function packageObject(
  owner: OwnerRecord,
  pkg: PackageRecord,
  versionCount: number,
  urls: ObjectUrls,
): Record<string, unknown> {
  return {
    id: pkg.id,
    name: pkg.name,
    package_type: 'container',
    owner: simpleOwner(owner, urls),
    version_count: versionCount,
    visibility: pkg.visibility,
    url: packageUrl(owner, pkg, urls),
    created_at: isoTime(pkg.createdAt),
    updated_at: isoTime(pkg.updatedAt),
    html_url: packageHtmlUrl(owner, pkg),
  };
}

/**
 * A package-version object: `name` is the manifest digest; `metadata.container.tags` its tags;
 * `deleted_at` only on deleted versions, which have no `html_url` (GitHub hides their page).
 * @internal
 */
export function versionObject(
  owner: OwnerRecord,
  pkg: PackageRecord,
  manifest: ManifestRecord,
  tags: readonly string[],
  urls: ObjectUrls,
): Record<string, unknown> {
  const deleted = manifest.deletedAt !== undefined;
  return {
    id: manifest.versionId,
    name: manifest.digest,
    url: `${packageUrl(owner, pkg, urls)}/versions/${manifest.versionId}`,
    package_html_url: packageHtmlUrl(owner, pkg),
    created_at: isoTime(manifest.createdAt),
    updated_at: isoTime(manifest.updatedAt),
    ...(deleted
      ? { deleted_at: isoTime(manifest.deletedAt ?? manifest.updatedAt) }
      : {
          html_url: `${HTML_ORIGIN}/${ownerRoot(owner)}/${owner.login}/packages/container/${encodeURIComponent(pkg.name)}/${manifest.versionId}`,
        }),
    metadata: { package_type: 'container', container: { tags: [...tags] } },
  };
}
