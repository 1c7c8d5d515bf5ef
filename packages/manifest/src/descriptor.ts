import type { Descriptor, Platform } from '@ghcr/oci-types';
import { definedProps } from '@ghcr/oci-types';
import type { ParsedManifest } from './kinds.js';

/**
 * Extra fields for {@link descriptorOf}.
 * @public
 */
export interface DescriptorExtras {
  /** The platform, for an index entry. If omitted, the descriptor has none. */
  readonly platform?: Platform;
  /** Annotations for the descriptor. If omitted, the descriptor has none. */
  readonly annotations?: Record<string, string>;
}

/**
 * The descriptor that points at a parsed manifest: its media type, digest and real size, plus
 * `artifactType` when the manifest has one (image-spec v1.1), and the given platform and
 * annotations. Use it for an index entry or a `subject`.
 * @public
 */
export function descriptorOf(manifest: ParsedManifest, extra: DescriptorExtras = {}): Descriptor {
  const artifactType =
    manifest.kind === 'oci-manifest' || manifest.kind === 'oci-index'
      ? manifest.manifest.artifactType
      : undefined;
  return {
    mediaType: manifest.mediaType,
    digest: manifest.digest,
    size: manifest.size,
    ...definedProps({ artifactType, platform: extra.platform, annotations: extra.annotations }),
  };
}
