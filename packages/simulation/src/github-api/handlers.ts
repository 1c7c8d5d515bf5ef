/**
 * The GitHub Packages REST API of the simulation, as msw handlers under `options.apiUrl` (which
 * may carry a path, e.g. `http://127.0.0.1:5000/api`).
 *
 * Every request goes through, in GitHub's order: the `X-GitHub-Api-Version` check (400 for an
 * unsupported version), credentials (`Bearer`/`token` PAT, or Basic with a PAT as password; a
 * bad one is 401 "Bad credentials"), the primary hourly budget (403 "API rate limit exceeded",
 * `x-ratelimit-*` on every response), the secondary per-minute points budget (403 with
 * `retry-after`), then the route: scopes (401 without a token, 403 with GitHub's message when a
 * scope is missing), the owner (404), the package (404 "Package not found." also when private and
 * not administered by the caller), and the rules of each operation.
 */

import { randomBytes } from 'node:crypto';
import { http, type RequestHandler } from 'msw';
import type { SimulationContext } from '../context.js';
import type { ManifestRecord, OwnerRecord, PackageScope, RepositoryRecord } from '../state/records.js';
import { SimulationState } from '../state/simulation-state.js';
import { type ObjectUrls, packageObject, userObject, versionObject } from './objects.js';
import { paginate } from './pagination.js';
import {
  ANONYMOUS_HOURLY_LIMIT,
  createApiRateLimiter,
  type PrimaryState,
  secondaryPoints,
} from './rate-limits.js';
import {
  DEFAULT_API_VERSION,
  DOCS,
  errorBody,
  MESSAGES,
  SUPPORTED_API_VERSIONS,
  unsupportedVersionMessage,
} from './responses.js';
import { type ApiRoute, apiSegments, matchRoute, OPERATIONS, type OwnerScope } from './routes.js';

/** Downloads above which a public version (or package) cannot be deleted (GitHub: 5,000). */
const DOWNLOAD_DELETE_LIMIT = 5000;
/** Package types GitHub knows besides `container`; the simulation has none of them. */
const OTHER_PACKAGE_TYPES = new Set(['npm', 'maven', 'rubygems', 'docker', 'nuget']);

interface Caller {
  readonly token: string;
  readonly user: string;
  readonly scopes: readonly PackageScope[];
}

type Credentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'invalid' }
  | ({ readonly kind: 'pat' } & Caller);

/** What a route answers: a status, a JSON body (absent for 204) and extra headers. */
interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function fail(status: number, message: string, documentationUrl: string = DOCS.packages): Answer {
  return { status, body: errorBody(status, message, documentationUrl) };
}

function rateLimitHeaders(state: PrimaryState): Record<string, string> {
  return {
    'x-ratelimit-limit': String(state.limit),
    'x-ratelimit-remaining': String(state.remaining),
    'x-ratelimit-reset': String(state.reset),
    'x-ratelimit-used': String(state.used),
    'x-ratelimit-resource': 'core',
  };
}

/** The scopes each route needs, and GitHub's message when they are missing. */
function requiredScopes(route: ApiRoute, url: URL): { scopes: PackageScope[]; message: string } | undefined {
  switch (route.kind) {
    case 'packages.list':
      return { scopes: ['read:packages'], message: MESSAGES.scope.listPackages };
    case 'packages.get':
      return { scopes: ['read:packages'], message: MESSAGES.scope.getPackage };
    case 'packages.delete':
      return { scopes: ['read:packages', 'delete:packages'], message: MESSAGES.scope.deletePackage };
    case 'packages.restore':
      return { scopes: ['read:packages', 'write:packages'], message: MESSAGES.scope.restorePackage };
    case 'versions.list':
      return url.searchParams.get('state') === 'deleted'
        ? { scopes: ['read:packages', 'delete:packages'], message: MESSAGES.scope.listDeletedVersions }
        : { scopes: ['read:packages'], message: MESSAGES.scope.listVersions };
    case 'versions.get':
      return { scopes: ['read:packages'], message: MESSAGES.scope.getVersion };
    case 'versions.delete':
      return { scopes: ['read:packages', 'delete:packages'], message: MESSAGES.scope.deleteVersion };
    case 'versions.restore':
      return { scopes: ['read:packages', 'write:packages'], message: MESSAGES.scope.restoreVersion };
    default:
      return undefined;
  }
}

