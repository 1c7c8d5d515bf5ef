import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { digestOf, InvalidInputError, MediaType } from '@ghcr/oci-types';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildArtifactManifest, buildIndex } from './build.js';
import { descriptorOf } from './descriptor.js';
import {
  cosignTagsFor,
  type ManifestChild,
  manifestChildren,
  parseCosignTag,
  parseReferrersTag,
  referrersTagFor,
} from './graph.js';
import { isIndex, type ParsedManifest } from './kinds.js';
import { parseManifest } from './parse.js';

const LAYOUT = new URL('../../../fixtures/oci-layout-multi/', import.meta.url);
const blobUrl = (digest: string) => new URL(`blobs/${digest.replace(':', '/')}`, LAYOUT);

describe('the OCI layout fixture', () => {
  it('names every blob by its sha256', () => {
    const blobs = new URL('blobs/sha256/', LAYOUT);
    const names = readdirSync(blobs);
    expect(names.length).toBe(7);
    for (const name of names) {
      expect(digestOf(readFileSync(new URL(name, blobs)))).toBe(`sha256:${name}`);
    }
  });

  it('walks index.json → index → manifests → config and layers, and every child exists with its size', () => {
    const root = parseManifest(readFileSync(new URL('index.json', LAYOUT)));
    expect(root.kind).toBe('oci-index'); // no mediaType field, no Content-Type: the shape says index
    const seen = new Map<string, ManifestChild['role']>();
    const visit = (manifest: ParsedManifest, depth: number) => {
      for (const child of manifestChildren(manifest)) {
        const url = blobUrl(child.descriptor.digest);
        expect(existsSync(url), `${child.role} ${child.descriptor.digest}`).toBe(true);
        expect(statSync(url).size).toBe(child.descriptor.size);
        seen.set(child.descriptor.digest, child.role);
        if (child.role === 'manifest') {
          const parsed = parseManifest(readFileSync(url), {
            contentType: child.descriptor.mediaType,
            expectedDigest: child.descriptor.digest,
          });
          expect(parsed.size).toBe(child.descriptor.size);
          visit(parsed, depth + 1);
        }
      }
    };
    visit(root, 0);
    // index, two image manifests, two configs, two shared layers: every blob of the layout.
    expect(seen.size).toBe(7);
    expect([...seen.values()].filter((role) => role === 'manifest')).toHaveLength(3);
    expect([...seen.values()].filter((role) => role === 'config')).toHaveLength(2);
    expect([...seen.values()].filter((role) => role === 'layer')).toHaveLength(2);
  });
});

