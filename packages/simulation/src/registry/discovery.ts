import { definedProps, isDigest, MediaType } from '@ghcr/oci-types';
import { http, type RequestHandler } from 'msw';
import type { RegistryAccess } from '../auth/tokens.js';
import { indexAfter, sortedTags } from '../state/tag-map.js';
import { authorize, parseScopes, permittedActions } from './auth.js';
import { param, type RegistryEnvironment } from './environment.js';
import { plainNotFound, REGISTRY_HEADERS, registryError } from './errors.js';
import { guard } from './guard.js';

function json(status: number, value: unknown, headers: Record<string, string> = {}): Response {
  const body = JSON.stringify(value);
  return new Response(body, {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    },
  });
}

/**
 * `GET /v2/`, the token endpoint, `tags/list` and the referrers API.
 * @internal
 */
export function createDiscoveryHandlers(env: RegistryEnvironment): RequestHandler[] {
  const { context, routes } = env;
  const { state, options, tokens } = context;

  const base = async ({ request }: { request: Request }): Promise<Response> => {
    const limited = env.ghcr ? env.limiter.take() : undefined;
    if (limited !== undefined) return limited;
    const principal = authorize(context, request, undefined, ['pull']);
    if (principal instanceof Response) return principal;
    return json(200, {}, REGISTRY_HEADERS);
  };

  const token = async ({ request }: { request: Request }): Promise<Response> => {
    const limited = env.ghcr ? env.limiter.take() : undefined;
    if (limited !== undefined) return limited;
    const authorization = request.headers.get('authorization');
    let user: string | undefined;
    let scopes: readonly ('read:packages' | 'write:packages' | 'delete:packages')[] = [];
    if (authorization !== null && authorization.trim() !== '') {
      const basic = tokens.parseBasic(authorization);
      if (basic === undefined)
        return registryError(401, 'UNAUTHORIZED', {
          message:
            'authentication required: send Basic credentials (any user name, a personal access token as password)',
        });
      const pat = tokens.verifyPat(basic.password);
      if (pat === undefined) return registryError(403, 'DENIED', { message: 'denied' });
      user = pat.user;
      scopes = pat.scopes;
    } else if (!options.anonymousPull) {
      return registryError(401, 'UNAUTHORIZED');
    }
    const url = new URL(request.url);
    const requested = parseScopes(url.searchParams.getAll('scope'));
    const access: RegistryAccess[] = requested.map((entry) => {
      const allowed = permittedActions(
        context,
        user === undefined ? { scopes } : { user, scopes },
        entry.name,
      );
      return {
        type: 'repository',
        name: entry.name,
        actions: entry.actions.filter((action) => allowed.has(action)),
      };
    });
    const service = url.searchParams.get('service') ?? options.tokenService;
    const issued = tokens.issueRegistryToken(
      user === undefined ? { access, audience: service } : { user, access, audience: service },
    );
    if (env.ghcr) return json(200, { token: issued });
    return json(200, {
      token: issued,
      access_token: issued,
      expires_in: options.tokenTtlSeconds,
      issued_at: new Date(context.now()).toISOString(),
    });
  };

  return [
    http.get(routes.base, base),
    http.head(routes.base, base),
    http.get(routes.token, token),

    http.get(routes.tags, async ({ request, params }) => {
      const name = param(params, 'name');
      const principal = guard(env, request, name, ['pull']);
      if (principal instanceof Response) return principal;
      const repository = state.getRepository(name);
      if (repository === undefined) return registryError(404, 'NAME_UNKNOWN', { detail: { name } });
      const url = new URL(request.url);
      const nParam = url.searchParams.get('n');
      const last = url.searchParams.get('last');
      const parsedN = nParam !== null && /^\d+$/.test(nParam) ? Number(nParam) : undefined;
      const pageSize = parsedN ?? (env.ghcr ? options.defaultTagPageSize : Number.POSITIVE_INFINITY);
      // The repository's tags stay sorted between requests; `last` (a tag or not) is found by
      // binary search, so a page costs O(log N + n), not a sort of every tag.
      const tags = sortedTags(repository.tags);
      const start = last === null ? 0 : indexAfter(tags, last);
      const page = pageSize === 0 ? [] : tags.slice(start, start + pageSize);
      const headers: Record<string, string> = { ...REGISTRY_HEADERS };
      const lastTag = page[page.length - 1];
      if (pageSize > 0 && tags.length - start > page.length && lastTag !== undefined) {
        const next = new URLSearchParams({ n: String(pageSize), last: lastTag });
        headers.link = `</v2/${name}/tags/list?${next.toString()}>; rel="next"`;
      }
      return json(200, { name, tags: page }, headers);
    }),

    http.get(routes.referrers, async ({ request, params }) => {
      if (env.ghcr) {
        const limited = env.limiter.take();
        return limited ?? plainNotFound();
      }
      const name = param(params, 'name');
      const digest = param(params, 'digest');
      const principal = guard(env, request, name, ['pull']);
      if (principal instanceof Response) return principal;
      if (!isDigest(digest)) return registryError(400, 'DIGEST_INVALID', { detail: { digest } });
      // "If the registry supports the referrers API, the registry MUST NOT return a 404 Not Found
      // to a referrers API request"; "if a query results in no matching referrers, an empty
      // manifest list MUST be returned" (distribution-spec v1.1, Listing Referrers). A client that
      // gets 404 falls back to the tag schema, so a repository nothing was pushed to yet answers
      // an empty index too.
      const repository = state.getRepository(name);
      const filter = new URL(request.url).searchParams.get('artifactType');
      const referrers = (repository === undefined ? [] : state.referrersOf(repository, digest))
        .filter((manifest) => filter === null || manifest.artifactType === filter)
        .map((manifest) => ({
          mediaType: manifest.mediaType,
          digest: manifest.digest,
          size: manifest.size,
          ...definedProps({ artifactType: manifest.artifactType, annotations: manifest.annotations }),
        }));
      const headers: Record<string, string> = { ...REGISTRY_HEADERS, 'content-type': MediaType.OciIndex };
      if (filter !== null) headers['oci-filters-applied'] = 'artifactType';
      return json(200, { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: referrers }, headers);
    }),
  ];
}
