import { digestOf, MediaType } from '@ghcr/oci-types';
import { Agent, request } from 'undici';
import { beforeEach, describe, expect, it } from 'vitest';
import { type DockerHubSeed, seedDockerHub } from '../scenarios/dockerhub.js';
import { startSimulationServer } from '../serve/server.js';
import { createTestBed, type TestBed } from '../testing/test-bed.js';
import { HUB_ANONYMOUS_LIMIT_MESSAGE, hubAccountId } from './pull-quota.js';

const ACCEPT = [MediaType.OciIndex, MediaType.OciManifest, MediaType.DockerManifest].join(', ');

async function hub(options: Parameters<typeof createTestBed>[0] = {}): Promise<{
  bed: TestBed;
  seed: DockerHubSeed;
}> {
  const bed = createTestBed({ profile: 'dockerhub', ...options });
  const seed = await seedDockerHub(bed.sim);
  return { bed, seed };
}

describe('dockerhub options', () => {
  it('belong to the dockerhub profile only: the others name no Docker host and serve none', async () => {
    for (const profile of ['ghcr', 'distribution'] as const) {
      const bed = createTestBed({ profile });
      expect(bed.sim.options.dockerhub).toBeUndefined();
      expect(JSON.stringify(bed.sim.options)).not.toContain('docker');
      const answer = await request('https://docker.io/v2/', { dispatcher: bed.dispatcher }).catch(
        (error: unknown) => error,
      );
      expect(String(answer)).toContain('no handler');
    }
    expect(createTestBed({ profile: 'dockerhub' }).sim.options.dockerhub).toMatchObject({
      webUrl: 'https://docker.io',
      homeUrl: 'https://www.docker.com',
      windowSeconds: 21_600,
    });
  });
});

describe('dockerhub profile: addresses and auth', () => {
  let bed: TestBed;
  let seed: DockerHubSeed;
  beforeEach(async () => {
    ({ bed, seed } = await hub());
  });

  it("serves registry-1.docker.io and challenges with auth.docker.io's realm and service registry.docker.io", async () => {
    expect(bed.sim.options.registryUrl).toBe('https://registry-1.docker.io');
    expect(bed.sim.options.blobUrl).toBe('https://production.cloudflare.docker.com');
    const base = await bed.call('GET', '/v2/');
    expect(base.status).toBe(401);
    expect(base.header('www-authenticate')).toBe(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"',
    );
    const manifest = await bed.call('GET', '/v2/library/alpine/manifests/3');
    expect(manifest.header('www-authenticate')).toBe(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
    );
    // The token endpoint lives on auth.docker.io only.
    const wrongHost = await request('https://registry-1.docker.io/token', {
      dispatcher: bed.dispatcher,
    }).catch((error: unknown) => error);
    expect(String(wrongHost)).toContain('no handler');
  });

  it('gives anonymous pull tokens for public repositories; a private or missing one gets 401 insufficient_scope', async () => {
    const token = await bed.token(
      undefined,
      'repository:library/alpine:pull',
      `repository:${seed.private.repository}:pull`,
      'repository:library/nope:pull',
    );
    const pulled = await bed.call('GET', '/v2/library/alpine/manifests/3', {
      token,
      headers: { accept: ACCEPT },
    });
    expect(pulled.status).toBe(200);
    expect(pulled.header('docker-content-digest')).toBe(seed.alpine.index.digest);
    for (const name of [seed.private.repository, 'library/nope']) {
      const refused = await bed.call('GET', `/v2/${name}/manifests/latest`, { token });
      expect(refused.status).toBe(401);
      expect(refused.header('www-authenticate')).toContain('error="insufficient_scope"');
      expect(refused.json()).toMatchObject({
        errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }],
      });
    }
    const own = await bed.token(seed.token, `repository:${seed.private.repository}:pull`);
    expect(
      (await bed.call('GET', `/v2/${seed.private.repository}/manifests/latest`, { token: own })).status,
    ).toBe(200);
  });

  it('answers the token endpoint in the distribution format (token, access_token, expires_in, issued_at)', async () => {
    const response = await bed.call(
      'GET',
      'https://auth.docker.io/token?service=registry.docker.io&scope=repository:library/alpine:pull',
    );
    expect(response.status).toBe(200);
    expect(Object.keys(response.json<object>()).sort()).toEqual([
      'access_token',
      'expires_in',
      'issued_at',
      'token',
    ]);
  });

  it('accepts a long installation-style token: no token shape is checked', async () => {
    const long = `ghs_${'A1b2'.repeat(120)}`;
    bed.sim.createToken({ user: seed.user, scopes: ['read:packages'], token: long });
    const token = await bed.token(long, `repository:${seed.private.repository}:pull`);
    expect((await bed.call('GET', `/v2/${seed.private.repository}/manifests/latest`, { token })).status).toBe(
      200,
    );
  });
});

