import { readFileSync } from 'node:fs';
import { type Descriptor, InvalidInputError, MediaType, type Platform } from '@ghcr/oci-types';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildIndex } from './build.js';
import { addPlatformManifest, removePlatformManifest, setIndexAnnotations } from './index-edit.js';
import { isIndex, type ParsedIndex } from './kinds.js';
import { parseManifest } from './parse.js';
import { formatPlatform, listPlatforms, normalizePlatform, parsePlatform } from './platform.js';
import { annotationsArbitrary, descriptorArbitrary } from './testing/arbitraries.js';

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}` as const;
const entry = (n: number, platform?: string, extra: Partial<Descriptor> = {}): Descriptor => ({
  mediaType: MediaType.OciManifest,
  digest: digest(n),
  size: 100 + n,
  ...(platform === undefined ? {} : { platform: parsePlatform(platform) }),
  ...extra,
});
const attestationFor = (n: number, of: number): Descriptor =>
  entry(n, 'unknown/unknown', {
    annotations: {
      'vnd.docker.reference.type': 'attestation-manifest',
      'vnd.docker.reference.digest': digest(of),
    },
  });

function fixtureIndex(name: string): ParsedIndex {
  const parsed = parseManifest(readFileSync(new URL(`../../../fixtures/manifests/${name}`, import.meta.url)));
  if (!isIndex(parsed)) throw new Error('fixture is not an index');
  return parsed;
}

describe('addPlatformManifest', () => {
  it('replaces the entry of the same platform in place, keeping the others and the annotations', () => {
    const fixture = fixtureIndex('oci-index-2-platforms.json');
    const replacement = entry(9, 'linux/amd64');
    const edited = addPlatformManifest(fixture, replacement);
    expect(edited.kind).toBe('oci-index');
    expect(edited.manifest.manifests).toEqual([replacement, fixture.manifest.manifests[1]]);
    expect(edited.digest).not.toBe(fixture.digest);
    expect(parseManifest(edited.bytes).manifest).toEqual(edited.manifest);
  });

  it('matches platforms after normalisation (aarch64 replaces arm64/v8)', () => {
    const fixture = fixtureIndex('docker-manifest-list-2-platforms.json');
    const replacement = { ...entry(9, 'linux/aarch64'), mediaType: MediaType.DockerManifest };
    const edited = addPlatformManifest(fixture, replacement);
    expect(edited.kind).toBe('docker-manifest-list');
    expect(edited.manifest.manifests).toEqual([fixture.manifest.manifests[0], replacement]);
  });

  it('appends a new platform', () => {
    const fixture = fixtureIndex('oci-index-2-platforms.json');
    const added = entry(9, 'linux/arm/v7');
    const edited = addPlatformManifest(fixture, added);
    expect(edited.manifest.manifests).toEqual([...fixture.manifest.manifests, added]);
    expect(listPlatforms(edited).map(formatPlatform)).toEqual([
      'linux/amd64',
      'linux/arm64/v8',
      'linux/arm/v7',
    ]);
  });

  it('drops the attestation of the replaced manifest, and keeps the others', () => {
    const index = buildIndex({
      manifests: [
        entry(1, 'linux/amd64'),
        entry(2, 'linux/arm64'),
        attestationFor(3, 1),
        attestationFor(4, 2),
      ],
    });
    const edited = addPlatformManifest(index, entry(5, 'linux/amd64'));
    expect(edited.manifest.manifests.map((item) => item.digest)).toEqual([digest(5), digest(2), digest(4)]);
  });

  it('keeps the attestation when the same manifest is added again', () => {
    const index = buildIndex({ manifests: [entry(1, 'linux/amd64'), attestationFor(3, 1)] });
    const edited = addPlatformManifest(index, entry(1, 'linux/amd64'));
    expect(edited.manifest.manifests).toEqual(index.manifest.manifests);
    expect(edited.bytes).toEqual(index.bytes);
  });

  it('refuses a descriptor without a platform, or unknown/unknown', () => {
    const index = buildIndex({ manifests: [entry(1, 'linux/amd64')] });
    expect(() => addPlatformManifest(index, entry(2))).toThrow(InvalidInputError);
    expect(() => addPlatformManifest(index, entry(2))).toThrow(/no platform/);
    expect(() => addPlatformManifest(index, entry(2, 'unknown/unknown'))).toThrow(/unknown\/unknown/);
  });

  it('refuses an invalid descriptor, naming the entry', () => {
    const index = buildIndex({ manifests: [entry(1, 'linux/amd64')] });
    expect(() => addPlatformManifest(index, { ...entry(2, 'linux/arm64'), size: 0 })).toThrow(
      /manifests\.1\.size is 0/,
    );
  });

  it('keeps unknown top-level fields of the index', () => {
    const text = JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [entry(1, 'linux/amd64')],
      'x-vendor': { keep: 'me' },
    });
    const parsed = parseManifest(text);
    if (!isIndex(parsed)) throw new Error('kind');
    const edited = addPlatformManifest(parsed, entry(2, 'linux/s390x'));
    expect((edited.manifest as Record<string, unknown>)['x-vendor']).toEqual({ keep: 'me' });
  });
});

describe('removePlatformManifest', () => {
  it('removes the entry for a platform (normalised), keeping the others', () => {
    const fixture = fixtureIndex('oci-index-2-platforms.json');
    const edited = removePlatformManifest(fixture, parsePlatform('linux/arm64'));
    expect(edited.manifest.manifests).toEqual([fixture.manifest.manifests[0]]);
    const again = removePlatformManifest(fixture, parsePlatform('linux/x86_64'));
    expect(again.manifest.manifests).toEqual([fixture.manifest.manifests[1]]);
  });

  it('removes its attestation too', () => {
    const index = buildIndex({
      manifests: [
        entry(1, 'linux/amd64'),
        entry(2, 'linux/arm64'),
        attestationFor(3, 1),
        attestationFor(4, 2),
      ],
    });
    const edited = removePlatformManifest(index, parsePlatform('linux/amd64'));
    expect(edited.manifest.manifests.map((item) => item.digest)).toEqual([digest(2), digest(4)]);
  });

  it('refuses a platform the index does not have, listing those it has', () => {
    const fixture = fixtureIndex('oci-index-2-platforms.json');
    let error: unknown;
    try {
      removePlatformManifest(fixture, parsePlatform('linux/arm/v7'));
    } catch (caught) {
      error = caught;
    }
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /no entry for platform linux\/arm\/v7; it has linux\/amd64, linux\/arm64\/v8/,
    );
    expect(() => removePlatformManifest(fixture, parsePlatform('unknown/unknown'))).toThrow(
      InvalidInputError,
    );
  });
});

describe('setIndexAnnotations', () => {
  it('replaces the annotations, and an empty object removes them', () => {
    const fixture = fixtureIndex('oci-index-2-platforms.json');
    const annotated = setIndexAnnotations(fixture, { 'org.opencontainers.image.version': '1.0' });
    if (annotated.kind !== 'oci-index') throw new Error('kind');
    expect(annotated.manifest.annotations).toEqual({ 'org.opencontainers.image.version': '1.0' });
    expect(annotated.manifest.manifests).toEqual(fixture.manifest.manifests);
    const replaced = setIndexAnnotations(annotated, { other: 'x' });
    if (replaced.kind !== 'oci-index') throw new Error('kind');
    expect(replaced.manifest.annotations).toEqual({ other: 'x' });
    const cleared = setIndexAnnotations(annotated, {});
    expect('annotations' in cleared.manifest).toBe(false);
  });

  it('refuses a Docker manifest list and non-string values', () => {
    expect(() =>
      setIndexAnnotations(fixtureIndex('docker-manifest-list-2-platforms.json'), { a: 'b' }),
    ).toThrow(/Docker manifest list/);
    expect(() => setIndexAnnotations(fixtureIndex('oci-index-2-platforms.json'), { a: 1 } as never)).toThrow(
      InvalidInputError,
    );
  });
});

describe('index editing keeps other entries untouched (properties)', () => {
  // Distinct platforms: one entry each for a set of distinct normalised platforms.
  const PLATFORMS = [
    'linux/amd64',
    'linux/arm64/v8',
    'linux/arm/v7',
    'linux/arm/v6',
    'linux/386',
    'linux/s390x',
    'linux/ppc64le',
    'windows/amd64',
  ];
  const indexArbitrary = fc
    .tuple(
      fc.subarray(PLATFORMS, { minLength: 1 }),
      fc.array(descriptorArbitrary, { minLength: 8, maxLength: 8 }),
    )
    .map(([platforms, descriptors]) =>
      platforms.map((platform, position) => ({
        ...(descriptors[position] as Descriptor),
        platform: parsePlatform(platform),
      })),
    );

  it('add replaces exactly the entry of that platform, or appends', () => {
    fc.assert(
      fc.property(
        indexArbitrary,
        fc.constantFrom(...PLATFORMS),
        descriptorArbitrary,
        (manifests, platform, base) => {
          const index = buildIndex({ manifests });
          const added = { ...base, platform: parsePlatform(platform) };
          const edited = addPlatformManifest(index, added);
          const position = manifests.findIndex(
            (item) => formatPlatform(item.platform as Platform) === platform,
          );
          const expected =
            position === -1
              ? [...manifests, added]
              : manifests.map((item, i) => (i === position ? added : item));
          expect(edited.manifest.manifests).toEqual(expected);
          expect(parseManifest(edited.bytes, { expectedDigest: edited.digest }).manifest).toEqual(
            edited.manifest,
          );
        },
      ),
    );
  });

  it('remove drops exactly the entry of that platform', () => {
    fc.assert(
      fc.property(indexArbitrary, fc.nat(), (manifests, pick) => {
        const index = buildIndex({ manifests });
        const victim = manifests[pick % manifests.length] as Descriptor;
        const edited = removePlatformManifest(index, normalizePlatform(victim.platform as Platform));
        expect(edited.manifest.manifests).toEqual(manifests.filter((item) => item !== victim));
      }),
    );
  });

  it('setting annotations changes no entry, and edits are deterministic', () => {
    fc.assert(
      fc.property(
        indexArbitrary,
        annotationsArbitrary.filter((annotations) => Object.keys(annotations).length > 0),
        (manifests, annotations) => {
          const index = buildIndex({ manifests });
          const edited = setIndexAnnotations(index, annotations);
          expect(edited.manifest.manifests).toEqual(manifests);
          expect(setIndexAnnotations(index, annotations).bytes).toEqual(edited.bytes);
        },
      ),
    );
  });
});
