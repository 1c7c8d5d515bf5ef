import { staticCredentials } from '@ghcr/auth';
import { createManualClock, MediaType } from '@ghcr/oci-types';
import { createSimulation } from '@ghcr/simulation';
import { describe, expect, it } from 'vitest';
import { createGhcrClient } from './client.js';
import { randomImage } from './testing/images-kit.js';
import { RoutingDispatcher } from './testing/routing-dispatcher.js';

/** ghcr.io and a Docker-Hub-addressed distribution registry, both simulated, behind one dispatcher. */
function twoRegistries() {
  const clock = createManualClock();
  const ghcr = createSimulation({ profile: 'ghcr', clock });
  ghcr.createUser('octo');
  const pat = ghcr.createToken({
    user: 'octo',
    scopes: ['read:packages', 'write:packages', 'delete:packages'],
  });
  const hub = createSimulation({
    profile: 'distribution',
    clock,
    registryUrl: 'https://registry-1.docker.io',
  });
  hub.createUser('library');
  const hubToken = hub.createToken({ user: 'library', scopes: ['read:packages', 'write:packages'] });
  const dispatcher = new RoutingDispatcher({
    'https://ghcr.io': ghcr.dispatcher(),
    'https://pkg-containers.githubusercontent.com': ghcr.dispatcher(),
    'https://registry-1.docker.io': hub.dispatcher(),
  });
  return { clock, ghcr, hub, pat, hubToken, dispatcher };
}

describe('one client, many registries', () => {
  it('copies docker.io/library/alpine:3 into ghcr.io with one client, the PAT going to ghcr.io only', async () => {
    const { clock, ghcr, hub, pat, hubToken, dispatcher } = twoRegistries();
    // The Hub stand-in is seeded by its own publisher, with their own credential.
    const publisher = createGhcrClient({
      registry: 'docker.io',
      dispatcher,
      clock,
      credentials: staticCredentials(
        { username: 'library', password: hubToken },
        { registries: ['docker.io'] },
      ),
    });
    const image = await randomImage([1024, 2048]);
    await publisher.images.push('alpine:3', { target: image.target, reference: 'v1' });
    hub.setVisibility('library', 'alpine', 'public');

    const client = createGhcrClient({
      dispatcher,
      clock,
      credentials: staticCredentials({ username: 'octo', password: pat }, { registries: ['ghcr.io'] }),
    });
    hub.log.clear();
    const copied = await client.images.copy('docker.io/alpine:3', 'ghcr.io/octo/alpine:3');
    expect(copied).toMatchObject({ registry: 'ghcr.io', repository: 'octo/alpine' });
    expect(copied.descriptor.digest).toBe(image.manifest.digest);
    const inspected = await client.images.inspect('octo/alpine:3');
    expect(inspected.digest).toBe(image.manifest.digest);

    // Docker Hub's API host and its library/ prefix; nothing went to docker.io itself.
    const hubPaths = hub.log.entries.map((entry) => `${entry.host} ${entry.path}`);
    expect(hubPaths).toContain('registry-1.docker.io /v2/library/alpine/manifests/3');
    expect(hub.log.entries.every((entry) => entry.host === 'registry-1.docker.io')).toBe(true);
    // The GitHub token never reached the other registry, in any form.
    const secretForms = [
      pat,
      Buffer.from(pat).toString('base64'),
      Buffer.from(`octo:${pat}`).toString('base64'),
    ];
    for (const entry of hub.log.entries) {
      for (const value of Object.values(entry.requestHeaders)) {
        for (const form of secretForms) expect(value).not.toContain(form);
      }
    }
    expect(ghcr.log.entries.some((entry) => entry.hadAuthorization)).toBe(true);
  });

  it('keeps one view per registry, whatever name Docker Hub is given', () => {
    const client = createGhcrClient({ dispatcher: twoRegistries().dispatcher });
    const hub = client.forRegistry('docker.io');
    expect(client.forRegistry('index.docker.io')).toBe(hub);
    expect(client.forRegistry('registry-1.docker.io')).toBe(hub);
    expect(hub).toMatchObject({
      registry: 'docker.io',
      baseUrl: 'https://registry-1.docker.io',
      flavor: 'distribution',
    });
    expect(client.forRegistry('ghcr.io')).toBe(client);
    expect(hub.transport).toBe(client.transport);
    expect(client.forRegistry('localhost:5001').baseUrl).toBe('http://localhost:5001');
  });

  it('applies per-registry settings: plain HTTP where asked, ghcr behaviour for a GitHub Enterprise host', () => {
    const client = createGhcrClient({
      registries: {
        'registry.internal:5000': { plainHttp: true },
        'containers.ghe.example.com': { flavor: 'ghcr' },
      },
    });
    expect(client.forRegistry('registry.internal:5000').baseUrl).toBe('http://registry.internal:5000');
    expect(client.forRegistry('containers.ghe.example.com').flavor).toBe('ghcr');
    expect(client.forRegistry('quay.io')).toMatchObject({
      baseUrl: 'https://quay.io',
      flavor: 'distribution',
    });
  });

  it('refuses an unknown per-registry setting and a registry that is not host[:port], naming them', () => {
    expect(() => createGhcrClient({ registries: { 'quay.io': { plainHtp: true } as never } })).toThrow(
      /registries/,
    );
    expect(() => createGhcrClient().forRegistry('quay.io/octo')).toThrow(/invalid registry "quay.io\/octo"/);
  });

  it('answers a pull from Docker Hub by its familiar name with the official image', async () => {
    const { clock, hub, hubToken, dispatcher } = twoRegistries();
    const publisher = createGhcrClient({
      registry: 'docker.io',
      dispatcher,
      clock,
      credentials: staticCredentials(
        { username: 'library', password: hubToken },
        { registries: ['docker.io'] },
      ),
    });
    const image = await randomImage([512]);
    await publisher.images.push('docker.io/library/busybox:1', { target: image.target, reference: 'v1' });
    hub.log.clear();
    const inspected = await publisher.images.inspect('index.docker.io/busybox:1');
    expect(inspected).toMatchObject({ digest: image.manifest.digest, mediaType: MediaType.OciManifest });
    expect(hub.log.entries.map((entry) => entry.path)).toContain('/v2/library/busybox/manifests/1');
  });
});

describe('per-registry settings', () => {
  it('lets "*" set every registry without an entry of its own', () => {
    const client = createGhcrClient({
      registries: { '*': { plainHttp: true }, 'quay.io': { plainHttp: false } },
    });
    expect(client.forRegistry('registry.internal:5000').baseUrl).toBe('http://registry.internal:5000');
    expect(client.forRegistry('docker.io').baseUrl).toBe('http://registry-1.docker.io');
    expect(client.forRegistry('quay.io').baseUrl).toBe('https://quay.io');
  });
});
