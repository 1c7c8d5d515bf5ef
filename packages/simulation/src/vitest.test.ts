import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { pushImage } from './scenarios/push.js';
import { useSimulation } from './vitest.js';

describe('useSimulation', () => {
  const sim = useSimulation({
    profile: 'distribution',
    setup: async (simulation) => {
      await pushImage(simulation, 'octocat/app', { tag: 'v1' });
    },
  });

  it('gives each test a fresh, set-up simulation (first test adds a tag)', async () => {
    expect(sim.simulation.options.profile).toBe('distribution');
    await pushImage(sim.simulation, 'octocat/app', { tag: 'v2', seed: 'only here' });
    expect([...(sim.simulation.state.getRepository('octocat/app')?.tags.keys() ?? [])].sort()).toEqual([
      'v1',
      'v2',
    ]);
  });

  it('gives each test a fresh, set-up simulation (second test does not see it)', async () => {
    expect([...(sim.simulation.state.getRepository('octocat/app')?.tags.keys() ?? [])]).toEqual(['v1']);
    expect(sim.clock.now()).toBe(Date.UTC(2026, 0, 1));
    const response = await request('https://ghcr.io/v2/', { dispatcher: sim.dispatcher });
    await response.body.dump();
    expect(response.statusCode).toBe(401);
  });

  it('refuses access to a server that was not asked for', () => {
    expect(() => sim.server).toThrow(/server: true/);
  });
});

describe('useSimulation({ server: true })', () => {
  const sim = useSimulation({ server: true });
  it('starts a loopback server whose URLs are the simulation’s origins', async () => {
    expect(sim.simulation.options.registryUrl).toBe(sim.server.url);
    const response = await request(`${sim.server.url}/v2/`);
    await response.body.dump();
    expect(response.statusCode).toBe(401);
  });
});

describe('useSimulation outside a test', () => {
  const sim = useSimulation();
  // Read while the file is collected, before any beforeEach ran.
  let readTooEarly: unknown;
  try {
    void sim.simulation;
  } catch (error) {
    readTooEarly = error;
  }
  it('throws a helpful error when read before beforeEach', () => {
    expect(readTooEarly).toBeInstanceOf(Error);
    expect((readTooEarly as Error).message).toMatch(/inside a test/);
  });
  it('gives the test its simulation once the test runs', () => {
    expect(sim.simulation.options.registryUrl).toBe('https://ghcr.io');
  });
});
