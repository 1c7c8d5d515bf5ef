import { referrersTagFor } from '@ghcr/manifest';
import { MediaType } from '@ghcr/oci-types';
import { describeWithBinaries, useDockerRegistry } from '@ghcr/test-support/vitest';
import { expect, it } from 'vitest';
import { createGhcrClient } from '../client.js';
import { createMultiArch } from '../multi-arch/multi-arch.js';
import { partsOf, pushPlatformImage } from '../testing/client-parts.js';
import { createRequestLog } from '../testing/request-log.js';
import { createReferrers } from './referrers.js';

describeWithBinaries(['docker-registry'], 'referrers and multi-arch against docker-registry', () => {
  const registry = useDockerRegistry();

  function connect() {
    const log = createRequestLog();
    const client = createGhcrClient({
      registry: registry.host,
      transportOptions: { middleware: [log.middleware], retry: { baseDelayMs: 10, maxDelayMs: 50 } },
    });
    const parts = partsOf(client);
    return {
      client,
      log: log.entries,
      parts,
      referrers: createReferrers(parts.context, parts),
      multiArch: createMultiArch(parts.context, parts),
    };
  }

  it('finds an artifact with a subject through the fallback tag (docker-registry 2.8 has no referrers API)', async () => {
    const { client, log, parts, referrers } = connect();
    try {
      const image = await pushPlatformImage(
        parts,
        'integ/referrers',
        { os: 'linux', architecture: 'amd64' },
        { tags: ['v1'] },
      );
      const sbom = await referrers.attach('integ/referrers', 'v1', {
        artifactType: 'application/spdx+json',
        files: [
          {
            content: Buffer.from('{"spdxVersion":"SPDX-2.3"}'),
            mediaType: 'application/spdx+json',
            title: 'sbom.json',
          },
        ],
        annotations: { 'org.example.kind': 'sbom' },
      });
      const tag = referrersTagFor(image.digest);
      // No OCI-Subject came back, so the index at the fallback tag was written.
      expect(
        log.filter((entry) => entry.method === 'PUT' && entry.url.endsWith(`/manifests/${tag}`)),
      ).toHaveLength(1);
      const index = await parts.manifests.get('integ/referrers', tag);
      expect(index.kind).toBe('oci-index');

      log.length = 0;
      const found = await referrers.list('integ/referrers', image.digest);
      expect(found).toEqual([sbom]);
      expect(found[0]).toMatchObject({
        mediaType: MediaType.OciManifest,
        artifactType: 'application/spdx+json',
        annotations: { 'org.example.kind': 'sbom' },
      });
      const apiCalls = log.filter((entry) => entry.operation === 'referrers.list');
      expect(apiCalls.map((entry) => entry.status)).toEqual([404]);
      expect(log.some((entry) => entry.method === 'GET' && entry.url.endsWith(`/manifests/${tag}`))).toBe(
        true,
      );

      // The artifact is a real manifest with the subject, readable by digest.
      const artifact = await parts.manifests.get('integ/referrers', sbom.digest);
      if (artifact.kind !== 'oci-manifest') throw new Error('expected an OCI manifest');
      expect(artifact.manifest.subject?.digest).toBe(image.digest);

      // Remembered: the second listing reads the tag without asking the API.
      log.length = 0;
      expect(
        await referrers.list('integ/referrers', image.digest, { artifactType: 'application/spdx+json' }),
      ).toEqual([sbom]);
      expect(log.filter((entry) => entry.operation === 'referrers.list')).toHaveLength(0);
    } finally {
      await client.close();
    }
  });

  it('creates an index of two platforms from two pushed manifests, then edits it', async () => {
    const { client, parts, multiArch } = connect();
    try {
      const amd64 = await pushPlatformImage(
        parts,
        'integ/multi',
        { os: 'linux', architecture: 'amd64' },
        { tags: ['amd64'] },
      );
      const arm64 = await pushPlatformImage(
        parts,
        'integ/multi',
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
        { tags: ['arm64'] },
      );
      const created = await multiArch.createIndex('integ/multi', ['1.0'], ['amd64', arm64.digest], {
        annotations: { 'org.opencontainers.image.description': 'integration' },
      });
      const index = await parts.manifests.get('integ/multi', '1.0');
      if (index.kind !== 'oci-index') throw new Error('expected an OCI index');
      expect(index.digest).toBe(created.digest);
      expect(index.manifest.manifests).toEqual([
        {
          mediaType: MediaType.OciManifest,
          digest: amd64.digest,
          size: amd64.size,
          platform: { os: 'linux', architecture: 'amd64' },
        },
        {
          mediaType: MediaType.OciManifest,
          digest: arm64.digest,
          size: arm64.size,
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
        },
      ]);

      const s390x = await pushPlatformImage(
        parts,
        'integ/multi',
        { os: 'linux', architecture: 's390x' },
        { tags: ['s390x'] },
      );
      await multiArch.addPlatform('integ/multi', '1.0', 's390x');
      await multiArch.removePlatform('integ/multi', '1.0', 'linux/arm64');
      const edited = await parts.manifests.get('integ/multi', '1.0');
      if (edited.kind !== 'oci-index') throw new Error('expected an OCI index');
      expect(edited.manifest.manifests.map((entry) => entry.digest)).toEqual([amd64.digest, s390x.digest]);
      expect(edited.manifest.annotations).toEqual({
        'org.opencontainers.image.description': 'integration',
      });
    } finally {
      await client.close();
    }
  });
});
