import {
  buildArtifactManifest,
  buildImageManifest,
  buildIndex,
  cosignTagsFor,
  type ParsedManifest,
  referrersTagFor,
} from '@ghcr/manifest';
import {
  type Descriptor,
  definedProps,
  EMPTY_JSON_BYTES,
  EMPTY_JSON_DIGEST,
  MediaType,
  NotFoundError,
  ResourceConflictError,
} from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import type { PushedEvent } from '../events.js';
import { type ClientParts, partsOf, pushPlatformImage } from '../testing/client-parts.js';
import { simulatedClient } from '../testing/simulated-client.js';
import { COSIGN_ARTIFACT_TYPES, COSIGN_TAG_ANNOTATION } from './cosign.js';
import { createReferrers, type ReferrersOptions } from './referrers.js';

const SBOM = 'application/spdx+json';
const SIGNATURE = 'application/vnd.example.signature.v1+json';
const BUNDLE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

function setup(profile: 'ghcr' | 'distribution', options: ReferrersOptions = {}) {
  const simulated = simulatedClient({ profile });
  const parts = partsOf(simulated.client);
  const referrers = createReferrers(parts.context, parts, options);
  return { ...simulated, parts, referrers };
}

const isTagPut = (tag: string) => (entry: { operation?: string; path: string }) =>
  entry.operation === 'manifest.put' && entry.path.endsWith(`/manifests/${tag}`);

/** Pushes an artifact manifest (empty config, one blob) with the given subject, by digest. */
async function pushReferrer(
  parts: ClientParts,
  repository: string,
  subject: Descriptor,
  artifactType: string,
  annotations?: Record<string, string>,
): Promise<ParsedManifest> {
  await parts.blobs.upload(repository, EMPTY_JSON_BYTES, { digest: EMPTY_JSON_DIGEST });
  const blob = await parts.blobs.upload(repository, Buffer.from(`${artifactType} payload`), {
    mediaType: 'application/json',
  });
  const manifest = buildArtifactManifest({
    artifactType,
    blobs: [blob.descriptor],
    subject,
    ...definedProps({ annotations }),
  });
  await parts.manifests.put(repository, manifest);
  return manifest;
}

/** A cosign-style legacy manifest (image config, simple-signing layer) under `tag`. */
async function pushCosignLegacy(parts: ClientParts, repository: string, tag: string, text: string) {
  const config = await parts.blobs.upload(repository, Buffer.from(`{"cosign":"${text}"}`), {
    mediaType: MediaType.OciConfig,
  });
  const layer = await parts.blobs.upload(repository, Buffer.from(text), {
    mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
  });
  const manifest = buildImageManifest({ config: config.descriptor, layers: [layer.descriptor] });
  await parts.manifests.put(repository, manifest, { tags: [tag] });
  return manifest;
}