describe('dockerhub profile: pull quota', () => {
  it("counts manifest GETs (not HEADs) per source address, with Hub's headers and window from the options", async () => {
    const { bed } = await hub({ dockerhub: { anonymousPullLimit: 5, windowSeconds: 3600 } });
    const token = await bed.token(undefined, 'repository:library/alpine:pull');
    const head = await bed.call('HEAD', '/v2/library/alpine/manifests/3', {
      token,
      headers: { accept: ACCEPT },
    });
    expect(head.status).toBe(200);
    expect(head.header('ratelimit-limit')).toBe('5;w=3600');
    expect(head.header('ratelimit-remaining')).toBe('5;w=3600');
    expect(head.header('docker-ratelimit-source')).toBe('192.0.2.1');
    const get = await bed.call('GET', '/v2/library/alpine/manifests/3', {
      token,
      headers: { accept: ACCEPT },
    });
    expect(get.header('ratelimit-remaining')).toBe('4;w=3600');
    const again = await bed.call('HEAD', '/v2/library/alpine/manifests/3', {
      token,
      headers: { accept: ACCEPT },
    });
    expect(again.header('ratelimit-remaining')).toBe('4;w=3600');
    // Another address has its own quota.
    const other = await bed.call('GET', '/v2/library/alpine/manifests/3', {
      token,
      headers: { accept: ACCEPT, 'x-forwarded-for': '203.0.113.9' },
    });
    expect(other.header('ratelimit-remaining')).toBe('4;w=3600');
    expect(other.header('docker-ratelimit-source')).toBe('203.0.113.9');
  });

  it('counts a multi-arch pull once per manifest GET', async () => {
    const { bed, seed } = await hub();
    const token = await bed.token(undefined, 'repository:library/alpine:pull');
    await bed.call('GET', '/v2/library/alpine/manifests/3', { token, headers: { accept: ACCEPT } });
    let last = '';
    for (const platform of seed.alpine.platforms) {
      const child = await bed.call('GET', `/v2/library/alpine/manifests/${platform.digest}`, {
        token,
        headers: { accept: ACCEPT },
      });
      last = child.header('ratelimit-remaining') ?? '';
    }
    expect(last).toBe('97;w=21600');
    // Blob GETs do not count.
    const config = seed.alpine.platforms[0]?.config.digest ?? '';
    expect((await bed.call('GET', `/v2/library/alpine/blobs/${config}`, { token })).status).toBe(307);
    const head = await bed.call('HEAD', '/v2/library/alpine/manifests/3', {
      token,
      headers: { accept: ACCEPT },
    });
    expect(head.header('ratelimit-remaining')).toBe('97;w=21600');
  });

  it("answers Hub's 429 when the quota is spent, does not count it, and frees pulls as the window slides", async () => {
    const { bed } = await hub({ dockerhub: { anonymousPullLimit: 2 } });
    let token = await bed.token(undefined, 'repository:library/alpine:pull');
    const get = (): ReturnType<TestBed['call']> =>
      bed.call('GET', '/v2/library/alpine/manifests/3', { token, headers: { accept: ACCEPT } });
    expect((await get()).status).toBe(200);
    await bed.clock.advance(60_000);
    expect((await get()).status).toBe(200);
    const limited = await get();
    expect(limited.status).toBe(429);
    expect(limited.json()).toEqual({
      errors: [{ code: 'TOOMANYREQUESTS', message: HUB_ANONYMOUS_LIMIT_MESSAGE }],
    });
    expect(limited.header('ratelimit-remaining')).toBe('0;w=21600');
    expect(limited.header('ratelimit-limit')).toBe('2;w=21600');
    expect(bed.sim.log.entries.at(-1)).toMatchObject({ operation: 'manifest.get', status: 429 });
    // HEAD still answers: existence checks never spend or need quota.
    const head = await bed.call('HEAD', '/v2/library/alpine/manifests/3', {
      token,
      headers: { accept: ACCEPT },
    });
    expect(head.status).toBe(200);
    expect(head.header('ratelimit-remaining')).toBe('0;w=21600');
    // The first pull leaves the window 6 hours after it was made; the second a minute later.
    await bed.clock.advance(21_600_000 - 60_000);
    token = await bed.token(undefined, 'repository:library/alpine:pull'); // the old one expired
    const freed = await get();
    expect(freed.status).toBe(200);
    expect(freed.header('ratelimit-remaining')).toBe('0;w=21600');
    expect((await get()).status).toBe(429);
  });

  it('counts a signed-in account by its account id (never its name), with its own limit; unlimited accounts get no headers', async () => {
    const { bed, seed } = await hub({ dockerhub: { unlimitedUsers: ['paid'] } });
    const token = await bed.token(seed.token, 'repository:library/alpine:pull');
    const get = await bed.call('GET', '/v2/library/alpine/manifests/3', {
      token,
      headers: { accept: ACCEPT },
    });
    expect(get.header('ratelimit-limit')).toBe('200;w=21600');
    expect(get.header('ratelimit-remaining')).toBe('199;w=21600');
    const source = get.header('docker-ratelimit-source') ?? '';
    expect(source).toBe(hubAccountId(seed.user));
    expect(source).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(source).not.toContain(seed.user);
    const paid = bed.sim.createToken({ user: 'paid', scopes: ['read:packages'] });
    const paidToken = await bed.token(paid, 'repository:library/alpine:pull');
    const unlimited = await bed.call('GET', '/v2/library/alpine/manifests/3', {
      token: paidToken,
      headers: { accept: ACCEPT },
    });
    expect(unlimited.status).toBe(200);
    expect(unlimited.header('ratelimit-limit')).toBeUndefined();
    expect(unlimited.header('docker-ratelimit-source')).toBeUndefined();
  });

  it('starts over after reset()', async () => {
    const { bed } = await hub({ dockerhub: { anonymousPullLimit: 1 } });
    await seedDockerHub(bed.sim);
    const token = await bed.token(undefined, 'repository:library/alpine:pull');
    expect(
      (await bed.call('GET', '/v2/library/alpine/manifests/3', { token, headers: { accept: ACCEPT } }))
        .status,
    ).toBe(200);
    bed.sim.reset();
    await seedDockerHub(bed.sim);
    const fresh = await bed.token(undefined, 'repository:library/alpine:pull');
    expect(
      (await bed.call('GET', '/v2/library/alpine/manifests/3', { token: fresh, headers: { accept: ACCEPT } }))
        .status,
    ).toBe(200);
  });
});

