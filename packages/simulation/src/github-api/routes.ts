/**
 * Parsing of GitHub Packages API paths (below the configured API base path) into routes. Package
 * names containing `/` must be URL-encoded (`team%2Fapp`), as on GitHub: an unencoded name yields
 * extra segments and matches nothing.
 */

/**
 * Whose packages a route addresses.
 * @internal
 */
export type OwnerScope =
  | { readonly kind: 'org'; readonly login: string }
  | { readonly kind: 'user'; readonly login: string }
  | { readonly kind: 'self' };

/**
 * A recognised API route.
 * @internal
 */
export type ApiRoute =
  | { readonly kind: 'user.get'; readonly login: string }
  | { readonly kind: 'user.self' }
  | { readonly kind: 'rate_limit' }
  | { readonly kind: 'packages.list'; readonly owner: OwnerScope }
  | {
      readonly kind: 'packages.get' | 'packages.delete' | 'packages.restore' | 'versions.list';
      readonly owner: OwnerScope;
      readonly packageType: string;
      readonly packageName: string;
    }
  | {
      readonly kind: 'versions.get' | 'versions.delete' | 'versions.restore';
      readonly owner: OwnerScope;
      readonly packageType: string;
      readonly packageName: string;
      /** The raw version id segment (validated by the handler). */
      readonly versionId: string;
    };

/** The log operation name of each route kind (matches the serving layer's classifier). @internal */
export const OPERATIONS: Record<ApiRoute['kind'], string> = {
  'user.get': 'api.users.get',
  'user.self': 'api.user.get',
  rate_limit: 'api.rate_limit',
  'packages.list': 'api.packages.list',
  'packages.get': 'api.packages.get',
  'packages.delete': 'api.packages.delete',
  'packages.restore': 'api.packages.restore',
  'versions.list': 'api.versions.list',
  'versions.get': 'api.versions.get',
  'versions.delete': 'api.versions.delete',
  'versions.restore': 'api.versions.restore',
};

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Splits the path below the API base into decoded segments, or undefined when the path is not
 * below it (or holds a malformed escape).
 * @internal
 */
export function apiSegments(pathname: string, basePath: string): string[] | undefined {
  if (basePath !== '' && pathname !== basePath && !pathname.startsWith(`${basePath}/`)) return undefined;
  const rest = pathname.slice(basePath.length).replace(/^\/+/, '').replace(/\/+$/, '');
  if (rest === '') return [];
  const segments: string[] = [];
  for (const raw of rest.split('/')) {
    const decoded = decode(raw);
    if (decoded === undefined) return undefined;
    segments.push(decoded);
  }
  return segments;
}

function ownerScope(segments: readonly string[]): { owner: OwnerScope; rest: readonly string[] } | undefined {
  const [first, second, third] = segments;
  if (first === 'user' && second === 'packages') return { owner: { kind: 'self' }, rest: segments.slice(2) };
  if (first === 'orgs' && second !== undefined && third === 'packages') {
    return { owner: { kind: 'org', login: second }, rest: segments.slice(3) };
  }
  if (first === 'users' && second !== undefined && third === 'packages') {
    return { owner: { kind: 'user', login: second }, rest: segments.slice(3) };
  }
  return undefined;
}

/**
 * Matches a method and path segments to a route; undefined when nothing matches (GitHub: 404).
 * HEAD is matched like GET.
 * @internal
 */
export function matchRoute(method: string, segments: readonly string[]): ApiRoute | undefined {
  const verb = method === 'HEAD' ? 'GET' : method;
  if (segments.length === 1 && segments[0] === 'user')
    return verb === 'GET' ? { kind: 'user.self' } : undefined;
  if (segments.length === 1 && segments[0] === 'rate_limit')
    return verb === 'GET' ? { kind: 'rate_limit' } : undefined;
  if (segments.length === 2 && segments[0] === 'users' && segments[1] !== undefined) {
    return verb === 'GET' ? { kind: 'user.get', login: segments[1] } : undefined;
  }
  const scoped = ownerScope(segments);
  if (scoped === undefined) return undefined;
  const { owner, rest } = scoped;
  if (rest.length === 0) return verb === 'GET' ? { kind: 'packages.list', owner } : undefined;
  const [packageType, packageName, third, versionId, fifth] = rest;
  if (packageType === undefined || packageName === undefined) return undefined;
  const base = { owner, packageType, packageName };
  if (rest.length === 2) {
    if (verb === 'GET') return { kind: 'packages.get', ...base };
    if (verb === 'DELETE') return { kind: 'packages.delete', ...base };
    return undefined;
  }
  if (rest.length === 3 && third === 'restore')
    return verb === 'POST' ? { kind: 'packages.restore', ...base } : undefined;
  if (third !== 'versions') return undefined;
  if (rest.length === 3) return verb === 'GET' ? { kind: 'versions.list', ...base } : undefined;
  if (versionId === undefined) return undefined;
  if (rest.length === 4) {
    if (verb === 'GET') return { kind: 'versions.get', ...base, versionId };
    if (verb === 'DELETE') return { kind: 'versions.delete', ...base, versionId };
    return undefined;
  }
  if (rest.length === 5 && fifth === 'restore') {
    return verb === 'POST' ? { kind: 'versions.restore', ...base, versionId } : undefined;
  }
  return undefined;
}