describe('referrers on the ghcr profile (no referrers API: tag schema fallback)', () => {
  it('attaches through the sha256-<hex> index tag and lists through it, never asking ghcr.io for a referrers API it lacks', async () => {
    const { sim, parts, referrers } = setup('ghcr');
    const image = await pushPlatformImage(
      parts,
      'octo/app',
      { os: 'linux', architecture: 'amd64' },
      { tags: ['v1'] },
    );
    const tag = referrersTagFor(image.digest);
    const pushed: PushedEvent[] = [];
    parts.events.on('pushed', (event) => pushed.push(event));
    sim.log.clear();

    const sbom = await referrers.attach('octo/app', 'v1', {
      artifactType: SBOM,
      files: [
        { content: Buffer.from('{"spdxVersion":"SPDX-2.3"}'), mediaType: SBOM, title: 'sbom.spdx.json' },
      ],
      annotations: { 'org.example.kind': 'sbom' },
    });
    expect(sbom).toMatchObject({ mediaType: MediaType.OciManifest, artifactType: SBOM });
    expect(sbom.annotations).toEqual({ 'org.example.kind': 'sbom' });
    // The artifact by digest, then the fallback index: read (404), written, read back.
    expect(sim.log.filter(isTagPut(sbom.digest))).toHaveLength(1);
    expect(sim.log.filter(isTagPut(tag))).toHaveLength(1);
    expect(pushed.map((event) => [event.digest, event.tags])).toEqual(
      expect.arrayContaining([
        [sbom.digest, []],
        [expect.any(String), [tag]],
      ]),
    );

    const artifact = await parts.manifests.get('octo/app', sbom.digest);
    if (artifact.kind !== 'oci-manifest') throw new Error('expected an OCI manifest');
    expect(artifact.manifest.subject).toEqual({
      mediaType: image.mediaType,
      digest: image.digest,
      size: image.size,
    });
    expect(artifact.manifest.config.digest).toBe(EMPTY_JSON_DIGEST);
    expect(artifact.manifest.layers[0]?.annotations).toEqual({
      'org.opencontainers.image.title': 'sbom.spdx.json',
    });

    const signature = await referrers.attach('octo/app', image.digest, { artifactType: SIGNATURE });
    const index = await parts.manifests.get('octo/app', tag);
    if (index.kind !== 'oci-index') throw new Error('expected an OCI index');
    expect(index.manifest.manifests).toEqual([sbom, signature]);

    // Attaching the same artifact again adds no duplicate and leaves the tag alone.
    sim.log.clear();
    await referrers.attach('octo/app', 'v1', {
      artifactType: SBOM,
      files: [
        { content: Buffer.from('{"spdxVersion":"SPDX-2.3"}'), mediaType: SBOM, title: 'sbom.spdx.json' },
      ],
      annotations: { 'org.example.kind': 'sbom' },
    });
    expect(sim.log.filter(isTagPut(tag))).toHaveLength(0);
    expect((await parts.manifests.head('octo/app', tag))?.digest).toBe(index.digest);

    sim.log.clear();
    expect(await referrers.list('octo/app', image.digest)).toEqual([sbom, signature]);
    // ghcr.io is known to have no referrers API (it answers 404 for every subject): never asked.
    expect(sim.log.byOperation('referrers.get')).toEqual([]);
    expect(sim.log.filter((entry) => entry.path.endsWith(`/manifests/${tag}`))).not.toHaveLength(0);

    expect(await referrers.list('octo/app', image.digest, { artifactType: SIGNATURE })).toEqual([signature]);
    expect(await referrers.list('octo/app', image.digest, { artifactType: 'application/x-none' })).toEqual(
      [],
    );
    expect(sim.log.byOperation('referrers.get')).toEqual([]);
  });

  it('uploads files from disk and blobs already present, in order', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'ghcr-referrers-'));
    try {
      const { parts, referrers } = setup('ghcr');
      const image = await pushPlatformImage(
        parts,
        'octo/app',
        { os: 'linux', architecture: 'arm64' },
        { tags: ['v1'] },
      );
      const path = join(dir, 'report.json');
      await writeFile(path, '{"findings":[]}');
      const existing = await parts.blobs.upload('octo/app', Buffer.from('already there'), {
        mediaType: 'text/plain',
      });
      const attached = await referrers.attach('octo/app', image.digest, {
        artifactType: 'application/vnd.example.report+json',
        files: [{ path, mediaType: 'application/json' }],
        blobs: [existing.descriptor],
      });
      const manifest = await parts.manifests.get('octo/app', attached.digest);
      if (manifest.kind !== 'oci-manifest') throw new Error('expected an OCI manifest');
      expect(manifest.manifest.layers.map((layer) => [layer.mediaType, layer.annotations])).toEqual([
        ['application/json', { 'org.opencontainers.image.title': 'report.json' }],
        ['text/plain', undefined],
      ]);
      expect(await parts.blobs.getBytes('octo/app', manifest.manifest.layers[0] as Descriptor)).toEqual(
        Buffer.from('{"findings":[]}'),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports cosign legacy tags and an attestation bundle index without platform or artifactType', async () => {
    const { sim, parts, referrers } = setup('ghcr');
    const image = await pushPlatformImage(
      parts,
      'octo/app',
      { os: 'linux', architecture: 'amd64' },
      { tags: ['v1'] },
    );
    const subject = { mediaType: image.mediaType, digest: image.digest, size: image.size };
    const cosign = cosignTagsFor(image.digest);
    const sig = await pushCosignLegacy(parts, 'octo/app', cosign.signature, 'signature');
    const att = await pushCosignLegacy(parts, 'octo/app', cosign.attestation, 'attestation');
    // actions/attest-build-provenance: a Sigstore bundle referrer, listed in an index at the
    // fallback tag whose entry has neither platform nor artifactType.
    const bundle = await pushReferrer(parts, 'octo/app', subject, BUNDLE, {
      'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1',
    });
    const bundleIndex = buildIndex({
      manifests: [{ mediaType: bundle.mediaType, digest: bundle.digest, size: bundle.size }],
    });
    await parts.manifests.put('octo/app', bundleIndex, { tags: [referrersTagFor(image.digest)] });
    sim.log.clear();

    const all = await referrers.list('octo/app', image.digest);
    expect(all).toEqual([
      {
        mediaType: MediaType.OciManifest,
        digest: bundle.digest,
        size: bundle.size,
        artifactType: BUNDLE,
        annotations: { 'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1' },
      },
      {
        mediaType: MediaType.OciManifest,
        digest: sig.digest,
        size: sig.size,
        artifactType: COSIGN_ARTIFACT_TYPES.signature,
        annotations: { [COSIGN_TAG_ANNOTATION]: cosign.signature },
      },
      {
        mediaType: MediaType.OciManifest,
        digest: att.digest,
        size: att.size,
        artifactType: COSIGN_ARTIFACT_TYPES.attestation,
        annotations: { [COSIGN_TAG_ANNOTATION]: cosign.attestation },
      },
    ]);
    // One tag listing told which tags exist: the absent .sbom tag was never asked for, and only
    // the tags that exist were read.
    expect(sim.log.byOperation('tags.list')).toHaveLength(1);
    expect(sim.log.filter((entry) => entry.path.endsWith(`/manifests/${cosign.sbom}`))).toHaveLength(0);
    expect(sim.log.filter((entry) => entry.path.endsWith(`/manifests/${cosign.signature}`))).toHaveLength(1);

    expect(
      (await referrers.list('octo/app', image.digest, { artifactType: BUNDLE })).map((d) => d.digest),
    ).toEqual([bundle.digest]);
    expect(
      (
        await referrers.list('octo/app', image.digest, { artifactType: COSIGN_ARTIFACT_TYPES.attestation })
      ).map((d) => d.digest),
    ).toEqual([att.digest]);
    expect(
      (await referrers.list('octo/app', image.digest, { cosignTags: false })).map((d) => d.digest),
    ).toEqual([bundle.digest]);
    sim.log.clear();
    const asWritten = await referrers.list('octo/app', image.digest, {
      cosignTags: false,
      describeEntries: false,
    });
    expect(asWritten).toEqual([{ mediaType: bundle.mediaType, digest: bundle.digest, size: bundle.size }]);
    expect(sim.log.filter((entry) => entry.path.endsWith(`/manifests/${bundle.digest}`))).toHaveLength(0);
  });

  it('keeps the entries of an existing fallback index when attaching', async () => {
    const { parts, referrers } = setup('ghcr');
    const image = await pushPlatformImage(
      parts,
      'octo/app',
      { os: 'linux', architecture: 'amd64' },
      { tags: ['v1'] },
    );
    const subject = { mediaType: image.mediaType, digest: image.digest, size: image.size };
    const bundle = await pushReferrer(parts, 'octo/app', subject, BUNDLE);
    const written = buildIndex({
      manifests: [{ mediaType: bundle.mediaType, digest: bundle.digest, size: bundle.size }],
      annotations: { 'org.example.written-by': 'attest-build-provenance' },
    });
    const tag = referrersTagFor(image.digest);
    await parts.manifests.put('octo/app', written, { tags: [tag] });
    const sbom = await referrers.attach('octo/app', 'v1', { artifactType: SBOM });
    const index = await parts.manifests.get('octo/app', tag);
    if (index.kind !== 'oci-index') throw new Error('expected an OCI index');
    expect(index.manifest.manifests).toEqual([
      { mediaType: bundle.mediaType, digest: bundle.digest, size: bundle.size },
      sbom,
    ]);
    expect(index.manifest.annotations).toEqual({ 'org.example.written-by': 'attest-build-provenance' });
    // Canonical serialisation: the bytes are what buildIndex writes for that content.
    expect(Buffer.from(index.bytes)).toEqual(
      Buffer.from(
        buildIndex({
          manifests: index.manifest.manifests,
          annotations: { 'org.example.written-by': 'attest-build-provenance' },
        }).bytes,
      ),
    );
  });

  it('refuses to overwrite a fallback tag that holds something else, and lists nothing from it', async () => {
    const { parts, referrers } = setup('ghcr');
    const image = await pushPlatformImage(
      parts,
      'octo/app',
      { os: 'linux', architecture: 'amd64' },
      { tags: ['v1'] },
    );
    const tag = referrersTagFor(image.digest);
    const squatter = await pushPlatformImage(
      parts,
      'octo/app',
      { os: 'linux', architecture: 'arm64' },
      { tags: [tag] },
    );
    const error = await referrers
      .attach('octo/app', 'v1', { artifactType: SBOM })
      .catch((caught: unknown) => caught);
    expect(ResourceConflictError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(`the referrers tag ${tag} holds a oci-manifest`);
    expect((await parts.manifests.head('octo/app', tag))?.digest).toBe(squatter.digest);
    expect(await referrers.list('octo/app', image.digest)).toEqual([]);
  });

  it('says when the subject does not exist', async () => {
    const { parts, referrers } = setup('ghcr');
    await pushPlatformImage(parts, 'octo/app', { os: 'linux', architecture: 'amd64' }, { tags: ['v1'] });
    const error = await referrers
      .attach('octo/app', 'v2', { artifactType: SBOM })
      .catch((caught: unknown) => caught);
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('cannot attach to ghcr.io/octo/app:v2: no such manifest');
  });

  it('skips the API from the start with api: "fallback"', async () => {
    const { sim, parts, referrers } = setup('ghcr', { api: 'fallback' });
    const image = await pushPlatformImage(
      parts,
      'octo/app',
      { os: 'linux', architecture: 'amd64' },
      { tags: ['v1'] },
    );
    const sbom = await referrers.attach('octo/app', 'v1', { artifactType: SBOM });
    expect(await referrers.list('octo/app', image.digest)).toEqual([sbom]);
    expect(sim.log.byOperation('referrers.get')).toHaveLength(0);
  });
});

