/**
 * Many packages of one organisation within one API budget, on the simulation's ghcr profile (its
 * Packages API counts the hourly budget and paces writes like GitHub), resumed from the saved
 * state by a second run.
 */
import { staticCredentials } from '@ghcr/auth';
import { createManualClock, GhcrErrorCode, type ManualClock } from '@ghcr/oci-types';
import { createSimulation, type OrganizationSeed, type Simulation, seedOrganization } from '@ghcr/simulation';
import { settle } from '@ghcr/test-support';
import { describe, expect, it } from 'vitest';
import { createGhcrClient } from '../../client.js';
import { cleanupPackages, packageNameMatcher } from './cleanup-packages.js';
import { createMemoryCleanupState } from './cleanup-state.js';
import { createRequestBudget } from './request-budget.js';

const isApi = (path: string): boolean => !path.startsWith('/v2/') && path !== '/token';

async function organisation(packages: number): Promise<{
  sim: Simulation;
  clock: ManualClock;
  seed: OrganizationSeed;
}> {
  const clock = createManualClock(Date.parse('2026-05-01T00:00:00Z'));
  const sim = createSimulation({ profile: 'ghcr', clock, apiRateLimit: { limit: 1000 } });
  const seed = await seedOrganization(sim, { owner: 'big-org', packages });
  // Pushed an hour before the cleanup runs (older than the executor's 10-minute minAge).
  await clock.advance(60 * 60_000);
  return { sim, clock, seed };
}

function clientFor(sim: Simulation, clock: ManualClock, token: string, limit: number) {
  const budget = createRequestBudget({ limit });
  const client = createGhcrClient({
    registry: 'ghcr.io',
    dispatcher: sim.dispatcher(),
    credentials: staticCredentials({ username: 'octocat', password: token }),
    clock,
    transportOptions: { retry: { random: () => 0 }, middleware: [budget.middleware] },
  });
  return { client, budget };
}