describe('dockerhub profile: CDN and web host', () => {
  it('redirects blob GETs to a signed, expiring CDN URL that refuses credentials', async () => {
    const { bed, seed } = await hub({ signedUrlTtlSeconds: 60 });
    const token = await bed.token(undefined, 'repository:library/busybox:pull');
    const layer = seed.busybox.image.layers[0];
    if (layer === undefined) throw new Error('no layer');
    const hex = layer.digest.slice(7);
    const redirect = await bed.call('GET', `/v2/library/busybox/blobs/${layer.digest}`, { token });
    expect(redirect.status).toBe(307);
    const location = redirect.header('location') ?? '';
    expect(location).toMatch(
      new RegExp(
        `^https://production\\.cloudflare\\.docker\\.com/registry-v2/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data\\?verify=\\d+-`,
      ),
    );
    const blob = await bed.call('GET', location);
    expect(blob.status).toBe(200);
    expect(digestOf(blob.body)).toBe(layer.digest);
    expect(bed.sim.log.entries.at(-1)).toMatchObject({ operation: 'blobhost.get', hadAuthorization: false });
    expect(bed.sim.log.entries.at(-1)?.url).not.toContain(location.slice(location.indexOf('verify=') + 7));
    expect((await bed.call('GET', location, { token })).status).toBe(403);
    const tampered = location.replace(
      /verify=(\d+)-/,
      (_all, seconds: string) => `verify=${Number(seconds) + 1}-`,
    );
    expect((await bed.call('GET', tampered)).status).toBe(403);
    const ranged = await bed.call('GET', location, { headers: { range: 'bytes=0-9' } });
    expect(ranged.status).toBe(206);
    await bed.clock.advance(60_000);
    const expired = await bed.call('GET', location);
    expect(expired.status).toBe(403);
    expect(expired.text).toContain('expired');
    // HEAD on the registry answers there, without a redirect.
    const head = await bed.call('HEAD', `/v2/library/busybox/blobs/${layer.digest}`, { token });
    expect(head.status).toBe(200);
  });

  it('answers docker.io/v2/… with a redirect to an HTML page, as the real web host does', async () => {
    const { bed } = await hub();
    const web = await bed.call('HEAD', 'https://docker.io/v2/alpine/manifests/3');
    expect(web.status).toBe(301);
    expect(web.header('location')).toBe('https://www.docker.com/');
    const page = await bed.call('GET', 'https://www.docker.com/');
    expect(page.status).toBe(200);
    expect(page.header('content-type')).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('<!DOCTYPE html>');
    expect(bed.sim.log.entries.map((entry) => entry.operation)).toEqual(['web.get', 'web.get']);
  });
});

