import { staticCredentials } from '@ghcr/auth';
import { createManualClock, type GhcrError, GhcrErrorCode } from '@ghcr/oci-types';
import { createSimulation, seedDockerHub } from '@ghcr/simulation';
import { describe, expect, it } from 'vitest';
import { createGhcrClient } from './client.js';
import { RoutingDispatcher } from './testing/routing-dispatcher.js';

const WINDOW_SECONDS = 21_600;

/** A client of both simulations (Docker Hub with `anonymousPullLimit` pulls a window, and ghcr.io). */
async function hubAndGhcr(anonymousPullLimit: number) {
  const clock = createManualClock(Date.parse('2026-05-01T00:00:00Z'));
  const hub = createSimulation({
    profile: 'dockerhub',
    clock,
    dockerhub: { anonymousPullLimit, windowSeconds: WINDOW_SECONDS },
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
  return { clock, hub, seeded, ghcr, client };
}

describe('a copy from Docker Hub to a tag that already names the image', () => {
  it('asks both sides with HEADs, which the quota does not count, and pulls nothing', async () => {
    // Three pulls a window: the first copy spends all three (the index and both platforms).
    const { hub, seeded, ghcr, client } = await hubAndGhcr(3);
    const first = await client.images.copy('docker.io/library/alpine:3', 'ghcr.io/octo/alpine:3');
    expect(first.transferred).toBeGreaterThan(0);
    expect(hub.log.byOperation('manifest.get')).toHaveLength(3);

    hub.log.clear();
    ghcr.log.clear();
    const again = await client.images.copy('docker.io/library/alpine:3', 'ghcr.io/octo/alpine:3');
    expect(again).toMatchObject({
      descriptor: { digest: seeded.alpine.index.digest },
      references: ['3'],
      transferred: 0,
      skipped: 1,
      bytesTransferred: 0,
      registry: 'ghcr.io',
      repository: 'octo/alpine',
    });
    expect(hub.log.byOperation('manifest.get')).toEqual([]);
    expect(hub.log.byOperation('manifest.head').map((entry) => entry.path)).toEqual([
      '/v2/library/alpine/manifests/3',
    ]);
    expect(ghcr.log.byOperation('manifest.put')).toEqual([]);
    expect(ghcr.log.byOperation('blob.upload.start')).toEqual([]);

    // To a tag that names nothing yet, the copy pulls: the quota is spent, and it says so.
    const error = (await client.images.copy('docker.io/library/alpine:3', 'ghcr.io/octo/alpine:new').then(
      () => undefined,
      (caught: unknown) => caught,
    )) as GhcrError;
    expect(error.code).toBe(GhcrErrorCode.PULL_QUOTA_EXCEEDED);
    expect(hub.log.byOperation('manifest.get').map((entry) => entry.path)).toEqual([
      '/v2/library/alpine/manifests/3',
    ]);
  });

  it('copies as before when the tag names another image, or when one platform is asked for', async () => {
    const { hub, seeded, client } = await hubAndGhcr(100);
    const arm = await client.images.copy('docker.io/library/alpine:3', 'ghcr.io/octo/alpine:3', {
      platform: 'linux/arm64',
    });
    expect(seeded.alpine.platforms.map((platform) => platform.digest)).toContain(arm.descriptor.digest);
    hub.log.clear();
    // The tag holds the arm64 manifest, not the index: the whole index is copied.
    const whole = await client.images.copy('docker.io/library/alpine:3', 'ghcr.io/octo/alpine:3');
    expect(whole.descriptor.digest).toBe(seeded.alpine.index.digest);
    expect(whole.transferred).toBeGreaterThan(0);
    expect(hub.log.byOperation('manifest.get').map((entry) => entry.path)[0]).toBe(
      '/v2/library/alpine/manifests/3',
    );

    hub.log.clear();
    // One platform: its digest is known only from the index, so the index is read (no HEADs).
    const one = await client.images.copy('docker.io/library/alpine:3', 'ghcr.io/octo/alpine:arm', {
      platform: 'linux/arm64',
    });
    expect(one.descriptor.digest).toBe(arm.descriptor.digest);
    expect(hub.log.byOperation('manifest.head')).toEqual([]);
  });
});

describe("Docker Hub's pull quota running out mid-copy", () => {
  it('fails the copy with the quota error and tags nothing; after the window the same copy completes', async () => {
    // Four pulls a window: an inspect spends three (the index and both platforms), so the copy
    // that follows gets its index and runs out on the first platform manifest.
    const { clock, seeded, ghcr, client } = await hubAndGhcr(4);

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
