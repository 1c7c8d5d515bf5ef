import { readFileSync } from 'node:fs';
import {
  type Descriptor,
  definedProps,
  digestOf,
  EMPTY_DESCRIPTOR,
  EMPTY_JSON_DIGEST,
  GhcrErrorCode,
  InvalidManifestError,
  MediaType,
} from '@ghcr/oci-types';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildArtifactManifest, buildImageManifest, buildIndex } from './build.js';
import { descriptorOf } from './descriptor.js';
import { isImageManifest, isIndex } from './kinds.js';
import { parseManifest } from './parse.js';
import {
  annotationsArbitrary,
  descriptorArbitrary,
  digestArbitrary,
  mediaTypeArbitrary,
  platformDescriptorArbitrary,
  reverseKeys,
} from './testing/arbitraries.js';

const FIXTURES = new URL('../../../fixtures/', import.meta.url);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const d = (n: number, size = 10, mediaType: string = MediaType.OciLayerGzip): Descriptor => ({
  mediaType,
  digest: `sha256:${n.toString(16).padStart(64, '0')}` as const,
  size,
});
const config = d(0xc0, 5, MediaType.OciConfig);

function invalid(action: () => unknown): InvalidManifestError {
  try {
    action();
  } catch (error) {
    expect(InvalidManifestError.isInstance(error), String(error)).toBe(true);
    return error as InvalidManifestError;
  }
  throw new Error('expected an InvalidManifestError');
}

describe('buildImageManifest', () => {
  it('rebuilds the fixture image from its config and layers, with the same content', () => {
    const fixture = parseManifest(readFileSync(new URL('manifests/oci-image-manifest.json', FIXTURES)));
    if (fixture.kind !== 'oci-manifest') throw new Error('fixture kind');
    const built = buildImageManifest({
      config: fixture.manifest.config,
      layers: fixture.manifest.layers,
      ...definedProps({ annotations: fixture.manifest.annotations }),
    });
    expect(built.manifest).toEqual(fixture.manifest);
    // Same content, canonical bytes: keys sorted, so not the fixture's own bytes.
    expect(text(built.bytes)).toBe(
      '{"annotations":{"org.opencontainers.image.created":"2026-01-01T00:00:00Z"},"config":{"digest":"sha256:5754e17d84624f562611e6e9cab6febc636104a61f6067214298147b19be12e6","mediaType":"application/vnd.oci.image.config.v1+json","size":459},"layers":[{"digest":"sha256:9e241ba9d7ddde736dce2b7a04ef4705cdc499e5a045837c308584803b4bcae2","mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":139},{"digest":"sha256:efdf2416218e3e3ef07967e85a9909716157d189b3c27380ea3e2f7885524092","mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":138}],"mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2}',
    );
    expect(built.digest).toBe(digestOf(built.bytes));
    expect(built.size).toBe(built.bytes.byteLength);
  });

  it('builds a Docker v2 schema 2 manifest', () => {
    const built = buildImageManifest({ config, layers: [d(1)], mediaType: 'docker' });
    expect(built.kind).toBe('docker-manifest');
    expect(built.mediaType).toBe(MediaType.DockerManifest);
    expect(built.manifest.mediaType).toBe(MediaType.DockerManifest);
  });

  it('accepts the empty blob with size 0, and nothing else with size 0', () => {
    const emptyBlob = {
      mediaType: MediaType.OciLayer,
      digest: 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' as const,
      size: 0,
    };
    expect(buildImageManifest({ config, layers: [emptyBlob] }).manifest.layers[0]).toEqual(emptyBlob);
    const error = invalid(() => buildImageManifest({ config, layers: [d(1), d(2, 0)] }));
    expect(error.field).toBe('layers.1.size');
    expect(error.message).toMatch(/layers\.1\.size is 0; give the real size/);
  });

  const refused: [string, () => unknown, string, RegExp][] = [
    [
      'a bad layer digest',
      () => buildImageManifest({ config, layers: [{ ...d(1), digest: 'sha256:1' }] }),
      'layers.0.digest',
      /must be a digest/,
    ],
    [
      'a negative size',
      () => buildImageManifest({ config: { ...config, size: -5 }, layers: [] }),
      'config.size',
      /at least 0/,
    ],
    [
      'a missing config',
      () => buildImageManifest({ layers: [] } as never),
      'config',
      /must be a descriptor object/,
    ],
    [
      'layers that are not an array',
      () => buildImageManifest({ config, layers: 'x' } as never),
      'layers',
      /must be an array/,
    ],
    [
      'a bad layer media type',
      () => buildImageManifest({ config, layers: [{ ...d(1), mediaType: 'tar' }] }),
      'layers.0.mediaType',
      /RFC 6838/,
    ],
    [
      'a bad subject',
      () => buildImageManifest({ config, layers: [], subject: { ...d(3), size: 0 } }),
      'subject.size',
      /is 0/,
    ],
    [
      'non-string annotations',
      () => buildImageManifest({ config, layers: [], annotations: { a: 1 } as never }),
      'annotations.a',
      /must be a string/,
    ],
    [
      'a bad artifactType',
      () => buildImageManifest({ config, layers: [], artifactType: 'sbom' }),
      'artifactType',
      /RFC 6838/,
    ],
    [
      'an empty config without artifactType',
      () => buildImageManifest({ config: { ...EMPTY_DESCRIPTOR }, layers: [] }),
      'artifactType',
      /required when the config is the empty descriptor/,
    ],
    [
      'subject on Docker',
      () => buildImageManifest({ config, layers: [], subject: d(3), mediaType: 'docker' }),
      'subject',
      /Docker formats have no "subject"/,
    ],
    [
      'annotations on Docker',
      () => buildImageManifest({ config, layers: [], annotations: {}, mediaType: 'docker' }),
      'annotations',
      /Docker formats/,
    ],
    [
      'artifactType on Docker',
      () => buildImageManifest({ config, layers: [], artifactType: 'a/b', mediaType: 'docker' }),
      'artifactType',
      /Docker formats/,
    ],
    [
      'an unknown format',
      () => buildImageManifest({ config, layers: [], mediaType: 'v1' as never }),
      'mediaType',
      /'oci' or 'docker'/,
    ],
    [
      'a descriptor that is not an object',
      () => buildImageManifest({ config, layers: [null as never] }),
      'layers.0',
      /must be a descriptor object .*, got null/,
    ],
  ];
  for (const [label, action, field, message] of refused) {
    it(`refuses ${label}, naming ${field}`, () => {
      const error = invalid(action);
      expect(error.field).toBe(field);
      expect(error.message).toMatch(message);
      expect(error.code).toBe(GhcrErrorCode.INVALID_MANIFEST);
    });
  }
});

