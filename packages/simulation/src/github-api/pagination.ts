/**
 * GitHub's page-number pagination: `page` (1-based) and `per_page` (default 30, capped at 100),
 * and a `Link` header with `next`, `prev`, `first` and `last` whose URLs keep the request's other
 * query parameters and always carry `per_page` (github/docs "Using pagination in the REST API").
 */

/** Default page size of GitHub list endpoints. @internal */
export const DEFAULT_PER_PAGE = 30;
/** Largest page size GitHub serves; larger values are capped. @internal */
export const MAX_PER_PAGE = 100;

/**
 * A page of items plus its `Link` header (absent when everything fits on one page).
 * @internal
 */
export interface Page<T> {
  readonly items: T[];
  readonly link?: string;
}

function positiveInteger(value: string | null, fallback: number): number {
  if (value === null || value.trim() === '') return fallback;
  const parsed = Number.parseInt(value, 10);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : fallback;
}

/**
 * Cuts `items` into the page the request asks for and builds its `Link` header.
 * @internal
 */
export function paginate<T>(items: readonly T[], url: URL): Page<T> {
  const perPage = Math.min(MAX_PER_PAGE, positiveInteger(url.searchParams.get('per_page'), DEFAULT_PER_PAGE));
  const page = positiveInteger(url.searchParams.get('page'), 1);
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const link = (target: number, rel: string): string => {
    const next = new URL(url.toString());
    next.searchParams.set('per_page', String(perPage));
    next.searchParams.set('page', String(target));
    return `<${next.toString()}>; rel="${rel}"`;
  };
  // GitHub's order: prev, next, last, first.
  const links: string[] = [];
  if (page > 1) links.push(link(Math.min(page - 1, lastPage), 'prev'));
  if (page < lastPage) links.push(link(page + 1, 'next'));
  if (page < lastPage) links.push(link(lastPage, 'last'));
  if (page > 1) links.push(link(1, 'first'));
  return links.length === 0 ? { items: slice } : { items: slice, link: links.join(', ') };
}
