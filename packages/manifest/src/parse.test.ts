import { readdirSync, readFileSync } from 'node:fs';
import {
  ConfigError,
  DigestMismatchError,
  definedProps,
  digestOf,
  EMPTY_DESCRIPTOR,
  GhcrErrorCode,
  InvalidInputError,
  InvalidManifestError,
  MediaType,
  ProtocolError,
  UnsupportedMediaTypeError,
} from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import { detectManifestMediaType } from './detect.js';
import { DEFAULT_MAX_MANIFEST_BYTES, isImageManifest, isIndex, type ParsedManifest } from './kinds.js';
import { parseManifest } from './parse.js';

const FIXTURES = new URL('../../../fixtures/manifests/', import.meta.url);

function readHeaders(name: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of readFileSync(new URL(`${name}.headers`, FIXTURES), 'utf8').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

const fixtureNames = readdirSync(FIXTURES).filter((name) => name.endsWith('.json'));

const EXPECTED_KIND: Record<string, ParsedManifest['kind']> = {
  'oci-image-manifest.json': 'oci-manifest',
  'oci-image-manifest-arm64.json': 'oci-manifest',
  'oci-index-2-platforms.json': 'oci-index',
  'docker-v2s2-manifest.json': 'docker-manifest',
  'docker-manifest-list-2-platforms.json': 'docker-manifest-list',
};

const HEX = 'a'.repeat(64);
const DIGEST = `sha256:${HEX}`;
const OTHER = `sha256:${'b'.repeat(64)}`;
const layer = (overrides: Record<string, unknown> = {}) => ({
  mediaType: MediaType.OciLayerGzip,
  digest: DIGEST,
  size: 10,
  ...overrides,
});
const ociManifest = (overrides: Record<string, unknown> = {}) => ({
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  config: { mediaType: MediaType.OciConfig, digest: OTHER, size: 5 },
  layers: [layer()],
  ...overrides,
});
const json = (value: unknown) => JSON.stringify(value);

/** Runs `action`, expects it to throw, and returns the error. */
function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

function invalid(input: unknown, options: Parameters<typeof parseManifest>[1] = {}): InvalidManifestError {
  const error = thrown(() => parseManifest(typeof input === 'string' ? input : json(input), options));
  expect(InvalidManifestError.isInstance(error), String(error)).toBe(true);
  return error as InvalidManifestError;
}

describe('parseManifest on the real fixtures', () => {
  it('has all five fixtures', () => {
    expect(fixtureNames.sort()).toEqual(Object.keys(EXPECTED_KIND).sort());
  });

  for (const name of fixtureNames) {
    describe(name, () => {
      const bytes = new Uint8Array(readFileSync(new URL(name, FIXTURES)));
      const headers = readHeaders(name);

      it('digests the exact bytes to the Docker-Content-Digest and sizes them as Content-Length', () => {
        const parsed = parseManifest(bytes, { contentType: headers['content-type'] as string });
        expect(parsed.digest).toBe(headers['docker-content-digest']);
        expect(parsed.size).toBe(Number(headers['content-length']));
        expect(parsed.kind).toBe(EXPECTED_KIND[name]);
        expect(parsed.mediaType).toBe(headers['content-type']);
        expect(Buffer.from(parsed.bytes).equals(Buffer.from(bytes))).toBe(true);
      });

      it('verifies expectedDigest and detects the same kind without a Content-Type or with a generic one', () => {
        const digest = headers['docker-content-digest'] as string;
        for (const contentType of [undefined, 'application/json', 'application/octet-stream', 'text/plain']) {
          const parsed = parseManifest(bytes, {
            expectedDigest: digest,
            ...definedProps({ contentType }),
          });
          expect(parsed.kind).toBe(EXPECTED_KIND[name]);
          expect(parsed.digest).toBe(digest);
        }
        expect(detectManifestMediaType(bytes)).toBe(headers['content-type']);
        expect(detectManifestMediaType(bytes, 'application/json; charset=utf-8')).toBe(
          headers['content-type'],
        );
      });

      it('parses from a string to the same digest', () => {
        const parsed = parseManifest(Buffer.from(bytes).toString('utf8'));
        expect(parsed.digest).toBe(headers['docker-content-digest']);
      });
    });
  }

  it('keeps unknown fields and freezes the result', () => {
    const bytes = readFileSync(new URL('oci-image-manifest.json', FIXTURES));
    const parsed = parseManifest(bytes);
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(Object.isFrozen(parsed.manifest)).toBe(true);
    const withExtra = parseManifest(json({ ...ociManifest(), 'x-extra': { kept: true } }));
    expect((withExtra.manifest as Record<string, unknown>)['x-extra']).toEqual({ kept: true });
  });

  it('copies the input so later writes to the caller buffer change nothing', () => {
    const bytes = new Uint8Array(readFileSync(new URL('oci-image-manifest.json', FIXTURES)));
    const parsed = parseManifest(bytes);
    bytes[0] = 0x20;
    expect(digestOf(parsed.bytes)).toBe(parsed.digest);
  });

  it('isIndex and isImageManifest split the kinds', () => {
    for (const name of fixtureNames) {
      const parsed = parseManifest(readFileSync(new URL(name, FIXTURES)));
      const index = name.includes('index') || name.includes('list');
      expect(isIndex(parsed)).toBe(index);
      expect(isImageManifest(parsed)).toBe(!index);
    }
  });
});

describe('media type detection', () => {
  it('takes a specific Content-Type over everything, parameters and case ignored', () => {
    const parsed = parseManifest(json(ociManifest({ mediaType: undefined })), {
      contentType: 'Application/VND.OCI.Image.Manifest.v1+json; charset=utf-8',
    });
    expect(parsed.kind).toBe('oci-manifest');
    expect(parsed.mediaType).toBe(MediaType.OciManifest);
  });

  it('falls back to the mediaType field, then to the shape', () => {
    expect(parseManifest(json(ociManifest())).kind).toBe('oci-manifest');
    expect(parseManifest(json(ociManifest({ mediaType: undefined }))).kind).toBe('oci-manifest');
    expect(parseManifest(json({ schemaVersion: 2, manifests: [] })).kind).toBe('oci-index');
    expect(parseManifest(json({ schemaVersion: 2, manifests: [] }), { contentType: '' }).mediaType).toBe(
      MediaType.OciIndex,
    );
  });

  it('detectManifestMediaType returns the header without reading the body', () => {
    expect(detectManifestMediaType(new Uint8Array([0xff]), 'application/vnd.oci.image.index.v1+json')).toBe(
      MediaType.OciIndex,
    );
  });

  it('detectManifestMediaType reports legacy and unknown types instead of refusing them', () => {
    const bytes = new TextEncoder().encode(json({ schemaVersion: 1, fsLayers: [] }));
    expect(detectManifestMediaType(bytes)).toBe(MediaType.DockerManifestSchema1);
    const signed = new TextEncoder().encode(json({ schemaVersion: 1, fsLayers: [], signatures: [] }));
    expect(detectManifestMediaType(signed)).toBe(MediaType.DockerManifestSchema1Signed);
    const unknown = new TextEncoder().encode(json({ mediaType: 'application/vnd.example+json' }));
    expect(detectManifestMediaType(unknown, 'application/octet-stream')).toBe('application/vnd.example+json');
  });

  it('detectManifestMediaType applies the size cap before parsing', () => {
    const error = thrown(() => detectManifestMediaType(new Uint8Array(11), undefined, { maxBytes: 10 }));
    expect((error as ProtocolError).code).toBe(GhcrErrorCode.MANIFEST_TOO_LARGE);
  });

  it('an undecidable shape is an InvalidManifestError naming mediaType', () => {
    const error = invalid({ schemaVersion: 2, hello: 'world' });
    expect(error.field).toBe('mediaType');
    expect(error.message).toMatch(/cannot tell which kind of manifest/);
    expect(thrown(() => detectManifestMediaType(new TextEncoder().encode('{}')))).toBeInstanceOf(Error);
  });
});

describe('parseManifest refuses', () => {
  it('a body over the cap before parsing it (GHCR_MANIFEST_TOO_LARGE, a ProtocolError)', () => {
    const tooBig = new Uint8Array(DEFAULT_MAX_MANIFEST_BYTES + 1); // zeros: not JSON, never parsed
    const error = thrown(() => parseManifest(tooBig));
    expect(ProtocolError.isInstance(error)).toBe(true);
    expect((error as ProtocolError).code).toBe(GhcrErrorCode.MANIFEST_TOO_LARGE);
    expect((error as Error).message).toMatch(/4194305 bytes, over the 4194304-byte limit/);
    const small = thrown(() => parseManifest(json(ociManifest()), { maxBytes: 16 }));
    expect((small as ProtocolError).code).toBe(GhcrErrorCode.MANIFEST_TOO_LARGE);
    // Exactly at the cap is fine.
    const exact = json(ociManifest());
    expect(parseManifest(exact, { maxBytes: Buffer.byteLength(exact) }).kind).toBe('oci-manifest');
  });

  it('a maxBytes that is not a positive integer (ConfigError)', () => {
    for (const maxBytes of [0, -1, 1.5, Number.NaN]) {
      const error = thrown(() => parseManifest(json(ociManifest()), { maxBytes }));
      expect(ConfigError.isInstance(error)).toBe(true);
      expect((error as ConfigError).field).toBe('maxBytes');
    }
  });

  it('bytes that do not match expectedDigest (DigestMismatchError with both digests)', () => {
    const text = json(ociManifest());
    const error = thrown(() => parseManifest(text, { expectedDigest: OTHER }));
    expect(DigestMismatchError.isInstance(error)).toBe(true);
    expect((error as DigestMismatchError).expected).toBe(OTHER);
    expect((error as DigestMismatchError).actual).toBe(digestOf(text));
  });

  it('an sha512 expectedDigest is verified with sha512', () => {
    const text = json(ociManifest());
    const sha512 = digestOf(text, 'sha512');
    expect(parseManifest(text, { expectedDigest: sha512 }).digest).toBe(sha512);
  });

  it('a malformed or uncomputable expectedDigest (InvalidInputError)', () => {
    expect(
      InvalidInputError.isInstance(thrown(() => parseManifest('{}', { expectedDigest: 'sha256:xyz' }))),
    ).toBe(true);
    expect(
      InvalidInputError.isInstance(thrown(() => parseManifest('{}', { expectedDigest: `blake3:${HEX}` }))),
    ).toBe(true);
  });

  it('bytes that are not UTF-8', () => {
    const error = thrown(() => parseManifest(new Uint8Array([0x7b, 0xff, 0x7d])));
    expect(InvalidManifestError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/not UTF-8/);
  });

  it('text that is not JSON, and JSON that is not an object', () => {
    expect(invalid('{"schemaVersion":').message).toMatch(/not valid JSON/);
    expect(invalid('[]').message).toMatch(/must be a JSON object, got an array/);
    expect(invalid('null').message).toMatch(/got null/);
    expect(invalid('"text"').message).toMatch(/must be a JSON object/);
  });

  it('a "__proto__" key anywhere, which zod would silently drop', () => {
    const nested = invalid(
      '{"schemaVersion":2,"config":{"mediaType":"a/b","digest":"' +
        DIGEST +
        '","size":1},"layers":[],"annotations":{"__proto__":"x"}}',
    );
    expect(nested.field).toBe('annotations.__proto__');
    expect(nested.message).toMatch(/silently differ from its bytes/);
    expect(invalid('{"schemaVersion":2,"manifests":[],"__proto__":{"annotations":{"a":"b"}}}').field).toBe(
      '__proto__',
    );
    expect(invalid('{"schemaVersion":2,"manifests":[{"__proto__":1}]}').field).toBe('manifests.0.__proto__');
  });

  it('a mediaType field that is not a string', () => {
    const error = invalid(ociManifest({ mediaType: 7 }));
    expect(error.field).toBe('mediaType');
    expect(error.message).toMatch(/mediaType must be a string, got 7/);
    expect(invalid(ociManifest({ mediaType: 7 }), { contentType: MediaType.OciManifest }).field).toBe(
      'mediaType',
    );
  });

  it('a Content-Type that disagrees with the mediaType field', () => {
    const error = invalid(ociManifest(), { contentType: MediaType.DockerManifest });
    expect(error.field).toBe('mediaType');
    expect(error.message).toContain(MediaType.DockerManifest);
    expect(error.message).toContain(MediaType.OciManifest);
  });

  describe('Docker schema 1, naming the legacy format and how to convert it', () => {
    const cases: [string, string, Parameters<typeof parseManifest>[1]][] = [
      [
        'the Content-Type',
        json({ schemaVersion: 1 }),
        { contentType: MediaType.DockerManifestSchema1Signed },
      ],
      ['the mediaType field', json({ schemaVersion: 2, mediaType: MediaType.DockerManifestSchema1 }), {}],
      ['schemaVersion 1', json({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }), {}],
      [
        'schemaVersion 1 under a v2 Content-Type',
        json({ schemaVersion: 1 }),
        { contentType: MediaType.DockerManifest },
      ],
      ['the fsLayers shape', json({ fsLayers: [] }), { contentType: 'application/json' }],
    ];
    for (const [label, text, options] of cases) {
      it(`recognised from ${label}`, () => {
        const error = thrown(() => parseManifest(text, options));
        expect(UnsupportedMediaTypeError.isInstance(error)).toBe(true);
        expect((error as UnsupportedMediaTypeError).code).toBe(GhcrErrorCode.UNSUPPORTED_MEDIA_TYPE);
        expect((error as Error).message).toMatch(/schema 1/);
        expect((error as Error).message).toMatch(/legacy format/);
        expect((error as Error).message).toMatch(/re-push|skopeo copy/);
      });
    }
  });

  describe('unknown media types (UnsupportedMediaTypeError naming the type)', () => {
    it('from the Content-Type, before the body is parsed', () => {
      const error = thrown(() => parseManifest('<html>not found</html>', { contentType: 'text/html' }));
      expect(UnsupportedMediaTypeError.isInstance(error)).toBe(true);
      expect((error as UnsupportedMediaTypeError).mediaType).toBe('text/html');
    });
    it('from the mediaType field', () => {
      const error = thrown(() =>
        parseManifest(json({ schemaVersion: 2, mediaType: 'application/vnd.example+json' })),
      );
      expect((error as UnsupportedMediaTypeError).mediaType).toBe('application/vnd.example+json');
      expect((error as Error).message).toMatch(/from the mediaType field/);
    });
    it('the withdrawn OCI artifact manifest, with a hint', () => {
      const error = thrown(() =>
        parseManifest('{}', { contentType: 'application/vnd.oci.artifact.manifest.v1+json' }),
      );
      expect((error as Error).message).toMatch(/artifactType/);
    });
  });

  describe('schema violations, naming the field and the problem', () => {
    const cases: [string, unknown, string, RegExp, Parameters<typeof parseManifest>[1]?][] = [
      ['wrong schemaVersion', ociManifest({ schemaVersion: 3 }), 'schemaVersion', /must be 2, got 3/],
      ['missing schemaVersion', ociManifest({ schemaVersion: undefined }), 'schemaVersion', /is required/],
      ['missing config', ociManifest({ config: undefined }), 'config', /config is required \(an object\)/],
      ['config not an object', ociManifest({ config: 'x' }), 'config', /must be an object, got "x"/],
      ['layers not an array', ociManifest({ layers: {} }), 'layers', /must be an array, got an object/],
      [
        'missing layer digest',
        ociManifest({ layers: [layer(), layer({ digest: undefined })] }),
        'layers.1.digest',
        /is required \(a string\)/,
      ],
      [
        'bad layer digest',
        ociManifest({ layers: [layer(), layer({ digest: 'sha256:abc' })] }),
        'layers.1.digest',
        /must be a digest.*got "sha256:abc"/,
      ],
      [
        'uppercase digest',
        ociManifest({ layers: [layer({ digest: `sha256:${'A'.repeat(64)}` })] }),
        'layers.0.digest',
        /must be a digest/,
      ],
      [
        'negative size',
        ociManifest({ layers: [layer({ size: -1 })] }),
        'layers.0.size',
        /at least 0, got -1/,
      ],
      [
        'fractional size',
        ociManifest({ layers: [layer({ size: 1.5 })] }),
        'layers.0.size',
        /must be an integer, got 1.5/,
      ],
      [
        'size as a string',
        ociManifest({ layers: [layer({ size: '10' })] }),
        'layers.0.size',
        /must be a number, got "10"/,
      ],
      [
        'empty mediaType',
        ociManifest({ layers: [layer({ mediaType: '' })] }),
        'layers.0.mediaType',
        /must not be empty/,
      ],
      [
        'urls not an array',
        ociManifest({ layers: [layer({ urls: 'http://x' })] }),
        'layers.0.urls',
        /must be an array/,
      ],
      [
        'annotation not a string',
        ociManifest({ annotations: { 'org.example.n': 1 } }),
        'annotations["org.example.n"]',
        /must be a string, got 1/,
      ],
      [
        'subject without digest',
        ociManifest({ subject: { mediaType: MediaType.OciManifest, size: 3 } }),
        'subject.digest',
        /is required/,
      ],
      ['artifactType not a string', ociManifest({ artifactType: 5 }), 'artifactType', /must be a string/],
      [
        'index entry without size',
        {
          schemaVersion: 2,
          mediaType: MediaType.OciIndex,
          manifests: [{ mediaType: MediaType.OciManifest, digest: DIGEST }],
        },
        'manifests.0.size',
        /is required \(a number\)/,
      ],
      [
        'index platform without os',
        {
          schemaVersion: 2,
          manifests: [
            {
              mediaType: MediaType.OciManifest,
              digest: DIGEST,
              size: 3,
              platform: { architecture: 'amd64' },
            },
          ],
        },
        'manifests.0.platform.os',
        /is required/,
      ],
      [
        'index manifests missing',
        { schemaVersion: 2 },
        'manifests',
        /is required/,
        { contentType: MediaType.OciIndex },
      ],
      [
        'docker manifest without mediaType',
        { schemaVersion: 2, config: layer(), layers: [] },
        'mediaType',
        /is required/,
        { contentType: MediaType.DockerManifest },
      ],
      [
        'docker list entry without platform',
        {
          schemaVersion: 2,
          mediaType: MediaType.DockerManifestList,
          manifests: [{ mediaType: MediaType.DockerManifest, digest: DIGEST, size: 3 }],
        },
        'manifests.0.platform',
        /is required/,
      ],
    ];
    for (const [label, document, field, message, options] of cases) {
      it(label, () => {
        const error = invalid(document, options);
        expect(error.field).toBe(field);
        expect(error.message).toContain(field);
        expect(error.message).toMatch(message);
        expect(error.code).toBe(GhcrErrorCode.INVALID_MANIFEST);
        expect(error.cause).toBeDefined();
      });
    }

    it('counts the further problems', () => {
      const error = invalid(ociManifest({ schemaVersion: 3, config: undefined }));
      expect(error.message).toMatch(/\(and 1 more problem\(s\)\)/);
    });
  });

  describe('descriptor rules beyond the schema', () => {
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ['a mediaType that is not type/subtype', { mediaType: 'gzip' }, 'layers.0.mediaType', /RFC 6838/],
      [
        'a mediaType with parameters',
        { mediaType: 'application/json; charset=utf-8' },
        'layers.0.mediaType',
        /RFC 6838/,
      ],
      [
        'a descriptor artifactType that is not a media type',
        { artifactType: 'sbom' },
        'layers.0.artifactType',
        /media type/,
      ],
      ['data that is not base64', { data: 'not base64!', size: 2 }, 'layers.0.data', /must be base64/],
      [
        'data whose length is not the size',
        {
          data: 'e30=',
          size: 3,
          digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
        },
        'layers.0.data',
        /decodes to 2 bytes/,
      ],
      [
        'data whose digest is not the digest',
        { data: 'e30=', size: 2 },
        'layers.0.data',
        /has digest sha256:44136fa/,
      ],
    ];
    for (const [label, overrides, field, message] of cases) {
      it(label, () => {
        const error = invalid(ociManifest({ layers: [layer(overrides)] }));
        expect(error.field).toBe(field);
        expect(error.message).toMatch(message);
      });
    }

    it('accepts data that matches, and checks config, index entries and subject too', () => {
      expect(parseManifest(json(ociManifest({ config: { ...EMPTY_DESCRIPTOR } }))).kind).toBe('oci-manifest');
      expect(invalid(ociManifest({ config: { ...layer(), mediaType: 'x' } })).field).toBe('config.mediaType');
      expect(invalid(ociManifest({ subject: { ...layer(), mediaType: 'x' } })).field).toBe(
        'subject.mediaType',
      );
      expect(invalid({ schemaVersion: 2, manifests: [layer(), { ...layer(), mediaType: 'x' }] }).field).toBe(
        'manifests.1.mediaType',
      );
    });

    it('a manifest artifactType that is not a media type', () => {
      const error = invalid(ociManifest({ artifactType: 'just-a-word' }));
      expect(error.field).toBe('artifactType');
      expect(error.message).toMatch(/RFC 6838/);
    });
  });
});
