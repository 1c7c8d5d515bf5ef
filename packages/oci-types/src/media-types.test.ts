import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_DESCRIPTOR,
  EMPTY_JSON_BYTES,
  EMPTY_JSON_DIGEST,
  IMAGE_MANIFEST_MEDIA_TYPES,
  INDEX_MEDIA_TYPES,
  isImageManifestMediaType,
  isIndexMediaType,
  isManifestMediaType,
  LAYER_MEDIA_TYPES,
  LEGACY_MANIFEST_MEDIA_TYPES,
  MANIFEST_ACCEPT_HEADER,
  MANIFEST_MEDIA_TYPES,
  MediaType,
} from './media-types.js';
import { descriptorSchema } from './schemas.js';

describe('the empty descriptor', () => {
  it('EMPTY_JSON_DIGEST really is the sha256 of {}', () => {
    expect(`sha256:${createHash('sha256').update('{}').digest('hex')}`).toBe(EMPTY_JSON_DIGEST);
    expect(EMPTY_JSON_DIGEST).toBe('sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });

  it('EMPTY_JSON_BYTES are the two bytes of {}', () => {
    expect(new TextDecoder().decode(EMPTY_JSON_BYTES)).toBe('{}');
    expect(`sha256:${createHash('sha256').update(EMPTY_JSON_BYTES).digest('hex')}`).toBe(EMPTY_JSON_DIGEST);
  });

  it('EMPTY_DESCRIPTOR is a valid descriptor whose inline data is {}', () => {
    expect(EMPTY_DESCRIPTOR.mediaType).toBe('application/vnd.oci.empty.v1+json');
    expect(EMPTY_DESCRIPTOR.size).toBe(EMPTY_JSON_BYTES.byteLength);
    expect(Buffer.from(EMPTY_DESCRIPTOR.data, 'base64').toString('utf8')).toBe('{}');
    expect(descriptorSchema.parse(EMPTY_DESCRIPTOR)).toEqual(EMPTY_DESCRIPTOR);
  });
});

describe('manifest media types', () => {
  it('the Accept header lists the 4 manifest types', () => {
    const listed = MANIFEST_ACCEPT_HEADER.split(',').map((type) => type.trim());
    expect(listed).toHaveLength(4);
    expect(new Set(listed)).toEqual(
      new Set([
        'application/vnd.oci.image.manifest.v1+json',
        'application/vnd.oci.image.index.v1+json',
        'application/vnd.docker.distribution.manifest.v2+json',
        'application/vnd.docker.distribution.manifest.list.v2+json',
      ]),
    );
    // Never the legacy schema 1, which this library refuses.
    for (const legacy of LEGACY_MANIFEST_MEDIA_TYPES) expect(MANIFEST_ACCEPT_HEADER).not.toContain(legacy);
  });

  it('partitions manifests into images and indexes', () => {
    expect([...IMAGE_MANIFEST_MEDIA_TYPES, ...INDEX_MEDIA_TYPES].sort()).toEqual(
      [...MANIFEST_MEDIA_TYPES].sort(),
    );
    for (const type of IMAGE_MANIFEST_MEDIA_TYPES) {
      expect(isImageManifestMediaType(type)).toBe(true);
      expect(isIndexMediaType(type)).toBe(false);
      expect(isManifestMediaType(type)).toBe(true);
    }
    for (const type of INDEX_MEDIA_TYPES) {
      expect(isIndexMediaType(type)).toBe(true);
      expect(isImageManifestMediaType(type)).toBe(false);
      expect(isManifestMediaType(type)).toBe(true);
    }
  });

  it.each([
    undefined,
    '',
    'application/json',
    MediaType.OciConfig,
    MediaType.DockerManifestSchema1Signed,
    MediaType.OciLayerGzip,
  ])('%j is not a manifest type', (type) => {
    expect(isManifestMediaType(type)).toBe(false);
    expect(isIndexMediaType(type)).toBe(false);
    expect(isImageManifestMediaType(type)).toBe(false);
  });

  it('spells the image-spec v1.1 and Docker types exactly', () => {
    expect(MediaType).toMatchObject({
      OciManifest: 'application/vnd.oci.image.manifest.v1+json',
      OciIndex: 'application/vnd.oci.image.index.v1+json',
      OciConfig: 'application/vnd.oci.image.config.v1+json',
      OciLayer: 'application/vnd.oci.image.layer.v1.tar',
      OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
      OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
      OciLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
      OciLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
      OciLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
      OciEmpty: 'application/vnd.oci.empty.v1+json',
      DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
      DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
      DockerConfig: 'application/vnd.docker.container.image.v1+json',
      DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
      DockerLayerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
      DockerManifestSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
      DockerManifestSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
    });
  });

  it('lists every layer type (gzip, zstd, uncompressed, non-distributable) and nothing else', () => {
    expect(LAYER_MEDIA_TYPES).toHaveLength(8);
    for (const type of LAYER_MEDIA_TYPES) expect(type).toMatch(/(layer|rootfs)/);
    expect(LAYER_MEDIA_TYPES).toContain(MediaType.OciLayerZstd);
    expect(LAYER_MEDIA_TYPES).toContain(MediaType.DockerLayerForeignGzip);
    expect(LAYER_MEDIA_TYPES).not.toContain(MediaType.OciConfig);
  });
});