describe('"__proto__" keys in build input', () => {
  it('are refused by name rather than silently dropped', () => {
    const annotations = JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string>;
    expect(invalid(() => buildImageManifest({ config, layers: [], annotations })).field).toBe(
      'annotations.__proto__',
    );
    const layer = { ...d(1), annotations };
    expect(invalid(() => buildImageManifest({ config, layers: [layer] })).field).toBe(
      'layers.0.annotations.__proto__',
    );
    expect(invalid(() => buildIndex({ manifests: [], annotations })).field).toBe('annotations.__proto__');
  });
});

describe('buildArtifactManifest', () => {
  it('uses the empty descriptor as config and as the single layer when there are no blobs', () => {
    const built = buildArtifactManifest({ artifactType: 'application/vnd.example.thing+json', blobs: [] });
    expect(built.kind).toBe('oci-manifest');
    if (built.kind !== 'oci-manifest') return;
    expect(built.manifest.artifactType).toBe('application/vnd.example.thing+json');
    expect(built.manifest.config).toEqual(EMPTY_DESCRIPTOR);
    expect(built.manifest.layers).toEqual([EMPTY_DESCRIPTOR]);
    expect(built.manifest.config.digest).toBe(EMPTY_JSON_DIGEST);
  });

  it('keeps blobs, subject, annotations and a given config', () => {
    const subjectManifest = buildImageManifest({ config, layers: [d(1)] });
    const subject = descriptorOf(subjectManifest);
    const ownConfig = d(0xcf, 30, 'application/vnd.example.config+json');
    const built = buildArtifactManifest({
      artifactType: 'application/spdx+json',
      blobs: [d(7, 99, 'application/spdx+json')],
      subject,
      annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
      config: ownConfig,
    });
    if (built.kind !== 'oci-manifest') throw new Error('kind');
    expect(built.manifest.subject).toEqual(subject);
    expect(built.manifest.config).toEqual(ownConfig);
    expect(built.manifest.layers).toEqual([d(7, 99, 'application/spdx+json')]);
    expect(descriptorOf(built).artifactType).toBe('application/spdx+json');
  });

  it('refuses a missing or malformed artifactType and non-array blobs', () => {
    expect(invalid(() => buildArtifactManifest({ artifactType: '', blobs: [] })).field).toBe('artifactType');
    expect(invalid(() => buildArtifactManifest({ blobs: [] } as never)).field).toBe('artifactType');
    expect(invalid(() => buildArtifactManifest({ artifactType: 'a/b', blobs: {} as never })).field).toBe(
      'blobs',
    );
  });
});

