import { buildArtifactManifest, buildIndex, descriptorOf, type ParsedIndex } from '@ghcr/manifest';
import {
  EMPTY_JSON_BYTES,
  EMPTY_JSON_DIGEST,
  InvalidInputError,
  InvalidManifestError,
  MediaType,
  ResourceConflictError,
} from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import type { Manifests } from '../registry/manifests.js';
import { partsOf, pushPlatformImage } from '../testing/client-parts.js';
import { simulatedClient } from '../testing/simulated-client.js';
import { createMultiArch } from './multi-arch.js';

function setup() {
  const simulated = simulatedClient();
  const parts = partsOf(simulated.client);
  return { ...simulated, parts, multiArch: createMultiArch(parts.context, parts) };
}

async function indexAt(manifests: Manifests, reference: string): Promise<ParsedIndex> {
  const manifest = await manifests.get('octo/app', reference);
  if (manifest.kind !== 'oci-index' && manifest.kind !== 'docker-manifest-list') {
    throw new Error(`expected an index at ${reference}, got ${manifest.kind}`);
  }
  return manifest;
}

const AMD64 = { os: 'linux', architecture: 'amd64' };
const ARM64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };

describe('createIndex', () => {
  it('builds an index from pushed manifests with sizes, digests and platforms read from the registry', async () => {
    const { sim, parts, multiArch } = setup();
    const amd64 = await pushPlatformImage(parts, 'octo/app', AMD64, { tags: ['amd64'] });
    const arm64 = await pushPlatformImage(parts, 'octo/app', ARM64);
    sim.log.clear();
    const descriptor = await multiArch.createIndex('octo/app', ['1.0', 'latest'], ['amd64', arm64.digest], {
      annotations: { 'org.opencontainers.image.description': 'two platforms' },
    });
    expect(descriptor.mediaType).toBe(MediaType.OciIndex);
    // Each manifest was read, and each config (for its platform).
    expect(sim.log.byOperation('manifest.get').filter((entry) => entry.status === 200)).toHaveLength(2);
    expect(sim.log.byOperation('blob.get').length).toBeGreaterThanOrEqual(2);
    expect(sim.log.byOperation('manifest.put').filter((entry) => entry.status === 201)).toHaveLength(2);

    const index = await indexAt(parts.manifests, 'latest');
    expect(index.digest).toBe(descriptor.digest);
    expect((await parts.manifests.head('octo/app', '1.0'))?.digest).toBe(descriptor.digest);
    expect(index.manifest.manifests).toEqual([
      { mediaType: MediaType.OciManifest, digest: amd64.digest, size: amd64.size, platform: AMD64 },
      { mediaType: MediaType.OciManifest, digest: arm64.digest, size: arm64.size, platform: ARM64 },
    ]);
    expect(index.manifest.manifests.every((entry) => entry.size > 0)).toBe(true);
    if (index.kind !== 'oci-index') throw new Error('expected an OCI index');
    expect(index.manifest.annotations).toEqual({ 'org.opencontainers.image.description': 'two platforms' });
  });

  it('writes a Docker manifest list from Docker manifests, and refuses annotations there', async () => {
    const { parts, multiArch } = setup();
    const amd64 = await pushPlatformImage(parts, 'octo/app', AMD64, { tags: ['amd64'], docker: true });
    const arm64 = await pushPlatformImage(parts, 'octo/app', ARM64, { tags: ['arm64'], docker: true });
    const descriptor = await multiArch.createIndex('octo/app', ['list'], ['amd64', 'arm64'], {
      mediaType: 'docker',
    });
    expect(descriptor.mediaType).toBe(MediaType.DockerManifestList);
    const list = await indexAt(parts.manifests, 'list');
    expect(
      list.manifest.manifests.map((entry) => [entry.mediaType, entry.digest, entry.size, entry.platform]),
    ).toEqual([
      [MediaType.DockerManifest, amd64.digest, amd64.size, AMD64],
      [MediaType.DockerManifest, arm64.digest, arm64.size, ARM64],
    ]);
    await expect(
      multiArch.createIndex('octo/app', ['list'], ['amd64'], {
        mediaType: 'docker',
        annotations: { a: 'b' },
      }),
    ).rejects.toBeInstanceOf(InvalidManifestError);
  });

  it('lists a manifest given twice once, and refuses two manifests for one platform', async () => {
    const { parts, multiArch } = setup();
    const amd64 = await pushPlatformImage(parts, 'octo/app', AMD64, { tags: ['amd64'] });
    const other = await pushPlatformImage(
      parts,
      'octo/app',
      { os: 'linux', architecture: 'x86_64' },
      { tags: ['other'] },
    );
    await multiArch.createIndex('octo/app', ['once'], ['amd64', amd64.digest]);
    expect((await indexAt(parts.manifests, 'once')).manifest.manifests.map((entry) => entry.digest)).toEqual([
      amd64.digest,
    ]);
    // x86_64 normalises to amd64: the same platform.
    const error = await multiArch
      .createIndex('octo/app', ['twice'], ['amd64', 'other'])
      .catch((caught: unknown) => caught);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('is given twice, by amd64 and by other');
    expect((error as Error).message).toContain(other.digest);
    expect(await parts.manifests.head('octo/app', 'twice')).toBeUndefined();
  });

  it('flattens an index given as a source, checking each entry against the registry', async () => {
    const { sim, parts, multiArch } = setup();
    const amd64 = await pushPlatformImage(parts, 'octo/app', AMD64);
    const arm64 = await pushPlatformImage(parts, 'octo/app', ARM64, { tags: ['arm64'] });
    const inner = buildIndex({ manifests: [descriptorOf(amd64, { platform: AMD64 })] });
    await parts.manifests.put('octo/app', inner, { tags: ['inner'] });
    sim.log.clear();
    await multiArch.createIndex('octo/app', ['outer'], ['inner', 'arm64']);
    expect(
      sim.log.byOperation('manifest.head').filter((entry) => entry.path.endsWith(amd64.digest)),
    ).toHaveLength(1);
    expect(
      (await indexAt(parts.manifests, 'outer')).manifest.manifests.map((entry) => [
        entry.digest,
        entry.platform,
      ]),
    ).toEqual([
      [amd64.digest, AMD64],
      [arm64.digest, ARM64],
    ]);
  });

  it('takes a platform for a manifest whose config names none, and says when one is needed', async () => {
    const { parts, multiArch } = setup();
    await parts.blobs.upload('octo/app', EMPTY_JSON_BYTES, { digest: EMPTY_JSON_DIGEST });
    const blob = await parts.blobs.upload('octo/app', Buffer.from('wasm'), { mediaType: 'application/wasm' });
    const artifact = buildArtifactManifest({
      artifactType: 'application/vnd.example.wasm',
      blobs: [blob.descriptor],
    });
    await parts.manifests.put('octo/app', artifact, { tags: ['wasm'] });
    const error = await multiArch.createIndex('octo/app', ['w'], ['wasm']).catch((caught: unknown) => caught);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(
      `is not a container image (its config is ${MediaType.OciEmpty})`,
    );
    await multiArch.createIndex('octo/app', ['w'], [{ reference: 'wasm', platform: 'wasip1/wasm' }]);
    expect((await indexAt(parts.manifests, 'w')).manifest.manifests).toEqual([
      {
        mediaType: MediaType.OciManifest,
        digest: artifact.digest,
        size: artifact.size,
        artifactType: 'application/vnd.example.wasm',
        platform: { os: 'wasip1', architecture: 'wasm' },
      },
    ]);
    const noOs = await pushPlatformImage(parts, 'octo/app', { architecture: 'amd64' }, { tags: ['no-os'] });
    const missing = await multiArch
      .createIndex('octo/app', ['x'], ['no-os'])
      .catch((caught: unknown) => caught);
    expect((missing as Error).message).toContain(
      `octo/app:no-os: the image config has no "os" and "architecture"`,
    );
    expect(noOs.size).toBeGreaterThan(0);
  });
});

