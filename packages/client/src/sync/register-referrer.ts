import type { Descriptor } from '@ghcr/oci-types';
import { definedProps } from '@ghcr/oci-types';
import { COSIGN_TAG_ANNOTATION } from '../referrers/cosign.js';
import type { Referrers } from '../referrers/referrers.js';
import type { Tags } from '../registry/tags.js';

/**
 * Where a copied referrer was recorded at the destination: `api` (the registry indexes referrers
 * itself), `fallback-tag` (added to the subject's `sha256-<hex>` index), `cosign-tag` (cosign's
 * `sha256-<hex>.sig|.att|.sbom` tag).
 * @public
 */
export type RegisteredReferrer = 'api' | 'fallback-tag' | 'cosign-tag';

/**
 * Records a referrer that reached the destination where the destination's clients look for it:
 * cosign's legacy tag when it was found through one, else the referrers API or the fallback tag.
 * (The `referrerCopied` hook of a copy with referrers.)
 * @public
 */
export async function registerCopiedReferrer(
  destination: { readonly tags: Pick<Tags, 'tag'>; readonly referrers: Pick<Referrers, 'register'> },
  repository: string,
  subject: Descriptor,
  referrer: Descriptor,
): Promise<RegisteredReferrer> {
  const cosignTag = referrer.annotations?.[COSIGN_TAG_ANNOTATION];
  if (cosignTag !== undefined) {
    await destination.tags.tag(repository, referrer.digest, [cosignTag]);
    return 'cosign-tag';
  }
  const { [COSIGN_TAG_ANNOTATION]: _internal, ...annotations } = referrer.annotations ?? {};
  const entry: Descriptor = {
    mediaType: referrer.mediaType,
    digest: referrer.digest,
    size: referrer.size,
    ...definedProps({ artifactType: referrer.artifactType }),
    ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
  };
  const registered = await destination.referrers.register(repository, subject.digest, entry);
  return registered.method;
}
