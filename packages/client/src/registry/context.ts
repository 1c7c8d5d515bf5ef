import {
  type Digest,
  GhcrErrorCode,
  InvalidInputError,
  isValidRepositoryName,
  isValidTag,
  parseDigest,
} from '@ghcr/oci-types';
import type { Transport, TransportResponse } from '@ghcr/transport';
import type { ClientEventEmitter } from '../events.js';
import type { ClientSettings } from '../options.js';

/**
 * What every capability of one client shares.
 * @internal
 */
export interface ClientContext {
  readonly settings: ClientSettings;
  readonly transport: Transport;
  readonly events: ClientEventEmitter;
}

/**
 * Checks a repository name against the distribution-spec grammar.
 * @throws InvalidInputError saying what the grammar is.
 * @internal
 */
export function checkRepository(repository: string): string {
  if (!isValidRepositoryName(repository)) {
    throw new InvalidInputError(
      `invalid repository "${repository}": each "/"-separated component is lowercase letters and digits, separated by ".", "_", "__" or "-" (e.g. octo/app), with no registry host in front`,
      { code: GhcrErrorCode.INVALID_REFERENCE, input: repository },
    );
  }
  return repository;
}

/**
 * Checks a tag against the distribution-spec grammar.
 * @internal
 */
export function checkTag(tag: string): string {
  if (!isValidTag(tag)) {
    throw new InvalidInputError(
      `invalid tag "${tag}": a tag is 1 to 128 characters of letters, digits, "_", "." and "-", and does not start with "." or "-"`,
      { code: GhcrErrorCode.INVALID_REFERENCE, input: tag },
    );
  }
  return tag;
}

/**
 * A manifest reference: a digest (it contains ":") or a tag.
 * @internal
 */
export function parseManifestReference(
  reference: string,
): { kind: 'digest'; digest: Digest } | { kind: 'tag'; tag: string } {
  if (reference.includes(':')) return { kind: 'digest', digest: parseDigest(reference).digest };
  return { kind: 'tag', tag: checkTag(reference) };
}

/** `<base>/v2/<repository>/<rest>`. @internal */
export function registryUrl(context: ClientContext, repository: string, rest: string): string {
  return `${context.settings.baseUrl}/v2/${repository}/${rest}`;
}

/** One header value (the first when repeated). @internal */
export function header(response: TransportResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Resolves an upload `Location` (relative or absolute, RFC 7231 §7.1.2) against the URL that
 * returned it.
 * @internal
 */
export function resolveLocation(location: string, base: string): string {
  return new URL(location, base).href;
}

/**
 * Adds `name=value` to a URL's query, keeping the query it already has byte for byte
 * (docker-registry's `?_state=` is an HMAC-signed blob: re-encoding it is needless risk).
 * @internal
 */
export function appendQuery(url: string, name: string, value: string): string {
  const hash = url.indexOf('#');
  const base = hash >= 0 ? url.slice(0, hash) : url;
  const separator = base.includes('?') ? (base.endsWith('?') || base.endsWith('&') ? '' : '&') : '?';
  return `${base}${separator}${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
}

/**
 * Drops a response body without reading it (closing the connection). undici reports the abort as
 * an `error` event; nobody is reading, so it is swallowed here instead of surfacing as uncaught.
 * @internal
 */
export function release(body: TransportResponse['body']): void {
  body.on('error', () => {});
  body.destroy();
}

/** Releases a response body that is not needed. @internal */
export async function discard(response: TransportResponse): Promise<void> {
  try {
    await response.body.dump();
  } catch {
    // Nothing to do: the connection is released either way.
  }
}
