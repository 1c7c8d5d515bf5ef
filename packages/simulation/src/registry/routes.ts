import type { ResolvedSimulationOptions } from '../options.js';

/** Matches nothing: the route of a host the profile does not serve. */
const NEVER = /(?!)/;

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The RegExps the registry, token and blob-host handlers are registered with, built for the
 * configured origins. Repository names contain `/`, hence `(?<name>.+)`.
 * @internal
 */
export interface RegistryRoutes {
  readonly base: RegExp;
  readonly token: RegExp;
  readonly manifest: RegExp;
  readonly blob: RegExp;
  readonly uploads: RegExp;
  readonly upload: RegExp;
  readonly tags: RegExp;
  readonly referrers: RegExp;
  /** The ghcr profile's blob host (`/ghcr1/blobs/<digest>`). */
  readonly blobHost: RegExp;
  /** The dockerhub profile's CDN (`/registry-v2/docker/registry/v2/blobs/<alg>/<xx>/<hex>/data`). */
  readonly cdn: RegExp;
  /** The dockerhub profile's web host (`docker.io`): every path. */
  readonly web: RegExp;
  /** The web page it redirects to (`www.docker.com`): every path. */
  readonly home: RegExp;
}

/** @internal */
export function registryRoutes(
  options: Pick<ResolvedSimulationOptions, 'registryUrl' | 'blobUrl' | 'tokenUrl' | 'dockerhub'>,
): RegistryRoutes {
  const origin = escapeRegExp(options.registryUrl);
  const blobOrigin = escapeRegExp(options.blobUrl);
  return {
    base: new RegExp(`^${origin}/v2/?$`),
    token: new RegExp(`^${escapeRegExp(options.tokenUrl.replace(/[?#].*$/, ''))}$`),
    manifest: new RegExp(`^${origin}/v2/(?<name>.+)/manifests/(?<reference>[^/]+)$`),
    blob: new RegExp(`^${origin}/v2/(?<name>.+)/blobs/(?<digest>[^/]+)$`),
    uploads: new RegExp(`^${origin}/v2/(?<name>.+)/blobs/uploads/?$`),
    upload: new RegExp(`^${origin}/v2/(?<name>.+)/blobs/uploads/(?<session>[^/]+)$`),
    tags: new RegExp(`^${origin}/v2/(?<name>.+)/tags/list$`),
    referrers: new RegExp(`^${origin}/v2/(?<name>.+)/referrers/(?<digest>[^/]+)$`),
    blobHost: new RegExp(`^${blobOrigin}/ghcr1/blobs/(?<digest>[^/]+)$`),
    cdn: new RegExp(
      `^${blobOrigin}/registry-v2/docker/registry/v2/blobs/(?<algorithm>[a-z0-9]+)/[0-9a-f]{2}/(?<hex>[0-9a-f]+)/data$`,
    ),
    web:
      options.dockerhub === undefined
        ? NEVER
        : new RegExp(`^${escapeRegExp(options.dockerhub.webUrl)}(?:/.*)?$`),
    home:
      options.dockerhub === undefined
        ? NEVER
        : new RegExp(`^${escapeRegExp(options.dockerhub.homeUrl)}(?:/.*)?$`),
  };
}

interface Classifier {
  readonly pattern: RegExp;
  readonly operations: Readonly<Record<string, string>>;
}

/**
 * Names the operation of a request before any handler runs (faults match on it; the log shows
 * it). Registry: `registry.base`, `token`, `manifest.get|head|put|delete`, `blob.get|head|delete`,
 * `blob.upload.start|patch|put|status|cancel`, `tags.list`, `referrers.get`, `blobhost.get|head`
 * (GHCR's blob host or Hub's CDN), `web.get` (dockerhub: the docker.io web host and its page).
 * GitHub API: `api.packages.list|get|delete|restore`, `api.versions.list|get|delete|restore`,
 * `api.users.get`, else `api.other`. Anything else: undefined.
 * @internal
 */
export function createOperationClassifier(
  options: Pick<
    ResolvedSimulationOptions,
    'registryUrl' | 'blobUrl' | 'apiUrl' | 'tokenUrl' | 'dockerhub' | 'profile'
  >,
): (method: string, url: URL) => string | undefined {
  const routes = registryRoutes(options);
  const registry: Classifier[] = [
    { pattern: routes.base, operations: { GET: 'registry.base', HEAD: 'registry.base' } },
    { pattern: routes.token, operations: { GET: 'token', POST: 'token' } },
    { pattern: routes.uploads, operations: { POST: 'blob.upload.start' } },
    {
      pattern: routes.upload,
      operations: {
        PATCH: 'blob.upload.patch',
        PUT: 'blob.upload.put',
        GET: 'blob.upload.status',
        DELETE: 'blob.upload.cancel',
      },
    },
    { pattern: routes.tags, operations: { GET: 'tags.list' } },
    { pattern: routes.referrers, operations: { GET: 'referrers.get' } },
    {
      pattern: routes.manifest,
      operations: {
        GET: 'manifest.get',
        HEAD: 'manifest.head',
        PUT: 'manifest.put',
        DELETE: 'manifest.delete',
      },
    },
    { pattern: routes.blob, operations: { GET: 'blob.get', HEAD: 'blob.head', DELETE: 'blob.delete' } },
    { pattern: routes.blobHost, operations: { GET: 'blobhost.get', HEAD: 'blobhost.head' } },
    ...(options.profile === 'dockerhub'
      ? [
          { pattern: routes.cdn, operations: { GET: 'blobhost.get', HEAD: 'blobhost.head' } },
          { pattern: routes.web, operations: { GET: 'web.get', HEAD: 'web.get' } },
          { pattern: routes.home, operations: { GET: 'web.get', HEAD: 'web.get' } },
        ]
      : []),
  ];
  const api = escapeRegExp(options.apiUrl);
  const owner = '(?:/orgs/[^/]+|/users/[^/]+|/user)';
  const apiRoutes: Classifier[] = [
    { pattern: new RegExp(`^${api}${owner}/packages$`), operations: { GET: 'api.packages.list' } },
    {
      pattern: new RegExp(`^${api}${owner}/packages/[^/]+/[^/]+$`),
      operations: { GET: 'api.packages.get', DELETE: 'api.packages.delete' },
    },
    {
      pattern: new RegExp(`^${api}${owner}/packages/[^/]+/[^/]+/restore$`),
      operations: { POST: 'api.packages.restore' },
    },
    {
      pattern: new RegExp(`^${api}${owner}/packages/[^/]+/[^/]+/versions$`),
      operations: { GET: 'api.versions.list' },
    },
    {
      pattern: new RegExp(`^${api}${owner}/packages/[^/]+/[^/]+/versions/[^/]+$`),
      operations: { GET: 'api.versions.get', DELETE: 'api.versions.delete' },
    },
    {
      pattern: new RegExp(`^${api}${owner}/packages/[^/]+/[^/]+/versions/[^/]+/restore$`),
      operations: { POST: 'api.versions.restore' },
    },
    { pattern: new RegExp(`^${api}/users/[^/]+$`), operations: { GET: 'api.users.get' } },
  ];
  const apiPrefix = new RegExp(`^${api}(?:/|$)`);
  return (method, url) => {
    const clean = `${url.origin}${url.pathname}`;
    for (const { pattern, operations } of [...registry, ...apiRoutes]) {
      if (pattern.test(clean)) return operations[method];
    }
    if (apiPrefix.test(clean)) return 'api.other';
    return undefined;
  };
}
