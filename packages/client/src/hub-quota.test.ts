import { staticCredentials } from '@ghcr/auth';
import { createManualClock, type GhcrError, GhcrErrorCode } from '@ghcr/oci-types';
import { createSimulation, seedDockerHub } from '@ghcr/simulation';
import { describe, expect, it } from 'vitest';
import { createGhcrClient } from './client.js';
import { RoutingDispatcher } from './testing/routing-dispatcher.js';

const WINDOW_SECONDS = 21_600;

describe("Docker Hub's pull quota running out mid-copy", () => {
  it('fails the copy with the quota error and tags nothing; after the window the same copy completes', async () => {
    const clock = createManualClock(Date.parse('2026-05-01T00:00:00Z'));
    // Four pulls a window: an inspect spends three (the index and both platforms), so the copy
    // that follows gets its index and runs out on the first platform manifest.
    const hub = createSimulation({
      profile: 'dockerhub',
      clock,
      dockerhub: { anonymousPullLimit: 4, windowSeconds: WINDOW_SECONDS },
    });
    const seeded = await seedDockerHub(hub);
    const ghcr = createSimulation({ profile: 'ghcr', clock });
    ghcr.createUser('octo');
    const pat = ghcr.createToken({ user: 'octo', scopes: ['read:packages', 'write:packages'] });
    const dispatcher = new RoutingDispatcher({
      'https://registry-1.docker.io': hub.dispatcher(),
      'https://auth.docker.io': hub.dispatcher(),
      'https://production.cloudflare.docker.com': hub.dispatcher(),
      'https://ghcr.io': ghcr.dispatcher(),
      'https://pkg-containers.githubusercontent.com': ghcr.dispatcher(),
    });
    const client = createGhcrClient({
      dispatcher,
      clock,
      credentials: staticCredentials({ username: 'octo', password: pat }, { registries: ['ghcr.io'] }),
      transportOptions: { retry: { random: () => 0 } },
    });

    await client.images.inspect('docker.io/library/alpine:3');
    const error = (await client.images.copy('docker.io/library/alpine:3', 'ghcr.io/octo/alpine:3').then(
      () => undefined,
      (caught: unknown) => caught,
    )) as GhcrError;
    expect(error.code).toBe(GhcrErrorCode.PULL_QUOTA_EXCEEDED);
    expect(error.message).toMatch(/docker login|ghcr login docker\.io|mirror/);
    // Nothing tagged at the destination: the tag is written only after every manifest arrived.
    expect(await client.manifests.head('octo/alpine', '3').catch(() => undefined)).toBeUndefined();
    expect(
      ghcr.log.byOperation('manifest.put').filter((entry) => entry.path.endsWith('/manifests/3')),
    ).toEqual([]);

    await clock.advance((WINDOW_SECONDS + 1) * 1000);
    const copied = await client.images.copy('docker.io/library/alpine:3', 'ghcr.io/octo/alpine:3');
    expect(copied.descriptor.digest).toBe(seeded.alpine.index.digest);
    expect((await client.images.inspect('ghcr.io/octo/alpine:3')).digest).toBe(seeded.alpine.index.digest);
  });
});
