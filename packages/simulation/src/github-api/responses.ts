/**
 * GitHub REST API response bodies and messages, spelled as GitHub spells them. Error bodies are
 * `{ message, documentation_url, status }` (GitHub added the string `status` field in 2023).
 */

/** The API versions the simulation accepts in `X-GitHub-Api-Version` (newest first). @internal */
export const SUPPORTED_API_VERSIONS = ['2026-03-10', '2022-11-28'] as const;
/** The version used when a request names none (GitHub's default). @internal */
export const DEFAULT_API_VERSION = '2022-11-28';

/** Documentation links GitHub puts in error bodies. @internal */
export const DOCS = {
  rest: 'https://docs.github.com/rest',
  packages: 'https://docs.github.com/rest/packages/packages',
  users: 'https://docs.github.com/rest/users/users#get-a-user',
  authenticatedUser: 'https://docs.github.com/rest/users/users#get-the-authenticated-user',
  rateLimits: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
  secondaryRateLimits:
    'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
  versions: 'https://docs.github.com/rest/overview/api-versions',
} as const;

/**
 * GitHub's messages for the Packages API (as returned by api.github.com; see ghcr-facts.md §3).
 * @internal
 */
export const MESSAGES = {
  requiresAuthentication: 'Requires authentication',
  badCredentials: 'Bad credentials',
  notFound: 'Not Found',
  packageNotFound: 'Package not found.',
  versionNotFound: 'Package version not found.',
  lastVersion: 'You cannot delete the last version of a package. You must delete the package instead.',
  lastTaggedVersion:
    'You cannot delete the last tagged version of a package. You must delete the package instead.',
  publicVersionDownloads:
    'Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.',
  publicPackageDownloads:
    'Publicly visible packages with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.',
  activePackageExists: 'An active package already exists with given name.',
  activeVersionExists: 'Active package version already exists with given name.',
  adminRequired: 'You must have admin permissions on this package to delete or restore it.',
  invalidPackageType: 'The package_type parameter is invalid.',
  packageTypeRequired: 'The package_type parameter is required.',
  invalidVisibility: 'The visibility parameter is invalid.',
  invalidState: 'The state parameter is invalid.',
  secondaryRateLimit:
    'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID',
  scope: {
    listPackages: 'You need at least read:packages scope to list packages.',
    getPackage: 'You need at least read:packages scope to get a package.',
    listVersions: "You need at least read:packages scope to get a package's versions.",
    listDeletedVersions:
      "You need at least delete:packages and read:packages scopes to get a package's deleted versions.",
    getVersion: "You need at least read:packages scope to view a package's versions.",
    deletePackage: 'You need at least delete:packages and read:packages scopes to delete a package.',
    deleteVersion: 'You need at least delete:packages and read:packages scopes to delete a package version.',
    restorePackage: 'You need at least write:packages and read:packages scopes to restore a package.',
    restoreVersion: 'You need at least write:packages and read:packages scopes to restore a package version.',
  },
} as const;

/**
 * The message GitHub sends for an `X-GitHub-Api-Version` it does not support (status 400).
 * @internal
 */
export function unsupportedVersionMessage(version: string): string {
  const [newest, ...rest] = SUPPORTED_API_VERSIONS;
  const list = [`"${newest}" (most recent)`, ...rest.map((item) => `"${item}"`)].join(', ');
  return `The version you specified in the "X-GitHub-API-Version" request header, "${version}", is not a supported version. The following versions are currently supported: ${list}.`;
}

/**
 * A GitHub error body.
 * @internal
 */
export function errorBody(status: number, message: string, documentationUrl: string): Record<string, string> {
  return { message, documentation_url: documentationUrl, status: String(status) };
}

/** Formats epoch milliseconds as GitHub does (`2026-01-01T00:00:00Z`, no fraction). @internal */
export function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