describe('referrers on the distribution profile (referrers API)', () => {
  it('attaches without a fallback tag when the registry answers OCI-Subject, and lists through the API', async () => {
    const { sim, parts, referrers } = setup('distribution');
    const image = await pushPlatformImage(
      parts,
      'octo/app',
      { os: 'linux', architecture: 'amd64' },
      { tags: ['v1'] },
    );
    const tag = referrersTagFor(image.digest);
    sim.log.clear();
    const sbom = await referrers.attach('octo/app', 'v1', {
      artifactType: SBOM,
      annotations: { 'org.example.kind': 'sbom' },
    });
    const signature = await referrers.attach('octo/app', 'v1', { artifactType: SIGNATURE });
    expect(sim.log.filter((entry) => entry.path.endsWith(`/manifests/${tag}`))).toHaveLength(0);
    expect(await parts.manifests.head('octo/app', tag)).toBeUndefined();

    sim.log.clear();
    const all = await referrers.list('octo/app', image.digest);
    expect(all.map((descriptor) => descriptor.digest).sort()).toEqual([sbom.digest, signature.digest].sort());
    expect(all.find((descriptor) => descriptor.digest === sbom.digest)).toEqual(sbom);
    const filtered = await referrers.list('octo/app', image.digest, { artifactType: SIGNATURE });
    expect(filtered).toEqual([signature]);
    const calls = sim.log.byOperation('referrers.get');
    expect(calls.map((entry) => entry.status)).toEqual([200, 200]);
    expect(calls[1]?.url).toContain(`artifactType=${encodeURIComponent(SIGNATURE)}`);
    // No fallback reads and no cosign probes when the API answered.
    expect(sim.log.byOperation('manifest.get')).toHaveLength(0);
    expect(sim.log.byOperation('manifest.head')).toHaveLength(0);
  });

  it('filters on the client when the registry did not apply the artifactType filter', async () => {
    const { sim, parts, referrers } = setup('distribution');
    const image = await pushPlatformImage(
      parts,
      'octo/app',
      { os: 'linux', architecture: 'amd64' },
      { tags: ['v1'] },
    );
    const sbom = await referrers.attach('octo/app', 'v1', { artifactType: SBOM });
    const signature = await referrers.attach('octo/app', 'v1', { artifactType: SIGNATURE });
    // A registry that ignores ?artifactType: both come back, without OCI-Filters-Applied.
    sim.faults.add({
      operation: 'referrers.get',
      action: {
        type: 'status',
        status: 200,
        body: JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.OciIndex,
          manifests: [sbom, signature],
        }),
        headers: { 'content-type': MediaType.OciIndex },
      },
    });
    expect(await referrers.list('octo/app', image.digest, { artifactType: SIGNATURE })).toEqual([signature]);
  });

  it('follows Link across pages of the referrers API', async () => {
    const { sim, parts, referrers } = setup('distribution');
    const image = await pushPlatformImage(
      parts,
      'octo/app',
      { os: 'linux', architecture: 'amd64' },
      { tags: ['v1'] },
    );
    const sbom = await referrers.attach('octo/app', 'v1', { artifactType: SBOM });
    const extra: Descriptor = { ...sbom, digest: `sha256:${'ab'.repeat(32)}`, size: 10 };
    sim.faults.add({
      operation: 'referrers.get',
      nth: 1,
      action: {
        type: 'status',
        status: 200,
        body: JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [extra] }),
        headers: {
          'content-type': MediaType.OciIndex,
          link: `</v2/octo/app/referrers/${image.digest}?page=2>; rel="next"`,
        },
      },
    });
    expect(await referrers.list('octo/app', image.digest)).toEqual([extra, sbom]);
    expect(sim.log.byOperation('referrers.get').map((entry) => new URL(entry.url).search)).toEqual([
      '',
      '?page=2',
    ]);
  });

  it('does not take a NAME_UNKNOWN 404 (no such repository) as a missing API', async () => {
    const { sim, referrers } = setup('distribution');
    // Some registries answer a repository nothing was pushed to with NAME_UNKNOWN (the simulation's
    // distribution profile answers an empty index, as the spec asks).
    sim.faults.add({
      operation: 'referrers.get',
      action: {
        type: 'status',
        status: 404,
        body: JSON.stringify({
          errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }],
        }),
      },
    });
    const digest = `sha256:${'cd'.repeat(32)}`;
    expect(await referrers.list('octo/nothing', digest)).toEqual([]);
    expect(await referrers.list('octo/nothing', digest)).toEqual([]);
    const answered = sim.log.byOperation('referrers.get');
    expect(answered.map((entry) => entry.status)).toEqual([404, 404]);
  });
});