describe('buildIndex', () => {
  it('rebuilds the fixture index from descriptorOf the fixture manifests', () => {
    const amd64 = parseManifest(readFileSync(new URL('manifests/oci-image-manifest.json', FIXTURES)));
    const arm64 = parseManifest(readFileSync(new URL('manifests/oci-image-manifest-arm64.json', FIXTURES)));
    const fixture = parseManifest(readFileSync(new URL('manifests/oci-index-2-platforms.json', FIXTURES)));
    const built = buildIndex({
      manifests: [
        descriptorOf(amd64, { platform: { architecture: 'amd64', os: 'linux' } }),
        descriptorOf(arm64, {
          platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
          annotations: { 'org.opencontainers.image.description': 'fixture' },
        }),
      ],
    });
    expect(built.manifest).toEqual(fixture.manifest);
    expect(built.manifest.manifests.map((entry) => entry.size)).toEqual([629, 629]);
  });

  it('builds a Docker manifest list with a platform on every entry', () => {
    const built = buildIndex({
      manifests: [
        { ...d(1, 583, MediaType.DockerManifest), platform: { os: 'linux', architecture: 'amd64' } },
      ],
      mediaType: 'docker',
    });
    expect(built.kind).toBe('docker-manifest-list');
    const error = invalid(() =>
      buildIndex({
        manifests: [
          { ...d(1, 583, MediaType.DockerManifest), platform: { os: 'linux', architecture: 'amd64' } },
          d(2, 583, MediaType.DockerManifest),
        ],
        mediaType: 'docker',
      }),
    );
    expect(error.field).toBe('manifests.1.platform');
  });

  it('builds an empty index and one with subject, artifactType and annotations', () => {
    expect(buildIndex({ manifests: [] }).manifest.manifests).toEqual([]);
    const built = buildIndex({
      manifests: [d(1, 5, MediaType.OciManifest)],
      subject: d(2, 5, MediaType.OciManifest),
      artifactType: 'application/vnd.example.bundle+json',
      annotations: { a: 'b' },
    });
    if (built.kind !== 'oci-index') throw new Error('kind');
    expect(built.manifest.subject?.digest).toBe(d(2).digest);
    expect(built.manifest.artifactType).toBe('application/vnd.example.bundle+json');
  });

  const refused: [string, () => unknown, string, RegExp][] = [
    [
      'size 0 (the seed bug)',
      () => buildIndex({ manifests: [d(1, 5), d(2, 0)] }),
      'manifests.1.size',
      /manifests\.1\.size is 0.*GHCR/,
    ],
    [
      'the empty blob as an entry',
      () =>
        buildIndex({
          manifests: [
            {
              ...d(1),
              digest: 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
              size: 0,
            },
          ],
        }),
      'manifests.0.size',
      /is 0/,
    ],
    [
      'a bad digest',
      () => buildIndex({ manifests: [{ ...d(1), digest: 'sha256:zz' }] }),
      'manifests.0.digest',
      /must be a digest/,
    ],
    [
      'a missing digest',
      () => buildIndex({ manifests: [{ mediaType: MediaType.OciManifest, size: 3 } as never] }),
      'manifests.0.digest',
      /is required/,
    ],
    [
      'a malformed platform',
      () => buildIndex({ manifests: [{ ...d(1), platform: { os: 'linux' } as never }] }),
      'manifests.0.platform.architecture',
      /is required/,
    ],
    [
      'manifests that are not an array',
      () => buildIndex({ manifests: undefined as never }),
      'manifests',
      /must be an array/,
    ],
    [
      'subject on a Docker list',
      () => buildIndex({ manifests: [], subject: d(1), mediaType: 'docker' }),
      'subject',
      /Docker formats/,
    ],
    [
      'an unknown format',
      () => buildIndex({ manifests: [], mediaType: 'x' as never }),
      'mediaType',
      /'oci' or 'docker'/,
    ],
  ];
  for (const [label, action, field, message] of refused) {
    it(`refuses ${label}, naming ${field}`, () => {
      const error = invalid(action);
      expect(error.field).toBe(field);
      expect(error.message).toMatch(message);
    });
  }
});

