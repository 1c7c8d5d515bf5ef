import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { staticCredentials } from '@ghcr/auth';
import { buildImageManifest } from '@ghcr/manifest';
import { EMPTY_DESCRIPTOR, GhcrError, MediaType, systemClock } from '@ghcr/oci-types';
import { type SimulationServer, startSimulationServer } from '@ghcr/simulation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferSource } from './blob-source.js';
import { createGhcrClient } from './client.js';
import {
  type DockerRegistry,
  integrationAvailability,
  startDockerRegistry,
} from './testing/docker-registry.js';

// docker-registry with bearer-token auth whose JWTs the simulation's token endpoint mints
// (shared/reference/toolchain.md): the client's whole challenge → token → retry flow against a
// real registry that verifies signatures, audience, issuer, expiry and scopes itself.
const availability = integrationAvailability(['docker-registry', 'openssl']);
const SERVICE = 'docker-registry.test';
const ISSUER = 'ghcr-simulation';

if (!availability.available) {
  describe('docker-registry token auth', () => {
    if (availability.mustFail) {
      it('needs docker-registry and openssl (CI=true)', () => {
        throw new Error(availability.reason);
      });
    } else {
      it.skip(`skipped: ${availability.reason}`, () => {});
    }
  });
} else {
  describe('docker-registry token auth', () => {
    let workDir: string;
    let tokenServer: SimulationServer;
    let registry: DockerRegistry;
    let writer: string;
    let reader: string;

    beforeAll(async () => {
      workDir = await mkdtemp(join(tmpdir(), 'ghcr-token-auth-'));
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const keyPath = join(workDir, 'key.pem');
      const certPath = join(workDir, 'cert.pem');
      await writeFile(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
      execFileSync(
        'openssl',
        ['req', '-x509', '-new', '-key', keyPath, '-subj', `/CN=${ISSUER}`, '-days', '2', '-out', certPath],
        {
          stdio: 'ignore',
        },
      );
      tokenServer = await startSimulationServer({
        host: '127.0.0.1',
        port: 0,
        simulationOptions: {
          profile: 'distribution',
          // docker-registry checks exp/nbf against the real time.
          clock: systemClock,
          tokenSigning: {
            privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
            issuer: ISSUER,
          },
        },
      });
      tokenServer.simulation.createUser('octocat');
      writer = tokenServer.simulation.createToken({
        user: 'octocat',
        scopes: ['read:packages', 'write:packages'],
      });
      reader = tokenServer.simulation.createToken({ user: 'octocat', scopes: ['read:packages'] });
      registry = await startDockerRegistry({
        tokenAuth: {
          realm: `${tokenServer.url}/token`,
          service: SERVICE,
          issuer: ISSUER,
          rootCertBundle: certPath,
        },
      });
    });
    afterAll(async () => {
      await registry?.stop();
      await tokenServer?.close();
      if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
    });

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
}
