import { createTokenManager, staticCredentials } from '@ghcr/auth';
import { AuthenticationError, type Clock, createManualClock, definedProps, GhcrError } from '@ghcr/oci-types';
import { createSimulation, pushBlob, type Simulation } from '@ghcr/simulation';
import { settle } from '@ghcr/test-support';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { recordTokenEvent } from './metrics.js';
import { createRegistryAuthorizer } from './registry-authorizer.js';
import { createTransport, type Transport, transportDetails } from './transport.js';

const REGISTRY = 'https://registry.test';

function clientFor(
  simulation: Simulation,
  password: string | undefined,
  clientClock: Clock = simulation.clock,
  registry: Registry = new Registry(),
) {
  const dispatcher = simulation.dispatcher();
  const credentials = staticCredentials(password === undefined ? {} : { username: 'octocat', password });
  let transport: Transport | undefined;
  const tokenManager = createTokenManager({
    dispatcher,
    credentials,
    clock: clientClock,
    onEvent: (event) =>
      recordTokenEvent(transport === undefined ? undefined : transportDetails(transport).metrics, event),
  });
  transport = createTransport({
    dispatcher,
    clock: simulation.clock,
    retry: { random: () => 0 },
    metrics: { registry },
    authorizer: createRegistryAuthorizer({ tokenManager, apiCredentials: credentials }),
  });
  return transport;
}

