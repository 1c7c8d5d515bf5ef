import { type CosignTagKind, cosignTagsFor } from '@ghcr/manifest';
import { type Descriptor, parseDigest } from '@ghcr/oci-types';
import type { Manifests } from '../registry/manifests.js';

/**
 * The annotation that names the cosign legacy tag (`sha256-<hex>.sig`, `.att`, `.sbom`) a
 * referrer descriptor was found under. Present only on descriptors made from those tags.
 * @public
 */
export const COSIGN_TAG_ANNOTATION = 'io.ghcr.referrers.cosign-tag';

/**
 * The `artifactType` reported for what cosign's legacy tags hold, by kind: the types cosign itself
 * gives these artifacts when it stores them as OCI 1.1 referrers
 * (`application/vnd.dev.cosign.artifact.<sig|att|sbom>.v1+json`), so a filter finds both forms.
 * @public
 */
export const COSIGN_ARTIFACT_TYPES: Readonly<Record<CosignTagKind, string>> = {
  signature: 'application/vnd.dev.cosign.artifact.sig.v1+json',
  attestation: 'application/vnd.dev.cosign.artifact.att.v1+json',
  sbom: 'application/vnd.dev.cosign.artifact.sbom.v1+json',
};

const KINDS: readonly CosignTagKind[] = ['signature', 'attestation', 'sbom'];

/**
 * The manifests at cosign's legacy tags of `subject` (HEAD each of `.sig`, `.att`, `.sbom`, in
 * parallel), as referrer descriptors: media type, digest and size from the registry, the
 * `artifactType` of the cosign kind and {@link COSIGN_TAG_ANNOTATION} naming the tag. Digests
 * other than sha256 have no such tags: none.
 * @internal
 */
export async function cosignReferrers(
  manifests: Manifests,
  repository: string,
  subject: string,
  signal: AbortSignal | undefined,
  /** The repository's tags, when known: a tag not among them is not asked for. */
  presentTags?: ReadonlySet<string>,
): Promise<Descriptor[]> {
  if (parseDigest(subject).algorithm !== 'sha256') return [];
  const tags = cosignTagsFor(subject);
  const byKind: Record<CosignTagKind, string> = {
    signature: tags.signature,
    attestation: tags.attestation,
    sbom: tags.sbom,
  };
  const found = await Promise.all(
    KINDS.map(async (kind): Promise<Descriptor | undefined> => {
      const tag = byKind[kind];
      if (presentTags !== undefined && !presentTags.has(tag)) return undefined;
      const head = await manifests.head(repository, tag, signal === undefined ? {} : { signal });
      if (head === undefined) return undefined;
      return {
        mediaType: head.mediaType,
        digest: head.digest,
        size: head.size,
        artifactType: COSIGN_ARTIFACT_TYPES[kind],
        annotations: { [COSIGN_TAG_ANNOTATION]: tag },
      };
    }),
  );
  return found.filter((descriptor): descriptor is Descriptor => descriptor !== undefined);
}
