/**
 * Redaction applied to every exchange before it reaches a cassette: credential headers, cookies,
 * signed-URL query parameters, and token or password fields of JSON and form bodies. The replayer
 * applies the same functions to live requests, so it matches on the redacted form.
 */

import { REDACTED, redactText, redactUrl } from '@ghcr/oci-types';
import type { CassetteEntry } from './cassette.js';
import type { RecordedHeaders } from './headers.js';

/**
 * Header names whose values never reach a cassette. `authorization` and `proxy-authorization`
 * keep their scheme (`Bearer REDACTED`); cookies keep their names.
 * @public
 */
export const REDACTED_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-registry-auth',
];

/**
 * JSON and form keys (matched case-insensitively, at any depth) whose values are replaced by
 * `REDACTED`.
 * @public
 */
export const REDACTED_BODY_KEYS: readonly string[] = [
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'password',
  'passwd',
  'client_secret',
];

/** Headers holding URLs that may carry signatures (GHCR's blob redirect). */
const URL_HEADERS = new Set(['location', 'content-location']);

/**
 * A user hook run on every entry after the built-in redaction and before it is written. It may
 * return a changed copy (blank more headers, rewrite inline bodies). The replayer runs it on each
 * live request too (as an entry without `response`), so a hook that changes the request URL or
 * headers must do so the same way for both.
 * @public
 */
export type RedactHook = (entry: CassetteEntry) => CassetteEntry;

function redactAuthorization(value: string): string {
  const space = value.indexOf(' ');
  return space > 0 ? `${value.slice(0, space)} ${REDACTED}` : REDACTED;
}

function redactCookie(value: string, separator: ';' | 'set-cookie'): string {
  if (separator === 'set-cookie') {
    // "name=value; Path=/; HttpOnly": only the first pair is the cookie.
    const semicolon = value.indexOf(';');
    const pair = semicolon < 0 ? value : value.slice(0, semicolon);
    const rest = semicolon < 0 ? '' : value.slice(semicolon);
    const eq = pair.indexOf('=');
    return eq < 0 ? `${REDACTED}${rest}` : `${pair.slice(0, eq)}=${REDACTED}${rest}`;
  }
  return value
    .split(';')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair : `${pair.slice(0, eq)}=${REDACTED}`;
    })
    .join(';');
}

function redactLink(value: string): string {
  return value.replace(/<([^>]*)>/g, (_match, url: string) => `<${redactUrl(url)}>`);
}

function redactHeaderValue(name: string, value: string): string {
  switch (name) {
    case 'authorization':
    case 'proxy-authorization':
      return redactAuthorization(value);
    case 'cookie':
      return redactCookie(value, ';');
    case 'set-cookie':
      return redactCookie(value, 'set-cookie');
    case 'link':
      return redactLink(value);
    default:
      if (URL_HEADERS.has(name)) return redactUrl(value);
      if (REDACTED_HEADERS.includes(name)) return REDACTED;
      return value;
  }
}

/**
 * Returns a copy of `headers` with credentials, cookies and signed URLs redacted.
 * @internal
 */
export function redactHeaders(headers: RecordedHeaders): RecordedHeaders {
  const out: RecordedHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = Array.isArray(value)
      ? value.map((item) => redactHeaderValue(name, item))
      : redactHeaderValue(name, value);
  }
  return out;
}

/**
 * The redacted form of a request URL (no user info; signature and token query values blanked).
 * @internal
 */
export function redactRequestUrl(url: string): string {
  return redactUrl(url);
}

/**
 * Redacts free text (an error message): URLs in it go through `redactUrl`, and `Bearer …` /
 * `Basic …` fragments are blanked.
 * @internal
 */
export function redactMessage(text: string): string {
  return redactText(text.replace(/https?:\/\/[^\s"'<>]+/g, (url) => redactUrl(url)));
}

function redactJsonValue(value: unknown, keys: ReadonlySet<string>): { value: unknown; changed: boolean } {
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const result = redactJsonValue(item, keys);
      changed ||= result.changed;
      return result.value;
    });
    return { value: out, changed };
  }
  if (typeof value === 'object' && value !== null) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (keys.has(key.toLowerCase()) && item !== null && typeof item !== 'object') {
        out[key] = REDACTED;
        changed ||= item !== REDACTED;
      } else {
        const result = redactJsonValue(item, keys);
        out[key] = result.value;
        changed ||= result.changed;
      }
    }
    return { value: out, changed };
  }
  return { value, changed: false };
}

/**
 * Whether a body of this content type is worth holding in memory (up to a limit) to redact it:
 * JSON, form-encoded and text bodies are; binary layers are not.
 * @internal
 */
export function isRedactableContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.toLowerCase();
  return type.includes('json') || type.includes('x-www-form-urlencoded') || type.startsWith('text/');
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes bytes as UTF-8 text, or returns `undefined` when they are not valid UTF-8 (or contain
 * NUL, which marks binary data).
 * @internal
 */
export function decodeText(bytes: Uint8Array): string | undefined {
  try {
    const text = UTF8.decode(bytes);
    return text.includes('\u0000') ? undefined : text;
  } catch {
    return undefined;
  }
}

/**
 * Redacts a whole (small) body: token and password fields of JSON and form bodies. Bodies with a `content-encoding` other than
 * `identity` are returned unchanged (their bytes are compressed).
 * @internal
 */
export function redactBody(
  bytes: Uint8Array,
  contentType: string | undefined,
  contentEncoding: string | undefined,
): { bytes: Uint8Array; changed: boolean } {
  if (contentEncoding !== undefined && contentEncoding.toLowerCase() !== 'identity') {
    return { bytes, changed: false };
  }
  const text = decodeText(bytes);
  if (text === undefined) return { bytes, changed: false };
  const keys = new Set(REDACTED_BODY_KEYS);
  let out = text;
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const result = redactJsonValue(JSON.parse(text), keys);
      if (result.changed) out = JSON.stringify(result.value);
    } catch {
      // Not JSON after all: fall through to the text rules.
    }
  } else if (contentType?.toLowerCase().includes('x-www-form-urlencoded') === true) {
    out = text
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        if (eq < 0) return pair;
        let name = pair.slice(0, eq);
        try {
          name = decodeURIComponent(name.replace(/\+/g, ' '));
        } catch {
          // keep the raw name
        }
        return keys.has(name.toLowerCase()) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
      })
      .join('&');
  }
  // No free-text rules on bodies: "Basic authentication" in a manifest annotation must survive,
  // or the manifest's digest would change.
  if (out === text) return { bytes, changed: false };
  return { bytes: Buffer.from(out, 'utf8'), changed: true };
}