describe('manifestChildren', () => {
  const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}` as const;
  it('lists config, layers then subject of an artifact manifest', () => {
    const subject = { mediaType: MediaType.OciManifest, digest: digest(1), size: 100 };
    const artifact = buildArtifactManifest({
      artifactType: 'application/vnd.example.sbom+json',
      blobs: [
        { mediaType: 'application/json', digest: digest(2), size: 5 },
        { mediaType: 'application/json', digest: digest(3), size: 6 },
      ],
      subject,
    });
    expect(manifestChildren(artifact).map((child) => [child.role, child.descriptor.digest])).toEqual([
      ['config', 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'],
      ['layer', digest(2)],
      ['layer', digest(3)],
      ['subject', digest(1)],
    ]);
  });

  it('lists manifests then subject of an index', () => {
    const index = buildIndex({
      manifests: [
        { mediaType: MediaType.OciManifest, digest: digest(4), size: 7 },
        { mediaType: MediaType.OciIndex, digest: digest(5), size: 8 },
      ],
      subject: { mediaType: MediaType.OciManifest, digest: digest(6), size: 9 },
    });
    expect(isIndex(index)).toBe(true);
    expect(manifestChildren(index).map((child) => child.role)).toEqual(['manifest', 'manifest', 'subject']);
  });

  it('descriptorOf points at the manifest with its real size, digest and artifactType', () => {
    const artifact = buildArtifactManifest({ artifactType: 'application/vnd.example+json', blobs: [] });
    const descriptor = descriptorOf(artifact, { annotations: { a: 'b' } });
    expect(descriptor).toEqual({
      mediaType: MediaType.OciManifest,
      digest: artifact.digest,
      size: artifact.bytes.byteLength,
      artifactType: 'application/vnd.example+json',
      annotations: { a: 'b' },
    });
    const platform = { os: 'linux', architecture: 'amd64' };
    const root = parseManifest(readFileSync(new URL('index.json', LAYOUT)));
    expect(descriptorOf(root, { platform })).toEqual({
      mediaType: MediaType.OciIndex,
      digest: root.digest,
      size: root.size,
      platform,
    });
  });
});

describe('referrers and cosign tags', () => {
  const hex = 'c'.repeat(64);
  it('maps sha256:<hex> to sha256-<hex> and back', () => {
    expect(referrersTagFor(`sha256:${hex}`)).toBe(`sha256-${hex}`);
    expect(parseReferrersTag(`sha256-${hex}`)).toBe(`sha256:${hex}`);
  });

  it('truncates a sha512 digest to 64 characters (distribution-spec), which cannot be inverted', () => {
    const sha512 = `sha512:${'d'.repeat(128)}`;
    const tag = referrersTagFor(sha512);
    expect(tag).toBe(`sha512-${'d'.repeat(64)}`);
    expect(tag.length).toBeLessThanOrEqual(128);
    expect(parseReferrersTag(tag)).toBeUndefined();
  });

  it('parseReferrersTag gives undefined for other tags', () => {
    for (const tag of [
      'latest',
      'v1.0',
      `sha256-${hex}.sig`,
      `sha256-${'c'.repeat(63)}`,
      `sha256_${hex}`,
      '',
    ]) {
      expect(parseReferrersTag(tag)).toBeUndefined();
    }
  });

  it('makes a valid tag from an unregistered algorithm', () => {
    expect(referrersTagFor('multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8')).toBe(
      'multihash-base58-QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8',
    );
    expect(referrersTagFor('alg:YWJj=')).toBe('alg-YWJj-');
  });

  it('refuses cosign tags for sha512, which would be longer than a tag may be', () => {
    expect(() => cosignTagsFor(`sha512:${'e'.repeat(128)}`)).toThrow(/sha256 digests only/);
  });

  it('refuses a non-digest', () => {
    expect(() => referrersTagFor('latest')).toThrow(InvalidInputError);
    expect(() => cosignTagsFor('sha256:abc')).toThrow(InvalidInputError);
  });

  it("gives cosign's .sig, .att and .sbom tags and reads them back", () => {
    const tags = cosignTagsFor(`sha256:${hex}`);
    expect(tags).toEqual({
      signature: `sha256-${hex}.sig`,
      attestation: `sha256-${hex}.att`,
      sbom: `sha256-${hex}.sbom`,
    });
    expect(parseCosignTag(tags.signature)).toEqual({ digest: `sha256:${hex}`, kind: 'signature' });
    expect(parseCosignTag(tags.attestation)).toEqual({ digest: `sha256:${hex}`, kind: 'attestation' });
    expect(parseCosignTag(tags.sbom)).toEqual({ digest: `sha256:${hex}`, kind: 'sbom' });
    for (const tag of [
      'latest',
      `sha256-${hex}`,
      `sha256-${hex}.sig2`,
      `sha256-${hex.slice(1)}.sig`,
      `sha256-${hex}.SIG`,
    ]) {
      expect(parseCosignTag(tag)).toBeUndefined();
    }
  });

  it('round-trips every sha256 digest (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (raw) => {
        const digest = `sha256:${Buffer.from(raw).toString('hex')}`;
        expect(parseReferrersTag(referrersTagFor(digest))).toBe(digest);
        const tags = cosignTagsFor(digest);
        expect(parseCosignTag(tags.signature)?.digest).toBe(digest);
        expect(parseCosignTag(tags.sbom)?.kind).toBe('sbom');
        // A referrers tag is a valid tag: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}
        expect(referrersTagFor(digest)).toMatch(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/);
      }),
    );
  });
});

describe('fallback tag parsing refuses ordinary tags', () => {
  it('reads only sha256-<64 hex> (with a cosign suffix for cosign tags) as a digest', () => {
    for (const tag of [
      'pr-9',
      'v1-amd64',
      'sha512-abc',
      `sha256-${'A'.repeat(64)}`,
      `sha256-${'a'.repeat(63)}`,
    ]) {
      expect(parseReferrersTag(tag)).toBeUndefined();
      expect(parseCosignTag(`${tag}.sig`)).toBeUndefined();
    }
    const hex = 'b'.repeat(64);
    expect(parseReferrersTag(`sha256-${hex}`)).toBe(`sha256:${hex}`);
    expect(parseCosignTag(`sha256-${hex}.att`)).toEqual({ digest: `sha256:${hex}`, kind: 'attestation' });
  });
});
