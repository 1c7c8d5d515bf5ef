/**
 * The absolute URL of an undici dispatch (`origin` + `path`, plus `query` when given).
 */

import type { Dispatcher } from 'undici';

/**
 * Builds the request URL of a dispatch the way undici does.
 * @internal
 */
export function requestUrl(options: Dispatcher.DispatchOptions): string {
  const origin = options.origin === undefined ? '' : String(options.origin).replace(/\/+$/, '');
  let path = options.path;
  const query = options.query;
  if (query !== undefined && query !== null && Object.keys(query).length > 0) {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query as Record<string, unknown>)) {
      if (value === undefined || value === null) continue;
      for (const item of Array.isArray(value) ? value : [value]) search.append(name, String(item));
    }
    path += `${path.includes('?') ? '&' : '?'}${search.toString()}`;
  }
  return `${origin}${path}`;
}