describe('dockerhub profile: the loopback server', () => {
  it('serves the registry, token host, CDN and web hosts on ports of their own, counting by peer address', async () => {
    const server = await startSimulationServer({ simulationOptions: { profile: 'dockerhub' } });
    const agent = new Agent();
    try {
      await seedDockerHub(server.simulation);
      const ports = new Set(
        [server.url, server.tokenUrl, server.blobUrl, server.webUrl, server.homeUrl].map(
          (url) => new URL(url ?? '').port,
        ),
      );
      expect(ports.size).toBe(5);
      expect(server.tokenUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/token$/);
      const challenge = await request(`${server.url}/v2/`, { dispatcher: agent });
      await challenge.body.dump();
      expect(challenge.headers['www-authenticate']).toBe(
        `Bearer realm="${server.tokenUrl}",service="registry.docker.io"`,
      );
      const { token } = (await (
        await request(`${server.tokenUrl}?service=registry.docker.io&scope=repository:library/alpine:pull`, {
          dispatcher: agent,
        })
      ).body.json()) as { token: string };
      const manifest = await request(`${server.url}/v2/library/alpine/manifests/latest`, {
        headers: { authorization: `Bearer ${token}`, accept: ACCEPT },
        dispatcher: agent,
      });
      await manifest.body.dump();
      expect(manifest.statusCode).toBe(200);
      expect(manifest.headers['docker-ratelimit-source']).toBe('127.0.0.1');
      const web = await request(`${server.webUrl}/v2/library/alpine/manifests/latest`, { dispatcher: agent });
      await web.body.dump();
      expect(web.statusCode).toBe(301);
      expect(web.headers.location).toBe(`${server.homeUrl}/`);
    } finally {
      await agent.close();
      await server.close();
    }
  });
});