describe('cleanupPackages', () => {
  it('stops before the budget runs out, never between an image and its children, and the next run finishes', async () => {
    const { sim, clock, seed } = await organisation(12);
    const state = createMemoryCleanupState();
    const policy = { keepNewestTagged: 1 };

    const first = clientFor(sim, clock, seed.token, 46);
    sim.log.clear();
    const run1 = await settle(
      cleanupPackages(first.client, { owner: seed.owner, policy, budget: first.budget, state }),
      clock,
      1000,
    );
    const apiRequests1 = sim.log.filter((entry) => isApi(entry.path));
    // Owner type + one page of packages, then 7 per package (versions page, the look again before
    // the delete batch, 5 deletions).
    expect(apiRequests1.length).toBe(first.budget.used);
    expect(apiRequests1.length).toBeLessThanOrEqual(46);
    expect(apiRequests1.every((entry) => entry.status < 400)).toBe(true);
    expect(run1.selected).toHaveLength(12);
    expect(run1.complete).toBe(false);
    expect(run1.stopped).toMatch(/API budget/);
    const finished = run1.packages.filter((outcome) => outcome.status === 'done');
    expect(finished).toHaveLength(6);
    // The seventh was listed and planned, but its image did not fit: nothing of it was deleted.
    const partial = run1.packages.at(-1);
    expect(partial?.status).toBe('partial');
    expect(partial?.deferred).toHaveLength(5);
    expect(partial?.report?.deleted).toEqual([]);
    expect(state.current?.done).toEqual(finished.map((outcome) => outcome.package));
    expect(run1.pending).toEqual(seed.packages.slice(6).map((pkg) => pkg.name));

    // The next hour: a fresh client and budget, the same state.
    await clock.advance(60 * 60_000);
    const second = clientFor(sim, clock, seed.token, 46);
    sim.log.clear();
    const run2 = await settle(
      cleanupPackages(second.client, { owner: seed.owner, policy, budget: second.budget, state }),
      clock,
      1000,
    );
    expect(run2.resumed).toHaveLength(6);
    expect(run2.packages.map((outcome) => outcome.package)).toEqual(run1.pending);
    expect(run2.packages.every((outcome) => outcome.status === 'done')).toBe(true);
    expect(run2.complete).toBe(true);
    expect(state.current?.complete).toBe(true);
    expect(state.current?.runs).toBe(2);
    // No version list of a package the first run finished.
    const listed = sim.log.byOperation('api.versions.list').map((entry) => entry.path);
    expect(listed.some((path) => path.includes('pkg-001'))).toBe(false);
    expect(second.budget.used).toBe(2 + 6 * 7);

    const reader = clientFor(sim, clock, seed.token, 1000).client;
    for (const pkg of seed.packages) {
      const versions = await reader.versions.list(`${seed.owner}/${pkg.name}`);
      const newest = pkg.releases.at(-1);
      expect(versions.map((version) => version.name).sort()).toEqual(
        [
          newest?.index.digest,
          ...(newest?.platforms.map((image) => image.digest) ?? []),
          ...(newest?.attestations.map((attestation) => attestation.digest) ?? []),
        ].sort(),
      );
    }
  }, 60_000);

  it('reports a version that vanished between list and delete, and a package that vanished after the listing', async () => {
    const { sim, clock, seed } = await organisation(3);
    const { client, budget } = clientFor(sim, clock, seed.token, 1000);
    const gone = seed.packages[0]?.releases[0]?.platforms[0];
    const result = await settle(
      cleanupPackages(client, {
        owner: seed.owner,
        packages: ['pkg-*'],
        policy: { keepNewestTagged: 1 },
        budget,
        onEvent(event) {
          const repository = (name: string) => sim.state.getRepository(`${seed.owner}/${name}`);
          // Someone else deletes a platform manifest of pkg-001 after it was planned…
          if (event.type === 'planned' && event.package === 'pkg-001' && gone !== undefined) {
            const record = repository('pkg-001');
            if (record !== undefined) sim.state.deleteVersion(record, gone.record.versionId);
          }
          // …and the whole of pkg-003 after the packages were listed.
          if (event.type === 'selected') {
            const record = repository('pkg-003');
            if (record !== undefined) sim.state.deletePackage(record);
          }
        },
      }),
      clock,
      1000,
    );
    const [first, second, third] = result.packages;
    expect(first?.status).toBe('done');
    const outcomes = Object.fromEntries(
      first?.report?.deleted.map((entry) => [entry.digest, entry.outcome]) ?? [],
    );
    expect(outcomes[gone?.digest ?? '']).toBe('already-gone');
    expect(Object.values(outcomes).filter((outcome) => outcome === 'deleted')).toHaveLength(4);
    expect(second?.status).toBe('done');
    expect(third?.status).toBe('vanished');
    expect(third?.error).toContain(GhcrErrorCode.NOT_FOUND);
    expect(result.complete).toBe(true);
  }, 60_000);

  it('starts a new cycle when the policy changed or the last one completed', async () => {
    const { sim, clock, seed } = await organisation(2);
    const state = createMemoryCleanupState({
      format: 1,
      owner: seed.owner,
      fingerprint: 'another policy',
      startedAt: '2026-04-01T00:00:00.000Z',
      updatedAt: '2026-04-01T00:00:00.000Z',
      runs: 3,
      done: ['pkg-001'],
      complete: false,
    });
    const { client } = clientFor(sim, clock, seed.token, 1000);
    const result = await settle(
      cleanupPackages(client, { owner: seed.owner, policy: {}, dryRun: true, state }),
      clock,
      1000,
    );
    expect(result.resumed).toEqual([]);
    expect(result.packages.map((outcome) => outcome.package)).toEqual(['pkg-001', 'pkg-002']);
    expect(state.current?.runs).toBe(1);
    expect(state.current?.complete).toBe(true);
  }, 60_000);
});

describe('packageNameMatcher', () => {
  it('matches * across "/" and ? as one character, literally otherwise', () => {
    expect(packageNameMatcher('team/*')('team/app/worker')).toBe(true);
    expect(packageNameMatcher('app-?')('app-1')).toBe(true);
    expect(packageNameMatcher('app-?')('app-10')).toBe(false);
    expect(packageNameMatcher('a.b')('axb')).toBe(false);
  });
});
