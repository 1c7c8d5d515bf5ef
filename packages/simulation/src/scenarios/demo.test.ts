import { gunzipSync } from 'node:zlib';
import { parseManifest, referrersTagFor } from '@ghcr/manifest';
import { digestOf, MediaType } from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import { createTestBed } from '../testing/test-bed.js';
import { seedDemo } from './demo.js';

describe('seedDemo', () => {
  it('seeds multi-arch releases, attestations at fallback and cosign tags, untagged children and many versions', async () => {
    const bed = createTestBed();
    const seed = await seedDemo(bed.sim, { releases: 3, manyVersions: 40 });
    const { state } = bed.sim;
    const app = state.getRepository(seed.app.repository);
    if (app === undefined) throw new Error('no app');
    const latest = seed.app.releases[2];
    if (latest === undefined) throw new Error('no release');
    expect([...app.tags.keys()].sort()).toEqual(
      [
        '1.0.0',
        '1.1.0',
        '1.2.0',
        'latest',
        'dev',
        referrersTagFor(latest.index.digest),
        `${referrersTagFor(latest.index.digest)}.sig`,
        `${referrersTagFor(latest.index.digest)}.att`,
      ].sort(),
    );
    expect(app.tags.get('latest')).toBe(latest.index.digest);

    const index = parseManifest(latest.index.record.bytes);
    if (index.kind !== 'oci-index') throw new Error('not an index');
    expect(
      index.manifest.manifests.map((entry) => `${entry.platform?.os}/${entry.platform?.architecture}`),
    ).toEqual(['linux/amd64', 'linux/arm64', 'unknown/unknown', 'unknown/unknown']);
    expect(index.manifest.manifests[2]?.annotations).toEqual({
      'vnd.docker.reference.digest': latest.platforms[0]?.digest,
      'vnd.docker.reference.type': 'attestation-manifest',
    });
    for (const child of [...latest.platforms, ...latest.attestations])
      expect(state.tagsOf(app, child.digest)).toEqual([]);
    expect(state.tagsOf(app, seed.app.orphan.digest)).toEqual([]);
    expect(state.tagsOf(app, seed.app.dev.digest)).toEqual(['dev']);

    const fallback = parseManifest(seed.app.referrersIndex.record.bytes);
    if (fallback.kind !== 'oci-index') throw new Error('not an index');
    expect(fallback.manifest.manifests).toEqual([
      expect.objectContaining({
        digest: seed.app.bundle.digest,
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      }),
    ]);
    expect(fallback.manifest.manifests[0]?.platform).toBeUndefined();
    expect(seed.app.bundle.record.subject).toBe(latest.index.digest);

    const many = state.findPackage(seed.owner, 'many');
    expect(many === undefined ? 0 : state.listVersions(many).length).toBe(40);
    const createdAt = seed.many.versions.map((version) => version.record.createdAt);
    expect(new Set(createdAt).size).toBe(40);

    // Real bytes: the layer is a gzip tar whose uncompressed digest is the config's diff id.
    const image = latest.platforms[0];
    if (image === undefined) throw new Error('no image');
    const layer = await state.store.readBytes(image.layers[0]?.digest ?? 'sha256:x');
    const config = JSON.parse(Buffer.from(await state.store.readBytes(image.config.digest)).toString()) as {
      rootfs: { diff_ids: string[] };
    };
    expect(config.rootfs.diff_ids).toEqual([digestOf(gunzipSync(layer))]);
    expect(gunzipSync(layer).subarray(0, 11).toString()).toBe('layer-0.txt');
  });

  it('is pullable through the registry with the seeded tokens, and anonymously for the public image', async () => {
    const bed = createTestBed();
    const seed = await seedDemo(bed.sim, { releases: 1, manyVersions: 2 });
    const index = await bed.call('GET', `/v2/${seed.app.repository}/manifests/latest`, {
      pat: seed.tokens.read,
      headers: { accept: MediaType.OciIndex },
    });
    expect(index.status).toBe(200);
    expect(index.header('content-type')).toBe(MediaType.OciIndex);
    const anonymous = await bed.token(undefined, `repository:${seed.hello.repository}:pull`);
    const hello = await bed.call('GET', `/v2/${seed.hello.repository}/manifests/latest`, {
      token: anonymous,
    });
    expect(hello.status).toBe(200);
    expect(hello.header('content-type')).toBe(MediaType.DockerManifest);
    const privateApp = await bed.call('GET', `/v2/${seed.app.repository}/manifests/latest`, {
      token: await bed.token(undefined, `repository:${seed.app.repository}:pull`),
    });
    expect(privateApp.status).toBe(401);
  });

  it('lists the Sigstore bundle through the referrers API in the distribution profile', async () => {
    const bed = createTestBed({ profile: 'distribution' });
    const seed = await seedDemo(bed.sim, { releases: 1, manyVersions: 1, advanceClock: false });
    const token = await bed.token(seed.tokens.read, `repository:${seed.app.repository}:pull`);
    const latest = seed.app.releases[0]?.index.digest;
    const referrers = await bed.call('GET', `/v2/${seed.app.repository}/referrers/${latest}`, { token });
    expect(referrers.json()).toMatchObject({
      manifests: [
        { digest: seed.app.bundle.digest, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' },
      ],
    });
    expect(bed.clock.now()).toBe(Date.UTC(2026, 0, 1));
  });

  it('can list the bundle in the fallback index under the empty artifactType, as seen on ghcr.io', async () => {
    const bed = createTestBed();
    const seed = await seedDemo(bed.sim, {
      releases: 1,
      manyVersions: 1,
      fallbackIndexArtifactType: MediaType.OciEmpty,
    });
    const latest = seed.app.releases[0]?.index.digest ?? '';
    const token = await bed.token(seed.tokens.read, `repository:${seed.app.repository}:pull`);
    const served = await bed.call('GET', `/v2/${seed.app.repository}/manifests/${referrersTagFor(latest)}`, {
      token,
      headers: { accept: MediaType.OciIndex },
    });
    expect(served.status).toBe(200);
    const fallback = parseManifest(served.body);
    if (fallback.kind !== 'oci-index') throw new Error('not an index');
    expect(fallback.manifest.manifests).toEqual([
      expect.objectContaining({
        digest: seed.app.bundle.digest,
        artifactType: 'application/vnd.oci.empty.v1+json',
      }),
    ]);
    // The manifest it points at is still the bundle: only reading it tells.
    const bundle = parseManifest(seed.app.bundle.record.bytes);
    expect(bundle.kind === 'oci-manifest' ? bundle.manifest.artifactType : undefined).toBe(
      'application/vnd.dev.sigstore.bundle.v0.3+json',
    );
  });
});
