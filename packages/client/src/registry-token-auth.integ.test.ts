import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { staticCredentials } from '@ghcr/auth';
import { buildImageManifest } from '@ghcr/manifest';
import { EMPTY_DESCRIPTOR, GhcrError, MediaType, systemClock } from '@ghcr/oci-types';
import { type SimulationServer, startSimulationServer } from '@ghcr/simulation';
import { createTokenSigningKey } from '@ghcr/test-support';
import { describeWithBinaries, useDockerRegistry } from '@ghcr/test-support/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGhcrClient } from './client.js';
import { bufferSource } from './registry/blob-source.js';

// docker-registry with bearer-token auth whose JWTs the simulation's token endpoint mints
// (shared/reference/toolchain.md): the client's whole challenge → token → retry flow against a
// real registry that verifies signatures, audience, issuer, expiry and scopes itself.
const SERVICE = 'docker-registry.test';
const ISSUER = 'ghcr-simulation';

describeWithBinaries(['docker-registry', 'openssl'], 'docker-registry token auth', () => {
  let workDir: string;
  let tokenServer: SimulationServer;
  let certificatePath: string;
  let writer: string;
  let reader: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'ghcr-token-auth-'));
    const key = await createTokenSigningKey({ directory: workDir, issuer: ISSUER });
    certificatePath = key.certificatePath;
    tokenServer = await startSimulationServer({
      host: '127.0.0.1',
      port: 0,
      simulationOptions: {
        profile: 'distribution',
        // docker-registry checks exp/nbf against the real time.
        clock: systemClock,
        tokenSigning: { privateKey: key.privateKeyPem, issuer: ISSUER },
      },
    });
    tokenServer.simulation.createUser('octocat');
    writer = tokenServer.simulation.createToken({
      user: 'octocat',
      scopes: ['read:packages', 'write:packages'],
    });
    reader = tokenServer.simulation.createToken({ user: 'octocat', scopes: ['read:packages'] });
  });
  afterAll(async () => {
    await tokenServer?.close();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });
  // Started after the token server (hooks run in order) and stopped before it.
  const registry = useDockerRegistry(() => ({
    tokenAuth: {
      realm: `${tokenServer.url}/token`,
      service: SERVICE,
      issuer: ISSUER,
      rootCertBundle: certificatePath,
    },
  }));

  const clientWith = (password: string) =>
    createGhcrClient({
      registry: registry.host,
      credentials: staticCredentials({ username: 'octocat', password }),
    });

  it('pushes and pulls with tokens from the challenge, one token request per scope', async () => {
    const client = clientWith(writer);
    const layer = Buffer.from('a layer behind token auth\n');
    const uploaded = await client.blobs.upload('octocat/app', bufferSource(layer));
    expect(uploaded.method).toBe('uploaded');
    const manifest = buildImageManifest({
      config: EMPTY_DESCRIPTOR,
      layers: [{ ...uploaded.descriptor, mediaType: MediaType.OciLayer }],
      artifactType: 'application/vnd.ghcr.test',
    });
    await client.blobs.upload('octocat/app', bufferSource(Buffer.from('{}')));
    await client.manifests.put('octocat/app', manifest, { tags: ['v1'] });
    const fetched = await client.manifests.get('octocat/app', 'v1');
    expect(fetched.digest).toBe(manifest.digest);
    const tokenRequests = tokenServer.simulation.log.entries.filter((entry) => entry.path === '/token');
    expect(tokenRequests.length).toBeGreaterThanOrEqual(1);
    // Never two token requests for the same scope set: the token manager caches and shares them.
    const scopeSets = tokenRequests.map((entry) =>
      new URL(entry.url).searchParams.getAll('scope').sort().join(' '),
    );
    expect(new Set(scopeSets).size).toBe(scopeSets.length);
    expect(tokenRequests.every((entry) => entry.status === 200)).toBe(true);
    expect(new Set(tokenRequests.map((entry) => new URL(entry.url).searchParams.get('service')))).toEqual(
      new Set([SERVICE]),
    );
    await client.close();
  });

  it('refuses a push with a read-only token: the registry answers insufficient scope', async () => {
    const client = clientWith(reader);
    const error = await client.blobs
      .upload('octocat/other', bufferSource(Buffer.from('x')))
      .catch((e: unknown) => e);
    expect(GhcrError.isInstance(error)).toBe(true);
    expect(['authentication', 'authorization']).toContain((error as GhcrError).family);
    expect((error as Error).message).not.toContain(reader);
    await client.close();
  });

  it('refuses a token endpoint password it does not know', async () => {
    const client = clientWith('ghp_unknown_000000000000000000000000000000');
    const error = await client.manifests.get('octocat/app', 'v1').catch((e: unknown) => e);
    expect(GhcrError.isInstance(error) && error.code).toBe('GHCR_AUTH_FAILED');
    await client.close();
  });
});
