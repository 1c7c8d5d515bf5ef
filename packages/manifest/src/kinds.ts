import type {
  Digest,
  DockerManifest,
  DockerManifestList,
  OciImageIndex,
  OciImageManifest,
} from '@ghcr/oci-types';

/**
 * The four kinds of manifest this package reads and builds.
 *
 * - `oci-manifest`: OCI image manifest (`application/vnd.oci.image.manifest.v1+json`), also used
 *   for artifacts.
 * - `oci-index`: OCI image index (`application/vnd.oci.image.index.v1+json`).
 * - `docker-manifest`: Docker image manifest v2 schema 2.
 * - `docker-manifest-list`: Docker manifest list (multi-platform).
 *
 * Docker schema 1 is recognised only to be refused (see {@link parseManifest}).
 * @public
 */
export type ManifestKind = 'oci-manifest' | 'oci-index' | 'docker-manifest' | 'docker-manifest-list';

/**
 * What every parsed manifest carries besides its document: the exact bytes it was read from (never
 * re-serialised), the digest over those bytes, their length and the media type it was read as.
 * @public
 */
export interface ParsedBase {
  /** The exact bytes, as received or as built. Their digest is {@link ParsedBase.digest}. */
  readonly bytes: Uint8Array;
  /** The digest over {@link ParsedBase.bytes} (sha256 unless an sha512 `expectedDigest` was given). */
  readonly digest: Digest;
  /** `bytes.byteLength`. */
  readonly size: number;
  /** The media type the manifest was read as (the Content-Type, the `mediaType` field or the shape). */
  readonly mediaType: string;
}

/**
 * A validated manifest of any kind, with its exact bytes. Discriminate on `kind`.
 * @public
 */
export type ParsedManifest =
  | (ParsedBase & { readonly kind: 'oci-manifest'; readonly manifest: OciImageManifest })
  | (ParsedBase & { readonly kind: 'oci-index'; readonly manifest: OciImageIndex })
  | (ParsedBase & { readonly kind: 'docker-manifest'; readonly manifest: DockerManifest })
  | (ParsedBase & { readonly kind: 'docker-manifest-list'; readonly manifest: DockerManifestList });

/** A parsed single-image manifest (OCI image manifest or Docker v2 schema 2). @public */
export type ParsedImageManifest = Extract<ParsedManifest, { kind: 'oci-manifest' | 'docker-manifest' }>;

/** A parsed index (OCI image index or Docker manifest list). @public */
export type ParsedIndex = Extract<ParsedManifest, { kind: 'oci-index' | 'docker-manifest-list' }>;

/**
 * The default size cap of {@link parseManifest}: 4 MiB, the limit registries (distribution,
 * GHCR) put on a manifest body.
 * @public
 */
export const DEFAULT_MAX_MANIFEST_BYTES: number = 4 * 1024 * 1024;

/** True when `manifest` is an OCI image index or a Docker manifest list. @public */
export function isIndex(manifest: ParsedManifest): manifest is ParsedIndex {
  return manifest.kind === 'oci-index' || manifest.kind === 'docker-manifest-list';
}

/** True when `manifest` is an OCI image manifest or a Docker v2 schema 2 manifest. @public */
export function isImageManifest(manifest: ParsedManifest): manifest is ParsedImageManifest {
  return manifest.kind === 'oci-manifest' || manifest.kind === 'docker-manifest';
}
