import { parseManifest } from '@ghcr/manifest';
import { type Descriptor, definedProps, GhcrError, MediaType, ProtocolError } from '@ghcr/oci-types';
import type { TransportResponse } from '@ghcr/transport';
import type { ManifestLimits, RegistryDependencies } from '../registry/dependencies.js';
import { nextLink } from '../registry/link-header.js';
import { readCapped } from '../registry/read-body.js';
import { header } from '../registry/responses.js';
import { registryUrl } from '../registry/urls.js';

/**
 * What the referrers API said.
 * - `listed`: it answered; `filtered` is true when every page said `OCI-Filters-Applied:
 *   artifactType` (so no client-side filtering is needed).
 * - `absent`: it answered 404 (or 405, or a 200 that is not an image index): the registry has no
 *   referrers API. `conclusive` is false for a `NAME_UNKNOWN` 404, which a registry with the API
 *   also gives for a repository that does not exist.
 * @internal
 */
export type ApiListing =
  | { readonly kind: 'listed'; readonly descriptors: Descriptor[]; readonly filtered: boolean }
  | { readonly kind: 'absent'; readonly conclusive: boolean };

/** Pages of one listing, at most (a registry whose Link loops is stopped). */
const MAX_PAGES = 10_000;

/**
 * `GET /v2/<name>/referrers/<digest>[?artifactType=…]`, following `Link: <…>; rel="next"`.
 * @internal
 */
export async function listFromApi(
  deps: Pick<RegistryDependencies<Pick<ManifestLimits, 'maxManifestBytes'>>, 'endpoint' | 'limits'>,
  repository: string,
  subject: string,
  artifactType: string | undefined,
  signal: AbortSignal | undefined,
): Promise<ApiListing> {
  const host = deps.endpoint.host;
  const query = artifactType === undefined ? '' : `?${new URLSearchParams({ artifactType })}`;
  const seen = new Set<string>();
  const descriptors: Descriptor[] = [];
  let filtered = artifactType !== undefined;
  for (let url: string | undefined = registryUrl(deps, repository, `referrers/${subject}${query}`); ; ) {
    if (seen.has(url) || seen.size >= MAX_PAGES) {
      throw new ProtocolError(
        `GET referrers of ${host}/${repository}@${subject}: the registry's Link header leads back to a page already read (${seen.size} pages); its pagination is broken`,
      );
    }
    seen.add(url);
    let response: TransportResponse;
    try {
      response = await deps.endpoint.send({
        operation: 'referrers.list',
        method: 'GET',
        url,
        headers: { accept: MediaType.OciIndex },
        auth: { kind: 'registry', repository, actions: ['pull'] },
        ...definedProps({ signal }),
      });
    } catch (error) {
      const status = GhcrError.isInstance(error) ? error.http?.status : undefined;
      // Only the first page decides whether the API exists; a later page failing is an error.
      if (seen.size === 1 && (status === 404 || status === 405)) {
        const code = GhcrError.isInstance(error) ? error.code : undefined;
        return { kind: 'absent', conclusive: code !== 'NAME_UNKNOWN' };
      }
      throw error;
    }
    const what = `referrers of ${host}/${repository}@${subject}`;
    const link = response.headers.link;
    const applied = (header(response, 'oci-filters-applied') ?? '').split(',').map((part) => part.trim());
    const bytes = await readCapped(
      response,
      deps.limits.maxManifestBytes,
      what,
      'raise maxManifestBytes to read a referrers list this long',
    );
    let page: Descriptor[];
    try {
      const parsed = parseManifest(bytes, { contentType: MediaType.OciIndex, maxBytes: bytes.byteLength });
      if (parsed.kind !== 'oci-index') throw new Error(`it is ${parsed.kind}`);
      page = [...parsed.manifest.manifests];
    } catch (error) {
      // A 200 that is not an image index (a proxy's page, a catch-all route) is no referrers API.
      if (seen.size === 1) return { kind: 'absent', conclusive: true };
      throw new ProtocolError(`${what}: page ${seen.size} is not an OCI image index`, { cause: error });
    }
    descriptors.push(...page);
    if (artifactType !== undefined && !applied.includes('artifactType')) filtered = false;
    url = nextLink(link, url);
    if (url === undefined) return { kind: 'listed', descriptors, filtered };
  }
}
