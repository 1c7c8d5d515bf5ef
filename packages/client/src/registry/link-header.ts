/**
 * The `rel="next"` target of an RFC 8288 `Link` header (`<url>; rel="next"`, possibly among other
 * comma-separated links), resolved against the URL of the request that returned it.
 * @internal
 */
export function nextLink(
  value: string | readonly string[] | undefined,
  requestUrl: string,
): string | undefined {
  if (value === undefined) return undefined;
  const headers = typeof value === 'string' ? [value] : value;
  for (const headerValue of headers) {
    for (const match of headerValue.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
      const target = match[1];
      const params = match[2] ?? '';
      const rel = /;\s*rel\s*=\s*"?([^";,]+)"?/i.exec(params)?.[1];
      if (target !== undefined && rel?.split(/\s+/).includes('next') === true) {
        return new URL(target, requestUrl).href;
      }
    }
  }
  return undefined;
}