describe('editing an index', () => {
  async function twoPlatforms() {
    const context = setup();
    const { parts, multiArch } = context;
    const amd64 = await pushPlatformImage(parts, 'octo/app', AMD64, { tags: ['amd64'] });
    const arm64 = await pushPlatformImage(parts, 'octo/app', ARM64, { tags: ['arm64'] });
    await multiArch.createIndex('octo/app', ['1.0'], ['amd64', 'arm64']);
    return { ...context, amd64, arm64 };
  }

  it('adds a platform and pushes the index back under its own tag; adding it again changes nothing', async () => {
    const { parts, multiArch, amd64, arm64 } = await twoPlatforms();
    const s390x = await pushPlatformImage(
      parts,
      'octo/app',
      { os: 'linux', architecture: 's390x' },
      { tags: ['s390x'] },
    );
    const added = await multiArch.addPlatform('octo/app', '1.0', 's390x');
    const index = await indexAt(parts.manifests, '1.0');
    expect(index.digest).toBe(added.digest);
    expect(index.manifest.manifests.map((entry) => [entry.digest, entry.size])).toEqual([
      [amd64.digest, amd64.size],
      [arm64.digest, arm64.size],
      [s390x.digest, s390x.size],
    ]);
    expect((await multiArch.addPlatform('octo/app', '1.0', s390x.digest)).digest).toBe(added.digest);
  });

  it('refuses to add a platform the index has with another manifest; replacePlatform swaps it', async () => {
    const { parts, multiArch, arm64 } = await twoPlatforms();
    const newer = await pushPlatformImage(parts, 'octo/app', AMD64, {
      tags: ['amd64-2'],
      layerText: 'newer',
    });
    const error = await multiArch
      .addPlatform('octo/app', '1.0', 'amd64-2')
      .catch((caught: unknown) => caught);
    expect(ResourceConflictError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('already has linux/amd64');
    const replaced = await multiArch.replacePlatform('octo/app', '1.0', 'amd64-2', {
      tags: ['1.0', '1.0.1'],
    });
    const index = await indexAt(parts.manifests, '1.0.1');
    expect(index.digest).toBe(replaced.digest);
    expect(index.manifest.manifests.map((entry) => entry.digest)).toEqual([newer.digest, arm64.digest]);
    const s390x = await pushPlatformImage(
      parts,
      'octo/app',
      { os: 'linux', architecture: 's390x' },
      { tags: ['s390x'] },
    );
    const missing = await multiArch
      .replacePlatform('octo/app', '1.0', 's390x')
      .catch((caught: unknown) => caught);
    expect(InvalidInputError.isInstance(missing)).toBe(true);
    expect((missing as Error).message).toContain(
      'has no linux/s390x entry to replace (it has linux/amd64, linux/arm64/v8)',
    );
    expect(s390x.size).toBeGreaterThan(0);
  });

  it('removes a platform (linux/arm64 matches linux/arm64/v8) and refuses to remove the last', async () => {
    const { parts, multiArch, amd64 } = await twoPlatforms();
    await multiArch.removePlatform('octo/app', '1.0', 'linux/arm64');
    const index = await indexAt(parts.manifests, '1.0');
    expect(index.manifest.manifests.map((entry) => entry.digest)).toEqual([amd64.digest]);
    const error = await multiArch.removePlatform('octo/app', '1.0', AMD64).catch((caught: unknown) => caught);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('would leave ghcr.io/octo/app:1.0 with no platform');
    await expect(multiArch.removePlatform('octo/app', '1.0', 'linux/ppc64le')).rejects.toThrow(
      /has no entry for platform linux\/ppc64le; it has linux\/amd64/,
    );
  });

  it('pushes an index given by digest by digest only, unless tags are given', async () => {
    const { sim, parts, multiArch } = await twoPlatforms();
    const before = await indexAt(parts.manifests, '1.0');
    const s390x = await pushPlatformImage(parts, 'octo/app', { os: 'linux', architecture: 's390x' });
    sim.log.clear();
    const added = await multiArch.addPlatform('octo/app', before.digest, s390x.digest);
    const puts = sim.log.byOperation('manifest.put').filter((entry) => entry.status === 201);
    expect(puts.map((entry) => entry.path)).toEqual([`/v2/octo/app/manifests/${added.digest}`]);
    expect((await parts.manifests.head('octo/app', '1.0'))?.digest).toBe(before.digest);
    await multiArch.removePlatform('octo/app', added.digest, 'linux/s390x', { tags: ['edited'] });
    expect((await parts.manifests.head('octo/app', 'edited'))?.digest).toBe(before.digest);
  });

  it('says when the reference is not an index', async () => {
    const { multiArch } = await twoPlatforms();
    await expect(multiArch.addPlatform('octo/app', 'amd64', 'arm64')).rejects.toThrow(
      'ghcr.io/octo/app:amd64 is a oci-manifest, not an index; make one with createIndex',
    );
  });
});