describe('request counts on ghcr.io', () => {
  it('copy --referrers of a two-platform index asks no referrers API and lists the tags once', async () => {
    const { sim, client, parts } = setup('ghcr');
    const amd64 = await pushPlatformImage(parts, 'octo/app', { os: 'linux', architecture: 'amd64' });
    const arm64 = await pushPlatformImage(parts, 'octo/app', { os: 'linux', architecture: 'arm64' });
    const index = buildIndex({
      manifests: [
        {
          mediaType: amd64.mediaType,
          digest: amd64.digest,
          size: amd64.size,
          platform: { os: 'linux', architecture: 'amd64' },
        },
        {
          mediaType: arm64.mediaType,
          digest: arm64.digest,
          size: arm64.size,
          platform: { os: 'linux', architecture: 'arm64' },
        },
      ],
    });
    await parts.manifests.put('octo/app', index, { tags: ['v1'] });
    sim.log.clear();

    const copied = await client.images.copy('octo/app:v1', 'octo/mirror:v1', {
      referrers: (descriptor) => client.referrers.list('octo/app', descriptor.digest),
    });
    expect(copied.descriptor.digest).toBe(index.digest);
    const entries = sim.log.entries;
    expect(entries.filter((entry) => entry.operation === 'referrers.get')).toEqual([]);
    // One listing answered the fallback and cosign tag probes of all three manifests (12 before).
    expect(
      entries.filter((entry) => entry.operation === 'tags.list' && entry.path.includes('octo/app')),
    ).toHaveLength(1);
    // No probe of the source answered 404 (the destination's existence checks before writing do).
    const sourceMisses = entries.filter(
      (entry) => entry.status === 404 && entry.path.startsWith('/v2/octo/app/'),
    );
    expect(sourceMisses.map((entry) => `${entry.method} ${entry.path}`)).toEqual([]);
  });
});
