import { staticCredentials } from '@ghcr/auth';
import { createManualClock } from '@ghcr/oci-types';
import { createSimulation, pushBlob } from '@ghcr/simulation';
import { transportDetails } from '@ghcr/transport';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createGhcrClient } from './client.js';

describe('the transport a client builds', () => {
  it('shares its dispatcher with the token manager and counts token cache misses and hits in its metrics', async () => {
    const clock = createManualClock();
    const simulation = createSimulation({
      profile: 'distribution',
      registryUrl: 'https://registry.test',
      clock,
    });
    simulation.createUser('octocat');
    const token = simulation.createToken({ user: 'octocat', scopes: ['read:packages', 'write:packages'] });
    const blob = await pushBlob(simulation, 'octocat/app', 'hello');
    const metrics = new Registry();
    const client = createGhcrClient({
      registry: 'registry.test',
      dispatcher: simulation.dispatcher(),
      clock,
      credentials: staticCredentials({ username: 'octocat', password: token }),
      transportOptions: { metrics: { registry: metrics } },
    });
    simulation.log.clear();
    expect(await client.blobs.exists('octocat/app', blob.digest)).toBeDefined();
    expect(await client.blobs.exists('octocat/app', blob.digest)).toBeDefined();
    // The token came through the same (simulated) dispatcher as the registry requests.
    expect(simulation.log.entries.filter((e) => e.path === '/token')).toHaveLength(1);
    const text = await metrics.metrics();
    expect(text).toMatch(/ghcr_token_cache_total\{result="miss"\} 1\n/);
    expect(text).toMatch(/ghcr_token_cache_total\{result="hit"\} [1-9]/);
    expect(transportDetails(client.transport).metrics).toBeDefined();
    await client.close();
  });
});