/**
 * Creates the msw handlers of the GitHub Packages REST API over the simulation's state.
 *
 * Routes, for `/orgs/{org}`, `/users/{username}` and `/user` (the authenticated user):
 * `GET …/packages?package_type=container[&visibility=]`, `GET|DELETE
 * …/packages/container/{name}`, `POST …/packages/container/{name}/restore[?token=]`, `GET
 * …/versions?state=active|deleted&page&per_page`, `GET|DELETE …/versions/{id}`, `POST
 * …/versions/{id}/restore`; plus `GET /users/{name}`, `GET /user` and `GET /rate_limit`.
 *
 * Simulation rules: a private package is visible to its owner's administrators only (the owner
 * user, or an organisation's admins); deleting or restoring needs admin rights too (403 for a
 * visible public package, 404 otherwise); the restore `token` of a deleted package is its id.
 * @public
 */
export function createGithubApiHandlers(context: SimulationContext): RequestHandler[] {
  const { options, state } = context;
  const apiUrl = new URL(options.apiUrl);
  const basePath = apiUrl.pathname.replace(/\/+$/, '');
  const urls: ObjectUrls = { api: options.apiUrl.replace(/\/+$/, '') };
  const limiter = createApiRateLimiter(() => context.now());
  // When the API shares its prefix with the registry or the blob host (an API URL without a
  // path on the registry's origin), requests that are not API routes are left to their handlers.
  const exclusive = ![options.registryUrl, options.blobUrl].some((other) => other.startsWith(urls.api));
  const pattern = new RegExp(`^${escapeRegExp(urls.api)}(?:/.*)?$`);

  const credentials = (authorization: string | null): Credentials => {
    if (authorization === null || authorization.trim() === '') return { kind: 'none' };
    let token: string | undefined;
    const bearer = /^(?:Bearer|token)\s+(\S+)\s*$/i.exec(authorization);
    if (bearer?.[1] !== undefined) token = bearer[1];
    else token = context.tokens.parseBasic(authorization)?.password;
    const pat = token === undefined ? undefined : context.tokens.verifyPat(token);
    if (token === undefined || pat === undefined) return { kind: 'invalid' };
    return { kind: 'pat', token, user: pat.user, scopes: pat.scopes };
  };

  const isAdmin = (caller: Caller, owner: OwnerRecord): boolean => state.isAdmin(caller.user, owner.login);
  const canRead = (caller: Caller, owner: OwnerRecord, repository: RepositoryRecord): boolean =>
    repository.package?.visibility === 'public' || isAdmin(caller, owner);

  const resolveOwner = (scope: OwnerScope, caller: Caller): OwnerRecord | Answer => {
    if (scope.kind === 'self') {
      return state.getOwner(caller.user) ?? fail(404, MESSAGES.notFound);
    }
    const owner = state.getOwner(scope.login);
    const expected = scope.kind === 'org' ? 'Organization' : 'User';
    if (owner === undefined || owner.type !== expected) return fail(404, MESSAGES.notFound);
    return owner;
  };

  /** Finds a visible active package; an Answer (404 or 422) when there is none. */
  const findPackage = (
    owner: OwnerRecord,
    route: { packageType: string; packageName: string },
    caller: Caller,
  ): RepositoryRecord | Answer => {
    const typeError = checkPackageType(route.packageType);
    if (typeError !== undefined) return typeError;
    const repository = state.findPackage(owner.login, route.packageName);
    if (repository?.package === undefined || !canRead(caller, owner, repository)) {
      return fail(404, MESSAGES.packageNotFound);
    }
    return repository;
  };

  const checkPackageType = (packageType: string): Answer | undefined => {
    if (packageType === 'container') return undefined;
    if (OTHER_PACKAGE_TYPES.has(packageType)) return fail(404, MESSAGES.packageNotFound);
    return fail(422, MESSAGES.invalidPackageType);
  };

  const findVersion = (repository: RepositoryRecord, raw: string): ManifestRecord | undefined => {
    if (!/^\d+$/.test(raw)) return undefined;
    return state.getVersion(repository, Number(raw));
  };

  const versionCount = (repository: RepositoryRecord): number =>
    state.listVersions(repository, 'active').length;

  const isAnswer = (value: unknown): value is Answer =>
    typeof value === 'object' &&
    value !== null &&
    'status' in value &&
    typeof (value as Answer).status === 'number';

  const packagesRoute = (
    route: Exclude<ApiRoute, { kind: 'user.get' | 'user.self' | 'rate_limit' }>,
    caller: Caller,
    url: URL,
  ): Answer => {
    const owner = resolveOwner(route.owner, caller);
    if (isAnswer(owner)) return owner;

    if (route.kind === 'packages.list') {
      const packageType = url.searchParams.get('package_type');
      if (packageType === null || packageType.trim() === '') return fail(422, MESSAGES.packageTypeRequired);
      const typeError = checkPackageType(packageType);
      if (typeError !== undefined) return typeError.status === 404 ? { status: 200, body: [] } : typeError;
      const visibility = url.searchParams.get('visibility');
      if (visibility !== null && !['public', 'private', 'internal'].includes(visibility.toLowerCase())) {
        return fail(422, MESSAGES.invalidVisibility);
      }
      const packages = state
        .listPackages(owner.login)
        .filter((repository) => canRead(caller, owner, repository))
        .filter(
          (repository) => visibility === null || repository.package?.visibility === visibility.toLowerCase(),
        );
      const page = paginate(packages, url);
      return {
        status: 200,
        body: page.items.flatMap((repository) =>
          repository.package === undefined
            ? []
            : [packageObject(owner, repository.package, versionCount(repository), urls)],
        ),
        ...(page.link === undefined ? {} : { headers: { link: page.link } }),
      };
    }

    if (route.kind === 'packages.restore') {
      const typeError = checkPackageType(route.packageType);
      if (typeError !== undefined) return typeError;
      const deleted = state.findPackage(owner.login, route.packageName, { deleted: true });
      if (deleted?.package === undefined || !isAdmin(caller, owner))
        return fail(404, MESSAGES.packageNotFound);
      const token = url.searchParams.get('token');
      if (token !== null && token !== String(deleted.package.id)) return fail(404, MESSAGES.packageNotFound);
      const result = state.restorePackage(owner.login, route.packageName);
      if (!result.ok) {
        return result.reason === 'name-reused'
          ? fail(409, MESSAGES.activePackageExists)
          : fail(404, MESSAGES.packageNotFound);
      }
      return { status: 204 };
    }

    const repository = findPackage(owner, route, caller);
    if (isAnswer(repository)) return repository;
    const pkg = repository.package;
    if (pkg === undefined) return fail(404, MESSAGES.packageNotFound);

    switch (route.kind) {
      case 'packages.get':
        return { status: 200, body: packageObject(owner, pkg, versionCount(repository), urls) };

      case 'packages.delete': {
        if (!isAdmin(caller, owner)) return fail(403, MESSAGES.adminRequired);
        if (
          pkg.visibility === 'public' &&
          [...repository.manifests.values()].some(
            (manifest) => manifest.downloadCount > DOWNLOAD_DELETE_LIMIT,
          )
        ) {
          return fail(400, MESSAGES.publicPackageDownloads);
        }
        const result = state.deletePackage(repository);
        return result.ok ? { status: 204 } : fail(404, MESSAGES.packageNotFound);
      }

      case 'versions.list': {
        const requested = url.searchParams.get('state');
        if (requested !== null && requested !== '' && requested !== 'active' && requested !== 'deleted') {
          return fail(422, MESSAGES.invalidState);
        }
        const which = requested === 'deleted' ? 'deleted' : 'active';
        if (which === 'deleted' && !isAdmin(caller, owner)) return fail(403, MESSAGES.adminRequired);
        const page = paginate(state.listVersions(repository, which), url);
        return {
          status: 200,
          body: page.items.map((manifest) =>
            versionObject(owner, pkg, manifest, state.tagsOf(repository, manifest.digest), urls),
          ),
          ...(page.link === undefined ? {} : { headers: { link: page.link } }),
        };
      }

      case 'versions.get': {
        const manifest = findVersion(repository, route.versionId);
        if (manifest === undefined || manifest.deletedAt !== undefined)
          return fail(404, MESSAGES.versionNotFound);
        return {
          status: 200,
          body: versionObject(owner, pkg, manifest, state.tagsOf(repository, manifest.digest), urls),
        };
      }

      case 'versions.delete': {
        if (!isAdmin(caller, owner)) return fail(403, MESSAGES.adminRequired);
        const manifest = findVersion(repository, route.versionId);
        if (manifest === undefined || manifest.deletedAt !== undefined)
          return fail(404, MESSAGES.versionNotFound);
        const active = state.listVersions(repository, 'active');
        if (active.length <= 1) return fail(400, MESSAGES.lastVersion);
        const tagged = (candidate: ManifestRecord): boolean =>
          state.tagsOf(repository, candidate.digest).length > 0;
        if (tagged(manifest) && active.filter(tagged).length === 1)
          return fail(400, MESSAGES.lastTaggedVersion);
        if (pkg.visibility === 'public' && manifest.downloadCount > DOWNLOAD_DELETE_LIMIT) {
          return fail(400, MESSAGES.publicVersionDownloads);
        }
        const result = state.deleteVersion(repository, manifest.versionId);
        return result.ok ? { status: 204 } : fail(404, MESSAGES.versionNotFound);
      }

      case 'versions.restore': {
        if (!isAdmin(caller, owner)) return fail(403, MESSAGES.adminRequired);
        const manifest = findVersion(repository, route.versionId);
        if (manifest === undefined) return fail(404, MESSAGES.versionNotFound);
        const result = state.restoreVersion(repository, manifest.versionId);
        if (!result.ok) {
          return result.reason === 'not-deleted'
            ? fail(400, MESSAGES.activeVersionExists)
            : fail(404, MESSAGES.versionNotFound);
        }
        return { status: 204 };
      }
    }
  };

  const answerRoute = (
    route: ApiRoute,
    credentials: Credentials,
    url: URL,
    primary: PrimaryState,
  ): Answer => {
    if (route.kind === 'rate_limit') {
      const core = {
        limit: primary.limit,
        used: primary.used,
        remaining: primary.remaining,
        reset: primary.reset,
      };
      return { status: 200, body: { resources: { core }, rate: core } };
    }
    if (route.kind === 'user.get') {
      const owner = state.getOwner(route.login);
      return owner === undefined
        ? fail(404, MESSAGES.notFound, DOCS.users)
        : { status: 200, body: userObject(owner, urls) };
    }
    if (credentials.kind !== 'pat') {
      const docs = route.kind === 'user.self' ? DOCS.authenticatedUser : DOCS.packages;
      return fail(401, MESSAGES.requiresAuthentication, docs);
    }
    if (route.kind === 'user.self') {
      const owner = state.getOwner(credentials.user);
      return owner === undefined
        ? fail(401, MESSAGES.badCredentials, DOCS.rest)
        : { status: 200, body: userObject(owner, urls, true) };
    }
    const required = requiredScopes(route, url);
    if (
      required !== undefined &&
      !required.scopes.every((scope) => SimulationState.hasScope(credentials.scopes, scope))
    ) {
      return {
        ...fail(403, required.message),
        headers: { 'x-accepted-oauth-scopes': required.scopes.join(', ') },
      };
    }
    const answer = packagesRoute(route, credentials, url);
    if (required === undefined) return answer;
    return {
      ...answer,
      headers: { ...answer.headers, 'x-accepted-oauth-scopes': required.scopes.join(', ') },
    };
  };

  const respond = (request: Request, answer: Answer, headers: Headers): Response => {
    for (const [name, value] of Object.entries(answer.headers ?? {})) headers.set(name, value);
    const hasBody = answer.body !== undefined && answer.status !== 204 && request.method !== 'HEAD';
    if (!hasBody) headers.delete('content-type');
    return new Response(hasBody ? JSON.stringify(answer.body) : null, { status: answer.status, headers });
  };

  const handle = (request: Request): Response | undefined => {
    const url = new URL(request.url);
    const segments = apiSegments(url.pathname, basePath);
    if (segments === undefined) return undefined;
    const route = matchRoute(request.method, segments);
    if (route === undefined && !exclusive) return undefined;

    const headers = new Headers({
      'content-type': 'application/json; charset=utf-8',
      'x-github-media-type': 'github.v3; format=json',
      'x-github-request-id': randomBytes(8).toString('hex').toUpperCase(),
    });

    const version = request.headers.get('x-github-api-version') ?? DEFAULT_API_VERSION;
    if (!(SUPPORTED_API_VERSIONS as readonly string[]).includes(version)) {
      return respond(request, fail(400, unsupportedVersionMessage(version), DOCS.versions), headers);
    }
    headers.set('x-github-api-version-selected', version);

    const caller = credentials(request.headers.get('authorization'));
    const key = caller.kind === 'pat' ? `token:${caller.token}` : 'anonymous';
    const limit = caller.kind === 'pat' ? options.apiRateLimit.limit : ANONYMOUS_HOURLY_LIMIT;
    // GET /rate_limit does not count against the primary budget.
    const primary =
      route?.kind === 'rate_limit' ? limiter.peekPrimary(key, limit) : limiter.takePrimary(key, limit);
    for (const [name, value] of Object.entries(rateLimitHeaders(primary))) headers.set(name, value);
    if (caller.kind === 'pat') headers.set('x-oauth-scopes', caller.scopes.join(', '));
    if (route !== undefined) context.annotate(request, { operation: OPERATIONS[route.kind] });

    if (caller.kind === 'invalid')
      return respond(request, fail(401, MESSAGES.badCredentials, DOCS.rest), headers);
    if (primary.exceeded) {
      const who = caller.kind === 'pat' ? `user ID ${state.getOwner(caller.user)?.id ?? 0}` : '127.0.0.1';
      const extra =
        caller.kind === 'pat'
          ? ''
          : " (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)";
      return respond(
        request,
        fail(403, `API rate limit exceeded for ${who}.${extra}`, DOCS.rateLimits),
        headers,
      );
    }
    if (route?.kind !== 'rate_limit') {
      const wait = limiter.takeSecondary(
        key,
        secondaryPoints(request.method),
        options.apiWritePointsPerMinute,
      );
      if (wait !== undefined) {
        headers.set('retry-after', String(wait));
        const message = `${MESSAGES.secondaryRateLimit} ${headers.get('x-github-request-id') ?? ''}.`;
        return respond(request, fail(403, message, DOCS.secondaryRateLimits), headers);
      }
    }
    if (route === undefined) return respond(request, fail(404, MESSAGES.notFound, DOCS.rest), headers);
    return respond(request, answerRoute(route, caller, url, primary), headers);
  };

  return [http.all(pattern, ({ request }) => handle(request))];
}
