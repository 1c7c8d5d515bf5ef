import type { DockerManifestList, OciImageIndex, OciImageManifest } from '@ghcr/oci-types';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as api from './index.js';

// The public surface other packages code against: an export that disappears fails here.
describe('@ghcr/manifest exports', () => {
  it('exports exactly these values', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'DEFAULT_MAX_MANIFEST_BYTES',
        'addPlatformManifest',
        'buildArtifactManifest',
        'buildImageManifest',
        'buildIndex',
        'canonicalJson',
        'cosignTagsFor',
        'descriptorOf',
        'detectManifestMediaType',
        'formatPlatform',
        'isImageManifest',
        'isIndex',
        'listPlatforms',
        'manifestChildren',
        'normalizePlatform',
        'parseCosignTag',
        'parseManifest',
        'parsePlatform',
        'parseReferrersTag',
        'platformMatches',
        'referrersTagFor',
        'removePlatformManifest',
        'selectPlatformManifest',
        'setIndexAnnotations',
      ].sort(),
    );
    expect(api.DEFAULT_MAX_MANIFEST_BYTES).toBe(4 * 1024 * 1024);
  });
});

describe('types', () => {
  it('narrow on kind and through the guards (checked by tsc)', () => {
    const parsed = api.parseManifest('{"schemaVersion":2,"manifests":[]}');
    if (api.isIndex(parsed)) {
      expectTypeOf(parsed).toEqualTypeOf<api.ParsedIndex>();
      expectTypeOf(parsed.manifest).toEqualTypeOf<OciImageIndex | DockerManifestList>();
    }
    if (parsed.kind === 'oci-manifest') expectTypeOf(parsed.manifest).toEqualTypeOf<OciImageManifest>();
    expectTypeOf(api.buildIndex).returns.toEqualTypeOf<api.ParsedIndex>();
    expectTypeOf(api.buildImageManifest).returns.toEqualTypeOf<api.ParsedImageManifest>();
    expectTypeOf<api.ManifestKind>().toEqualTypeOf<
      'oci-manifest' | 'oci-index' | 'docker-manifest' | 'docker-manifest-list'
    >();
    expect(parsed.kind).toBe('oci-index');
  });
});
