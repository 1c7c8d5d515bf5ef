import { buildIndex, type ParsedIndex, type ParsedManifest, referrersTagFor } from '@ghcr/manifest';

type OciIndexManifest = Extract<ParsedIndex, { readonly kind: 'oci-index' }>;

import { type Descriptor, definedProps, NotFoundError, ResourceConflictError } from '@ghcr/oci-types';
import { mapLimit } from '../registry/concurrency.js';
import type { ManifestLimits } from '../registry/dependencies.js';
import type { Manifests } from '../registry/manifests.js';

const signalOption = (signal: AbortSignal | undefined): { signal?: AbortSignal } =>
  signal === undefined ? {} : { signal };

/**
 * The manifest at a tag, or undefined when the tag does not exist.
 * @internal
 */
export async function getIfPresent(
  manifests: Manifests,
  repository: string,
  reference: string,
  signal: AbortSignal | undefined,
): Promise<ParsedManifest | undefined> {
  try {
    return await manifests.get(repository, reference, signalOption(signal));
  } catch (error) {
    if (NotFoundError.isInstance(error)) return undefined;
    throw error;
  }
}

/**
 * The referrers listed by the index at the fallback tag of `subject` (distribution-spec v1.1
 * "Referrers Tag Schema"), as written there. None when the tag is missing or holds something other
 * than an OCI image index (the spec: then assume there are no referrers).
 * @internal
 */
export async function fallbackTagReferrers(
  manifests: Manifests,
  repository: string,
  subject: string,
  signal: AbortSignal | undefined,
  /** The repository's tags, when known: a tag not among them is not asked for. */
  presentTags?: ReadonlySet<string>,
): Promise<Descriptor[]> {
  const tag = referrersTagFor(subject);
  if (presentTags !== undefined && !presentTags.has(tag)) return [];
  const found = await getIfPresent(manifests, repository, tag, signal);
  if (found === undefined || found.kind !== 'oci-index') return [];
  return [...found.manifest.manifests];
}

/**
 * The referrers-API `artifactType` of a manifest (distribution-spec v1.1 "Listing Referrers"): its
 * `artifactType`, else for an image manifest its config's media type; an index without one has none.
 * @internal
 */
export function referrerArtifactType(manifest: ParsedManifest): string | undefined {
  switch (manifest.kind) {
    case 'oci-manifest':
      return manifest.manifest.artifactType ?? manifest.manifest.config.mediaType;
    case 'oci-index':
      return manifest.manifest.artifactType;
    case 'docker-manifest':
      return manifest.manifest.config.mediaType;
    default:
      return undefined;
  }
}

function annotationsOf(manifest: ParsedManifest): Record<string, string> | undefined {
  if (manifest.kind === 'oci-manifest' || manifest.kind === 'oci-index') return manifest.manifest.annotations;
  return undefined;
}

/**
 * Fills in what the referrers API would have said about entries of a fallback index that lack an
 * `artifactType` (go-containerregistry and cosign do not lift it, nor annotations, into the index;
 * actions/attest-build-provenance's bundle index has neither, nor a platform): each such manifest
 * is fetched for its `artifactType` (or config media type) and annotations. Entries whose manifest
 * is gone are kept as written.
 * @internal
 */
export async function describeReferrers(
  deps: { readonly limits: Pick<ManifestLimits, 'concurrency'> },
  manifests: Manifests,
  repository: string,
  entries: readonly Descriptor[],
  signal: AbortSignal | undefined,
): Promise<Descriptor[]> {
  return mapLimit(entries, deps.limits.concurrency, async (entry) => {
    if (entry.artifactType !== undefined) return entry;
    const manifest = await getIfPresent(manifests, repository, entry.digest, signal);
    if (manifest === undefined) return entry;
    const artifactType = referrerArtifactType(manifest);
    const annotations = { ...(annotationsOf(manifest) ?? {}), ...(entry.annotations ?? {}) };
    return {
      ...entry,
      ...definedProps({ artifactType }),
      ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
    };
  });
}

/** How many times a read-modify-write of the fallback tag is tried when another writer races it. */
const MAX_UPDATE_ATTEMPTS = 3;

/**
 * Adds `referrer` to the index at the fallback tag of `subject` (distribution-spec v1.1 "Pushing
 * Manifests with Subject", when the registry sent no `OCI-Subject`): read the index (none: start
 * from an empty one), keep every entry, append the referrer unless it is listed already, push the
 * result (canonical serialisation by `buildIndex`) to the tag, then read it back; when another
 * writer replaced it in between and the referrer is missing, do it again (3 times at most).
 * Returns the tag and whether it was written.
 * @throws ResourceConflictError when the tag holds something other than an OCI image index, or the
 * referrer is still missing after the last attempt.
 * @internal
 */
export async function addToFallbackIndex(
  manifests: Manifests,
  repository: string,
  subject: string,
  referrer: Descriptor,
  where: string,
  signal: AbortSignal | undefined,
): Promise<{ readonly tag: string; readonly written: boolean }> {
  const tag = referrersTagFor(subject);
  let written = false;
  for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
    const current = await readFallbackIndex(manifests, repository, tag, where, signal);
    const entries = current?.manifest.manifests ?? [];
    if (entries.some((entry) => entry.digest === referrer.digest)) return { tag, written };
    const next = buildIndex({
      manifests: [...entries, referrer],
      ...(current?.manifest.annotations === undefined ? {} : { annotations: current.manifest.annotations }),
      ...(current?.manifest.artifactType === undefined
        ? {}
        : { artifactType: current.manifest.artifactType }),
    });
    await manifests.put(repository, next, { tags: [tag], ...signalOption(signal) });
    written = true;
    const check = await readFallbackIndex(manifests, repository, tag, where, signal);
    if (check?.manifest.manifests.some((entry) => entry.digest === referrer.digest) === true) {
      return { tag, written };
    }
  }
  throw new ResourceConflictError(
    `${where}: another client kept replacing the referrers tag ${tag} while ${referrer.digest} was being added (${MAX_UPDATE_ATTEMPTS} attempts); attach again once the other writer is done`,
  );
}

async function readFallbackIndex(
  manifests: Manifests,
  repository: string,
  tag: string,
  where: string,
  signal: AbortSignal | undefined,
): Promise<OciIndexManifest | undefined> {
  const current = await getIfPresent(manifests, repository, tag, signal);
  if (current === undefined) return undefined;
  if (current.kind !== 'oci-index') {
    throw new ResourceConflictError(
      `${where}: the referrers tag ${tag} holds a ${current.kind} (${current.digest}), not the OCI image index of referrers the tag schema expects; it was not overwritten. Move that tag away (tags.untag) and attach again`,
    );
  }
  return current;
}