describe('transport against the simulation', () => {
  it('fetches one token for 100 concurrent requests in one scope', async () => {
    const simulation = createSimulation({
      profile: 'distribution',
      registryUrl: REGISTRY,
      clock: createManualClock(),
    });
    simulation.createUser('octocat');
    const pat = simulation.createToken({ user: 'octocat', scopes: ['read:packages', 'write:packages'] });
    const blob = await pushBlob(simulation, 'octocat/app', 'hello');
    const registry = new Registry();
    const transport = clientFor(simulation, pat, simulation.clock, registry);
    const responses = await Promise.all(
      Array.from({ length: 100 }, () =>
        transport.send({
          operation: 'blobs.exists',
          method: 'HEAD',
          url: `${REGISTRY}/v2/octocat/app/blobs/${blob.digest}`,
          auth: { kind: 'registry', repository: 'octocat/app', actions: ['pull'] },
        }),
      ),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(simulation.log.entries.filter((e) => e.path === '/token')).toHaveLength(1);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/ghcr_token_cache_total\{result="miss"\} [1-9]/);
  });

  it('refreshes an expired token once after a 401 and succeeds', async () => {
    const clock = createManualClock();
    const simulation = createSimulation({
      profile: 'distribution',
      registryUrl: REGISTRY,
      clock,
      tokenTtlSeconds: 30,
    });
    simulation.createUser('octocat');
    const pat = simulation.createToken({ user: 'octocat', scopes: ['read:packages', 'write:packages'] });
    const blob = await pushBlob(simulation, 'octocat/app', 'hello');
    // The client's clock stands still while the registry's moves on (clock skew): the client
    // believes its token is still good when the registry has already expired it.
    const transport = clientFor(simulation, pat, createManualClock());
    const head = () =>
      transport.send({
        operation: 'blobs.exists',
        method: 'HEAD',
        url: `${REGISTRY}/v2/octocat/app/blobs/${blob.digest}`,
        auth: { kind: 'registry', repository: 'octocat/app', actions: ['pull'] },
      });
    await head();
    await clock.advance(40_000);
    simulation.log.clear();
    const response = await head();
    expect(response.status).toBe(200);
    expect(
      simulation.log.entries.map((e) => `${e.path === '/token' ? 'token' : e.method} ${e.status}`),
    ).toEqual(['HEAD 401', 'token 200', 'HEAD 200']);
  });

  it('fails with AuthenticationError, not a loop, when the token endpoint refuses the credentials', async () => {
    const simulation = createSimulation({
      profile: 'distribution',
      registryUrl: REGISTRY,
      clock: createManualClock(),
    });
    simulation.createUser('octocat');
    const transport = clientFor(simulation, 'ghp_not_a_real_token_0000000000000000');
    const error = await transport
      .send({
        operation: 'manifests.get',
        method: 'GET',
        url: `${REGISTRY}/v2/octocat/app/manifests/latest`,
        auth: { kind: 'registry', repository: 'octocat/app', actions: ['pull'] },
      })
      .catch((e: unknown) => e);
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect((error as Error).message).not.toContain('ghp_not_a_real_token');
  });

  it('sends no Authorization to the host a GHCR blob GET redirects to', async () => {
    const simulation = createSimulation({ profile: 'ghcr', clock: createManualClock() });
    simulation.createUser('octocat');
    const pat = simulation.createToken({ user: 'octocat', scopes: ['read:packages', 'write:packages'] });
    const blob = await pushBlob(simulation, 'octocat/app', 'layer bytes');
    const transport = clientFor(simulation, pat);
    const response = await transport.send({
      operation: 'blobs.get',
      method: 'GET',
      url: `https://ghcr.io/v2/octocat/app/blobs/${blob.digest}`,
      auth: { kind: 'registry', repository: 'octocat/app', actions: ['pull'] },
    });
    expect(await response.body.text()).toBe('layer bytes');
    const registryHit = simulation.log.entries.find(
      (e) => e.host === 'ghcr.io' && e.path.includes('/blobs/'),
    );
    const blobHostHit = simulation.log.entries.find((e) => e.host !== 'ghcr.io');
    expect(registryHit?.status).toBe(307);
    expect(registryHit?.hadAuthorization).toBe(true);
    expect(blobHostHit?.status).toBe(200);
    expect(blobHostHit?.hadAuthorization).toBe(false);
    expect(Object.keys(blobHostHit?.requestHeaders ?? {})).not.toContain('cookie');
  });

  it('retries injected 503s with backoff and then succeeds', async () => {
    const clock = createManualClock();
    const simulation = createSimulation({
      profile: 'distribution',
      registryUrl: REGISTRY,
      clock,
      anonymousPull: true,
    });
    simulation.createUser('octocat');
    const pat = simulation.createToken({ user: 'octocat', scopes: ['read:packages'] });
    const blob = await pushBlob(simulation, 'octocat/app', 'x');
    simulation.faults.add({
      method: 'HEAD',
      path: /\/blobs\//,
      count: 2,
      action: { type: 'status', status: 503 },
    });
    const transport = clientFor(simulation, pat);
    const response = await settle(
      transport.send({
        operation: 'blobs.exists',
        method: 'HEAD',
        url: `${REGISTRY}/v2/octocat/app/blobs/${blob.digest}`,
        auth: { kind: 'registry', repository: 'octocat/app', actions: ['pull'] },
      }),
      clock,
      500,
    );
    expect(response.status).toBe(200);
    const heads = simulation.log.entries.filter((e) => e.method === 'HEAD').map((e) => e.status);
    expect(heads.filter((s) => s === 503)).toHaveLength(2);
    expect(heads.at(-1)).toBe(200);
  });

  it('maps GHCR manifest DELETE to an UNSUPPORTED error that names the code', async () => {
    const simulation = createSimulation({ profile: 'ghcr', clock: createManualClock() });
    simulation.createUser('octocat');
    const pat = simulation.createToken({
      user: 'octocat',
      scopes: ['read:packages', 'write:packages', 'delete:packages'],
    });
    await pushBlob(simulation, 'octocat/app', 'x');
    const transport = clientFor(simulation, pat);
    const error = await transport
      .send({
        operation: 'manifests.delete',
        method: 'DELETE',
        url: `https://ghcr.io/v2/octocat/app/manifests/sha256:${'a'.repeat(64)}`,
        auth: { kind: 'registry', repository: 'octocat/app', actions: ['delete'] },
      })
      .catch((e: unknown) => e);
    expect(GhcrError.isInstance(error) && error.code).toBe('UNSUPPORTED');
    expect((error as GhcrError).http?.status).toBe(405);
  });

  it('asks one token for a mount covering push on the target and pull on the source', async () => {
    const simulation = createSimulation({
      profile: 'distribution',
      registryUrl: REGISTRY,
      clock: createManualClock(),
    });
    simulation.createUser('octocat');
    const pat = simulation.createToken({ user: 'octocat', scopes: ['read:packages', 'write:packages'] });
    const blob = await pushBlob(simulation, 'octocat/source', 'shared layer');
    const transport = clientFor(simulation, pat);
    const mount = (extraScopes?: { repository: string; actions: string[] }[]) =>
      transport.send({
        operation: 'blobs.mount',
        method: 'POST',
        url: `${REGISTRY}/v2/octocat/target-${extraScopes === undefined ? 'a' : 'b'}/blobs/uploads/?mount=${blob.digest}&from=octocat/source`,
        contentLength: 0,
        acceptStatus: [202],
        auth: {
          kind: 'registry',
          repository: `octocat/target-${extraScopes === undefined ? 'a' : 'b'}`,
          actions: ['pull', 'push'],
          ...definedProps({ extraScopes }),
        },
      });
    // Without the source's scope the token cannot read the source: the registry opens an upload instead.
    expect((await mount()).status).toBe(202);
    const withSource = await mount([{ repository: 'octocat/source', actions: ['pull'] }]);
    expect(withSource.status).toBe(201);
    const lastToken = simulation.log.entries.filter((e) => e.path === '/token').at(-1);
    expect(decodeURIComponent(lastToken?.url ?? '')).toContain('repository:octocat/source:pull');
    expect(decodeURIComponent(lastToken?.url ?? '')).toContain('repository:octocat/target-b:pull,push');
  });
});
