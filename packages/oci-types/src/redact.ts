/**
 * Redaction of secrets in URLs and free text, used before anything is stored on an error, a log
 * line, a span attribute, a metric label or a cassette.
 */

/**
 * Query parameter names whose values are credentials or signatures (`verify` signs Docker Hub's
 * CDN redirects: `?verify=<expiry>-<signature>`).
 */
const SENSITIVE_QUERY_NAMES =
  'sig|signature|verify|token|access_token|refresh_token|id_token|password|passwd|secret|client_secret|code|key|api_key|apikey|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential|skoid|sktid';
const SENSITIVE_QUERY = new RegExp(`^(?:${SENSITIVE_QUERY_NAMES})$`, 'i');

/** The value that replaces a secret. @public */
export const REDACTED = 'REDACTED';

/**
 * Returns `url` with user info removed and the values of credential-bearing query parameters
 * (signatures of GHCR's signed blob URLs, tokens, passwords) replaced by `REDACTED`. A string that
 * is not an absolute URL is returned with `?…` query values treated the same way.
 * @public
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    const q = url.indexOf('?');
    if (q < 0) return url;
    return `${url.slice(0, q)}?${redactQuery(url.slice(q + 1))}`;
  }
  if (parsed.username !== '' || parsed.password !== '') {
    parsed.username = '';
    parsed.password = '';
  }
  if (parsed.search === '') return parsed.toString();
  const base = parsed.toString().slice(0, parsed.toString().indexOf('?'));
  return `${base}?${redactQuery(parsed.search.slice(1))}${parsed.hash}`;
}

function redactQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const name = decodeURIComponentSafe(pair.slice(0, eq));
      return SENSITIVE_QUERY.test(name) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
    })
    .join('&');
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** A credential-bearing query parameter inside free text: `?sig=…` or `&token=…`, up to a delimiter. */
const SENSITIVE_QUERY_IN_TEXT = new RegExp(`([?&](?:${SENSITIVE_QUERY_NAMES})=)[^&#\\s"'<>]+`, 'gi');

/**
 * Replaces every occurrence of each secret in `text` with `REDACTED`. Secrets shorter than 4
 * characters are ignored (they would redact ordinary words). Also replaces
 * `Bearer <token>` and `Basic <credentials>` fragments, and the values of credential-bearing query
 * parameters of URLs quoted in the text (`?sig=…`, `&token=…`, as {@link redactUrl} does).
 * @public
 */
export function redactText(text: string, secrets: Iterable<string> = []): string {
  let out = text.replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`);
  out = out.replace(SENSITIVE_QUERY_IN_TEXT, `$1${REDACTED}`);
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    out = out.split(secret).join(REDACTED);
  }
  return out;
}