describe('build → parse round trips (properties)', () => {
  const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

  it('image manifests', () => {
    fc.assert(
      fc.property(
        descriptorArbitrary,
        fc.array(descriptorArbitrary, { maxLength: 5 }),
        optional(annotationsArbitrary),
        optional(descriptorArbitrary),
        optional(mediaTypeArbitrary),
        (configDescriptor, layers, annotations, subject, artifactType) => {
          const input = {
            config: configDescriptor,
            layers,
            ...definedProps({ annotations, subject, artifactType }),
          };
          const built = buildImageManifest(input);
          const parsed = parseManifest(built.bytes, {
            contentType: built.mediaType,
            expectedDigest: built.digest,
          });
          expect(parsed.manifest).toEqual(built.manifest);
          expect(parsed.kind).toBe('oci-manifest');
          expect(built.digest).toBe(digestOf(built.bytes));
          expect(built.size).toBe(built.bytes.byteLength);
          if (built.kind !== 'oci-manifest') return;
          expect(built.manifest.config).toEqual(configDescriptor);
          expect(built.manifest.layers).toEqual(layers);
          expect(built.manifest.annotations).toEqual(annotations);
          expect(built.manifest.subject).toEqual(subject);
          // Building twice, or from the same input with its keys in another order, gives the same bytes.
          expect(buildImageManifest(input).bytes).toEqual(built.bytes);
          expect(buildImageManifest(reverseKeys(input)).bytes).toEqual(built.bytes);
        },
      ),
    );
  });

  it('docker manifests', () => {
    fc.assert(
      fc.property(
        descriptorArbitrary,
        fc.array(descriptorArbitrary, { maxLength: 4 }),
        (configDescriptor, layers) => {
          const built = buildImageManifest({ config: configDescriptor, layers, mediaType: 'docker' });
          const parsed = parseManifest(built.bytes);
          expect(parsed.kind).toBe('docker-manifest');
          expect(parsed.manifest).toEqual(built.manifest);
          expect(parsed.digest).toBe(built.digest);
        },
      ),
    );
  });

  it('artifact manifests', () => {
    fc.assert(
      fc.property(
        mediaTypeArbitrary,
        fc.array(descriptorArbitrary, { maxLength: 3 }),
        optional(descriptorArbitrary),
        (artifactType, blobs, subject) => {
          const built = buildArtifactManifest({
            artifactType,
            blobs,
            ...definedProps({ subject }),
          });
          const parsed = parseManifest(text(built.bytes));
          expect(isImageManifest(parsed)).toBe(true);
          expect(parsed.manifest).toEqual(built.manifest);
          expect(parsed.digest).toBe(digestOf(built.bytes));
          expect(buildArtifactManifest({ artifactType, blobs, ...definedProps({ subject }) }).bytes).toEqual(
            built.bytes,
          );
        },
      ),
    );
  });

  it('indexes with platforms, OCI and Docker', () => {
    fc.assert(
      fc.property(
        fc.array(platformDescriptorArbitrary, { maxLength: 5 }),
        optional(annotationsArbitrary),
        fc.boolean(),
        (manifests, annotations, docker) => {
          const input = docker
            ? { manifests, mediaType: 'docker' as const }
            : { manifests, ...definedProps({ annotations }) };
          const built = buildIndex(input);
          const parsed = parseManifest(built.bytes);
          expect(isIndex(parsed)).toBe(true);
          expect(parsed.kind).toBe(docker ? 'docker-manifest-list' : 'oci-index');
          expect(parsed.manifest).toEqual(built.manifest);
          expect(built.manifest.manifests).toEqual(manifests);
          expect(built.digest).toBe(digestOf(built.bytes));
          expect(buildIndex(reverseKeys(input)).bytes).toEqual(built.bytes);
        },
      ),
    );
  });

  it('never accepts size 0 in an index (property)', () => {
    fc.assert(
      fc.property(
        fc.array(platformDescriptorArbitrary, { minLength: 1, maxLength: 4 }),
        fc.nat(),
        digestArbitrary,
        (manifests, pick, digest) => {
          const position = pick % manifests.length;
          const broken = manifests.map((entry, index) =>
            index === position ? { ...entry, digest, size: 0 } : entry,
          );
          const error = invalid(() => buildIndex({ manifests: broken }));
          expect(error.field).toBe(`manifests.${position}.size`);
        },
      ),
    );
  });
});
