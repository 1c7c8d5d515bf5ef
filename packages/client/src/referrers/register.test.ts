import { buildArtifactManifest, buildIndex, descriptorOf, referrersTagFor } from '@ghcr/manifest';
import { type Descriptor, EMPTY_JSON_BYTES, EMPTY_JSON_DIGEST, MediaType } from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import { type ClientParts, partsOf, pushPlatformImage } from '../testing/client-parts.js';
import { simulatedClient } from '../testing/simulated-client.js';
import { createReferrers } from './referrers.js';

const SBOM = 'application/spdx+json';

function setup(profile: 'ghcr' | 'distribution') {
  const simulated = simulatedClient({ profile });
  const parts = partsOf(simulated.client);
  const referrers = createReferrers(parts.context, parts);
  return { ...simulated, parts, referrers };
}

/** Pushes an artifact with `subject` by digest, as a copy does: no fallback index is touched. */
async function pushArtifact(parts: ClientParts, subject: Descriptor, text: string): Promise<Descriptor> {
  await parts.blobs.upload('octo/app', EMPTY_JSON_BYTES, { digest: EMPTY_JSON_DIGEST });
  const blob = await parts.blobs.upload('octo/app', Buffer.from(text), { mediaType: 'application/json' });
  const manifest = buildArtifactManifest({
    artifactType: SBOM,
    blobs: [blob.descriptor],
    subject,
    annotations: { 'org.example.text': text },
  });
  await parts.manifests.put('octo/app', manifest);
  return {
    mediaType: manifest.mediaType,
    digest: manifest.digest,
    size: manifest.size,
    artifactType: SBOM,
    annotations: { 'org.example.text': text },
  };
}

describe('referrers.register', () => {
  it('adds an existing artifact to the fallback index where the registry has no referrers API', async () => {
    const { parts, referrers } = setup('ghcr');
    const image = await pushPlatformImage(parts, 'octo/app', { os: 'linux', architecture: 'amd64' });
    const first = await pushArtifact(parts, descriptorOf(image), 'one');
    // Before registering, nothing lists it: a copy by digest does not update the fallback tag.
    expect(await referrers.list('octo/app', image.digest, { cosignTags: false })).toEqual([]);

    const result = await referrers.register('octo/app', image.digest, first);
    expect(result).toEqual({ method: 'fallback-tag', tag: referrersTagFor(image.digest), written: true });
    expect(await referrers.list('octo/app', image.digest, { cosignTags: false })).toEqual([first]);

    // Repeating changes nothing; a second referrer is appended, the first kept.
    expect(await referrers.register('octo/app', image.digest, first)).toMatchObject({ written: false });
    const second = await pushArtifact(parts, descriptorOf(image), 'two');
    await referrers.register('octo/app', image.digest, second);
    const index = await parts.manifests.get('octo/app', referrersTagFor(image.digest));
    expect(index.kind).toBe('oci-index');
    expect(index.bytes).toEqual(buildIndex({ manifests: [first, second] }).bytes);
  });

  it('writes nothing where the registry lists referrers itself', async () => {
    const { sim, parts, referrers } = setup('distribution');
    const image = await pushPlatformImage(parts, 'octo/app', { os: 'linux', architecture: 'amd64' });
    const artifact = await pushArtifact(parts, descriptorOf(image), 'one');
    sim.log.clear();
    expect(await referrers.register('octo/app', image.digest, artifact)).toEqual({
      method: 'api',
      written: false,
    });
    expect(await parts.manifests.head('octo/app', referrersTagFor(image.digest))).toBeUndefined();
    expect(sim.log.filter((entry) => entry.operation === 'manifest.put')).toHaveLength(0);
    // The API's answer is remembered: a second registration asks it no more.
    sim.log.clear();
    await referrers.register('octo/app', image.digest, artifact);
    expect(sim.log.byOperation('referrers.get')).toHaveLength(0);
  });

  it('refuses a referrer the repository does not have', async () => {
    const { parts, referrers } = setup('ghcr');
    const image = await pushPlatformImage(parts, 'octo/app', { os: 'linux', architecture: 'amd64' });
    const missing: Descriptor = {
      mediaType: MediaType.OciManifest,
      digest: `sha256:${'ef'.repeat(32)}`,
      size: 10,
    };
    await expect(referrers.register('octo/app', image.digest, missing)).rejects.toMatchObject({
      code: 'MANIFEST_UNKNOWN',
      message: expect.stringContaining('push it first'),
    });
    expect(await parts.manifests.head('octo/app', referrersTagFor(image.digest))).toBeUndefined();
  });
});
