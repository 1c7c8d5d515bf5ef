import { buildImageManifest, type ParsedImageManifest } from '@ghcr/manifest';
import { EMPTY_JSON_DIGEST, MediaType } from '@ghcr/oci-types';

/** The `artifactType` of untag placeholders (image-spec v1.1 requires one with the empty config). @public */
export const UNTAG_PLACEHOLDER_ARTIFACT_TYPE = 'application/vnd.ghcr.untag-placeholder.v1+json';

/** The annotation holding a placeholder's unique id. @public */
export const UNTAG_PLACEHOLDER_ANNOTATION = 'io.ghcr.untag.placeholder';

/**
 * Builds a unique placeholder manifest for untagging on a registry without tag delete: an OCI image
 * manifest with the empty config, no layers, and annotations `org.opencontainers.image.created`
 * and `io.ghcr.untag.placeholder: <id>`. The unique id gives every placeholder its own digest, so
 * deleting it (a Packages API version on ghcr.io, a manifest elsewhere) removes only that tag.
 * @public
 */
export function buildUntagPlaceholder(id: string, createdAt: Date): ParsedImageManifest {
  return buildImageManifest({
    config: { mediaType: MediaType.OciEmpty, digest: EMPTY_JSON_DIGEST, size: 2 },
    layers: [],
    artifactType: UNTAG_PLACEHOLDER_ARTIFACT_TYPE,
    annotations: {
      'org.opencontainers.image.created': createdAt.toISOString(),
      [UNTAG_PLACEHOLDER_ANNOTATION]: id,
    },
  });
}

/** True when a parsed manifest is one of these placeholders. @public */
export function isUntagPlaceholder(manifest: { readonly kind: string; readonly manifest: unknown }): boolean {
  if (manifest.kind !== 'oci-manifest') return false;
  const document = manifest.manifest as { artifactType?: unknown; annotations?: Record<string, unknown> };
  return (
    document.artifactType === UNTAG_PLACEHOLDER_ARTIFACT_TYPE &&
    typeof document.annotations?.[UNTAG_PLACEHOLDER_ANNOTATION] === 'string'
  );
}
