import { descriptorOf, type ParsedManifest, parseManifest } from '@ghcr/manifest';
import {
  type Descriptor,
  type Digest,
  DigestMismatchError,
  definedProps,
  GhcrError,
  InvalidInputError,
  isDigest,
  MANIFEST_ACCEPT_HEADER,
  ProtocolError,
  parseDigest,
  UnsupportedMediaTypeError,
} from '@ghcr/oci-types';
import type { TransportResponse } from '@ghcr/transport';
import { mapLimit } from './concurrency.js';
import type { ManifestLimits, RegistryDependencies, RegistryEndpoint } from './dependencies.js';
import { checkRepository, checkTag, parseManifestReference } from './names.js';
import { readCapped, readDocument } from './read-body.js';
import { discard, header } from './responses.js';
import { registryUrl } from './urls.js';

/**
 * Manifest bytes to push: a `ParsedManifest` (from `parseManifest`, a `build*` function or a
 * `get`), or bytes with their media type. The bytes are sent exactly as given.
 * @public
 */
export type ManifestContent = Pick<ParsedManifest, 'bytes' | 'mediaType'>;

/**
 * Options of manifest reads.
 * @public
 */
export interface GetManifestOptions {
  /** Largest manifest accepted. If omitted, the client's `maxManifestBytes` (4 MiB). */
  readonly maxBytes?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Options of {@link Manifests.put}.
 * @public
 */
export interface PutManifestOptions {
  /** Tags to push it under (in parallel, under the client's `concurrency`). If omitted or empty, pushed by digest. */
  readonly tags?: readonly string[] | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Options of {@link Manifests.delete}.
 * @public
 */
export interface DeleteManifestOptions {
  readonly signal?: AbortSignal | undefined;
}

/**
 * The manifest operations of one registry. References are a tag (`v1`) or a digest (`sha256:…`).
 * @public
 */
export interface Manifests {
  /**
   * GET with an `Accept` of every supported type. The bytes are kept exactly; by digest they must
   * hash to it, by tag to the registry's `Docker-Content-Digest`. Reading stops past the size cap.
   * @throws NotFoundError (`MANIFEST_UNKNOWN`), DigestMismatchError, ProtocolError `GHCR_MANIFEST_TOO_LARGE`.
   */
  get(repository: string, reference: string, options?: GetManifestOptions): Promise<ParsedManifest>;
  /**
   * HEAD: the manifest's descriptor (media type, digest, size), or undefined when absent. When a
   * registry sends no `Docker-Content-Digest` for a tag, the manifest is fetched to compute it.
   */
  head(repository: string, reference: string, options?: GetManifestOptions): Promise<Descriptor | undefined>;
  /**
   * PUT the exact bytes under each tag (or by digest). Checks the registry's `Docker-Content-Digest`
   * against the bytes' digest and returns the descriptor.
   */
  put(repository: string, manifest: ManifestContent, options?: PutManifestOptions): Promise<Descriptor>;
  /**
   * DELETE by digest. ghcr.io has no registry delete (405 UNSUPPORTED): the error says to delete
   * the package version through the Packages API instead.
   */
  delete(repository: string, digest: string, options?: DeleteManifestOptions): Promise<void>;
}

const signalOption = (signal: AbortSignal | undefined): { signal?: AbortSignal | undefined } =>
  signal === undefined ? {} : { signal };

/**
 * Creates the manifest capability from its endpoint, event sink and manifest limits.
 * @internal
 */
export function createManifests(deps: RegistryDependencies<ManifestLimits>): Manifests {
  const maxBytesOf = (options: GetManifestOptions): number =>
    options.maxBytes ?? deps.limits.maxManifestBytes;
  const where = (repository: string, reference: string): string =>
    `manifest ${deps.endpoint.host}/${repository}${reference.includes(':') ? '@' : ':'}${reference}`;

  const get: Manifests['get'] = async (repository, reference, options = {}) => {
    checkRepository(repository);
    const ref = parseManifestReference(reference);
    const maxBytes = maxBytesOf(options);
    const what = where(repository, reference);
    const request = {
      operation: 'manifests.get',
      method: 'GET',
      url: registryUrl(deps, repository, `manifests/${reference}`),
      headers: { accept: MANIFEST_ACCEPT_HEADER },
      auth: { kind: 'registry', repository, actions: ['pull'] },
      ...signalOption(options.signal),
    } as const;
    const parseFetched = (response: TransportResponse, bytes: Uint8Array): ParsedManifest => {
      refuseWebPage(response, what);
      const reported = reportedDigest(response, what);
      if (ref.kind === 'digest' && reported !== undefined && sameAlgorithm(reported, ref.digest)) {
        if (reported !== ref.digest) {
          throw new DigestMismatchError(
            `${what}: the registry says it served ${reported}; fetch it again, and report the registry if it persists`,
            { expected: ref.digest, actual: reported },
          );
        }
      }
      const expectedDigest = ref.kind === 'digest' ? ref.digest : reported;
      const contentType = header(response, 'content-type');
      return parseManifest(bytes, {
        maxBytes,
        ...definedProps({ contentType, expectedDigest }),
      });
    };
    // A body cut off, or bytes that do not hash to the digest, are read again (a fresh GET).
    return readDocument(
      deps,
      request,
      {
        operation: 'manifests.get',
        repository,
        what,
        ...(ref.kind === 'digest' ? { digest: ref.digest } : {}),
      },
      async (response) => parseFetched(response, await readCapped(response, maxBytes, what)),
    );
  };

  return {
    get,
    async head(repository, reference, options = {}) {
      checkRepository(repository);
      const ref = parseManifestReference(reference);
      const response = await deps.endpoint.send({
        operation: 'manifests.head',
        method: 'HEAD',
        url: registryUrl(deps, repository, `manifests/${reference}`),
        headers: { accept: MANIFEST_ACCEPT_HEADER },
        auth: { kind: 'registry', repository, actions: ['pull'] },
        acceptStatus: [404],
        ...signalOption(options.signal),
      });
      await discard(response);
      if (response.status === 404) return undefined;
      const what = where(repository, reference);
      refuseWebPage(response, what);
      const digest = reportedDigest(response, what) ?? (ref.kind === 'digest' ? ref.digest : undefined);
      const size = Number(header(response, 'content-length'));
      const mediaType = header(response, 'content-type')?.split(';')[0]?.trim();
      if (
        digest === undefined ||
        !Number.isSafeInteger(size) ||
        mediaType === undefined ||
        mediaType === ''
      ) {
        // Some registries answer HEAD by tag without the digest: fall back to reading it.
        return descriptorOf(await get(repository, reference, options));
      }
      return { mediaType, digest, size };
    },
    async put(repository, manifest, options = {}) {
      checkRepository(repository);
      const tags = [...new Set(options.tags ?? [])].map(checkTag);
      const parsed = parseManifest(manifest.bytes, {
        contentType: manifest.mediaType,
        maxBytes: deps.limits.maxManifestBytes,
      });
      const references = tags.length === 0 ? [parsed.digest] : tags;
      await mapLimit(references, deps.limits.concurrency, (reference) =>
        putOne(deps, repository, parsed, reference, options.signal),
      );
      const descriptor = descriptorOf(parsed);
      deps.events.emit('pushed', {
        kind: 'manifest',
        registry: deps.endpoint.host,
        repository,
        digest: parsed.digest,
        size: parsed.size,
        mediaType: parsed.mediaType,
        tags,
      });
      return descriptor;
    },
    async delete(repository, digest, options = {}) {
      checkRepository(repository);
      if (!isDigest(digest)) {
        throw new InvalidInputError(
          `manifests.delete takes a digest, got "${digest}": registries delete manifests by digest; to remove a tag use tags.untag`,
          { input: digest },
        );
      }
      await deleteByDigest(deps, repository, digest, options.signal);
      deps.events.emit('deleted', {
        kind: 'manifest',
        registry: deps.endpoint.host,
        repository,
        digest,
        tags: [],
      });
    },
  };
}

/**
 * A registry API never answers a manifest request with HTML. When it does, the address is a web
 * site (`https://docker.io/v2/…` redirects to www.docker.com): say so, and what answered, instead
 * of parsing a page as a manifest or calling the image missing.
 * @throws ProtocolError naming the host that answered and what to check.
 */
function refuseWebPage(response: TransportResponse, what: string): void {
  const type = header(response, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'text/html' && type !== 'application/xhtml+xml') return;
  let answered = response.url;
  try {
    answered = new URL(response.url).origin;
  } catch {
    // Keep the redacted URL as given.
  }
  // Not retried: the same address gives the same page.
  throw new UnsupportedMediaTypeError(
    `${what}: ${answered} answered ${response.status} with an HTML page, not a manifest (a web site, a proxy's or captive portal's login page, or a quota page); check the registry address (Docker Hub is docker.io, whose API is registry-1.docker.io) and what sits between you and it, then retry`,
    { mediaType: type },
  );
}

/**
 * DELETE a manifest by digest (no event); a 405 / UNSUPPORTED becomes an explained error.
 * @internal
 */
export async function deleteByDigest(
  deps: { readonly endpoint: RegistryEndpoint },
  repository: string,
  digest: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  try {
    const response = await deps.endpoint.send({
      operation: 'manifests.delete',
      method: 'DELETE',
      url: registryUrl(deps, repository, `manifests/${digest}`),
      auth: { kind: 'registry', repository, actions: ['delete'] },
      ...signalOption(signal),
    });
    await discard(response);
  } catch (error) {
    throw explainDeleteFailure(deps, error, `manifest ${deps.endpoint.host}/${repository}@${digest}`);
  }
}

/**
 * PUT one reference; the registry's digest must be the bytes' digest. Returns the response headers
 * (the referrers capability reads `OCI-Subject` from them).
 * @internal
 */
export async function putOne(
  deps: { readonly endpoint: RegistryEndpoint },
  repository: string,
  parsed: ManifestContent & { readonly digest: string },
  reference: string,
  signal: AbortSignal | undefined,
): Promise<TransportResponse['headers']> {
  const response = await deps.endpoint.send({
    operation: 'manifests.put',
    method: 'PUT',
    url: registryUrl(deps, repository, `manifests/${reference}`),
    headers: { 'content-type': parsed.mediaType },
    body: Buffer.from(parsed.bytes.buffer, parsed.bytes.byteOffset, parsed.bytes.byteLength),
    contentLength: parsed.bytes.byteLength,
    auth: { kind: 'registry', repository, actions: ['pull', 'push'] },
    ...signalOption(signal),
  });
  await discard(response);
  const reported = header(response, 'docker-content-digest');
  if (
    reported !== undefined &&
    reported !== '' &&
    sameAlgorithm(reported, parsed.digest) &&
    reported !== parsed.digest
  ) {
    throw new DigestMismatchError(
      `PUT manifest ${deps.endpoint.host}/${repository}:${reference}: the registry stored it as ${reported}, not ${parsed.digest}; it altered the bytes, so references by digest will not match`,
      { expected: parsed.digest, actual: reported },
    );
  }
  return response.headers;
}

function reportedDigest(response: TransportResponse, what: string): Digest | undefined {
  const value = header(response, 'docker-content-digest');
  if (value === undefined || value === '') return undefined;
  try {
    return parseDigest(value).digest;
  } catch (error) {
    throw new ProtocolError(
      `${what}: the registry's Docker-Content-Digest "${value.slice(0, 80)}" is not a digest`,
      {
        cause: error,
      },
    );
  }
}

function sameAlgorithm(a: string, b: string): boolean {
  return a.slice(0, a.indexOf(':')) === b.slice(0, b.indexOf(':'));
}

/** A 405 / UNSUPPORTED on DELETE becomes an error that says what to do instead. @internal */
export function explainDeleteFailure(
  deps: { readonly endpoint: Pick<RegistryEndpoint, 'flavor'> },
  error: unknown,
  what: string,
): unknown {
  if (!GhcrError.isInstance(error)) return error;
  const status = error.http?.status;
  if (status !== 405 && error.code !== 'UNSUPPORTED') return error;
  const advice =
    deps.endpoint.flavor === 'ghcr'
      ? 'ghcr.io has no registry DELETE: delete the package version through the GitHub Packages API (client.versions) instead'
      : 'this registry does not allow deletes (for distribution/docker-registry set storage.delete.enabled: true)';
  return new ProtocolError(`cannot delete ${what}: ${advice}`, {
    code: 'UNSUPPORTED',
    cause: error,
    ...definedProps({ http: error.http }),
  });
}
