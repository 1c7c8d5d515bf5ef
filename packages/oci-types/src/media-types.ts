/**
 * Media types of the OCI image-spec v1.1 and of Docker's image formats.
 * @see https://github.com/opencontainers/image-spec/blob/v1.1.0/media-types.md
 */

/** @public */
export const MediaType = {
  /** OCI image manifest. */
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  /** OCI image index. */
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  /** OCI image config. */
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  /** OCI image layout header file (`oci-layout`); not a registry media type. */
  OciLayoutHeader: 'application/vnd.oci.layout.header.v1+json',
  /** Uncompressed tar layer. */
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  /** gzip-compressed tar layer. */
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  /** zstd-compressed tar layer. */
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  /** Non-distributable layers (deprecated in image-spec v1.1, still seen). */
  OciLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  OciLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  OciLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  /** The empty JSON descriptor's media type (`{}`), for artifacts without a config. */
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  /** Docker image manifest v2 schema 2. */
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  /** Docker manifest list (multi-platform). */
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  /** Docker container config. */
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  /** Docker gzip layer. */
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  /** Docker foreign (non-distributable) layer. */
  DockerLayerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  /** Docker plugin config. */
  DockerPluginConfig: 'application/vnd.docker.plugin.v1+json',
  /** Docker schema 1 (legacy, refused by this library). */
  DockerManifestSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  /** Docker schema 1 signed (legacy, refused by this library). */
  DockerManifestSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** @public */
export type KnownMediaType = (typeof MediaType)[keyof typeof MediaType];

/** Media types of single-image manifests. @public */
export const IMAGE_MANIFEST_MEDIA_TYPES: readonly string[] = [
  MediaType.OciManifest,
  MediaType.DockerManifest,
];

/** Media types of manifest indexes / lists. @public */
export const INDEX_MEDIA_TYPES: readonly string[] = [MediaType.OciIndex, MediaType.DockerManifestList];

/** Every manifest media type this library reads, for an `Accept` header. @public */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MediaType.OciManifest,
  MediaType.OciIndex,
  MediaType.DockerManifest,
  MediaType.DockerManifestList,
];

/** Docker schema 1 media types, recognised only to be refused with a clear error. @public */
export const LEGACY_MANIFEST_MEDIA_TYPES: readonly string[] = [
  MediaType.DockerManifestSchema1,
  MediaType.DockerManifestSchema1Signed,
];

/**
 * The `Accept` header value for manifest requests: every supported type. Some registries
 * (distribution 2.8) answer 404 to an OCI manifest unless an OCI type is accepted.
 * @public
 */
export const MANIFEST_ACCEPT_HEADER: string = MANIFEST_MEDIA_TYPES.join(', ');

/** Layer media types (OCI and Docker). @public */
export const LAYER_MEDIA_TYPES: readonly string[] = [
  MediaType.OciLayer,
  MediaType.OciLayerGzip,
  MediaType.OciLayerZstd,
  MediaType.OciLayerNondistributable,
  MediaType.OciLayerNondistributableGzip,
  MediaType.OciLayerNondistributableZstd,
  MediaType.DockerLayerGzip,
  MediaType.DockerLayerForeignGzip,
];

/** The bytes of the OCI empty descriptor: `{}`. @public */
export const EMPTY_JSON_BYTES: Uint8Array = new Uint8Array([0x7b, 0x7d]);

/** sha256 of `{}`, the OCI empty descriptor's well-known digest. @public */
export const EMPTY_JSON_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

/**
 * The OCI empty descriptor (image-spec v1.1 "Guidance for an Empty Descriptor"), with `data` inlined.
 * @public
 */
export const EMPTY_DESCRIPTOR = {
  mediaType: MediaType.OciEmpty,
  digest: EMPTY_JSON_DIGEST,
  size: 2,
  data: 'e30=',
} as const;

/** True for the two index media types. @public */
export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && INDEX_MEDIA_TYPES.includes(mediaType);
}

/** True for the two image-manifest media types. @public */
export function isImageManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && IMAGE_MANIFEST_MEDIA_TYPES.includes(mediaType);
}

/** True for any supported manifest media type (image or index). @public */
export function isManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && MANIFEST_MEDIA_TYPES.includes(mediaType);
}
