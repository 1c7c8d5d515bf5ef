/**
 * End to end on the simulation's ghcr profile: versions from its Packages API, the graph from its
 * registry through the client, deletions through its Packages API (via the transport, paced as
 * GitHub API writes), then every kept tag pulled completely.
 */
import { staticCredentials } from '@ghcr/auth';
import { cosignTagsFor, isIndex, type ParsedManifest } from '@ghcr/manifest';
import {
  createManualClock,
  definedProps,
  type ManualClock,
  NotFoundError,
  type PackageVersion,
  packageVersionSchema,
} from '@ghcr/oci-types';
import {
  createSimulation,
  type DemoSeed,
  pushImage,
  pushIndex,
  type Simulation,
  seedDemo,
} from '@ghcr/simulation';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGhcrClient, type GhcrClient } from '../../client.js';
import { nextLink } from '../../registry/link-header.js';
import { drain } from '../../testing/simulated-client.js';
import type { DeleteVersion } from './execute.js';
import { createMemoryJournal } from './journal.js';
import type { RetentionPolicy } from './policy.js';
import { createRetention, type Retention } from './retention.js';

const API = 'https://api.github.com';
const HOUR = 3_600_000;

interface Bed {
  readonly clock: ManualClock;
  readonly sim: Simulation;
  readonly seed: DemoSeed;
  readonly client: GhcrClient;
  readonly retention: Retention;
  listVersions(repository: string): Promise<PackageVersion[]>;
  deleteVersion(repository: string): DeleteVersion;
}

async function bed(): Promise<Bed> {
  const clock = createManualClock(Date.parse('2026-05-01T00:00:00Z'));
  const sim = createSimulation({ profile: 'ghcr', clock });
  const seed = await seedDemo(sim, { releases: 3, manyVersions: 4 });
  // The cleanup runs an hour after the last push (executePlan's minAge leaves fresh versions alone).
  await clock.advance(HOUR);
  const client = createGhcrClient({
    registry: 'ghcr.io',
    dispatcher: sim.dispatcher(),
    credentials: staticCredentials({ username: seed.admin, password: seed.tokens.all }),
    clock,
    transportOptions: { retry: { random: () => 0 } },
  });
  const retention = createRetention({
    manifests: client.manifests,
    tags: client.tags,
    blobs: client.blobs,
    clock,
  });
  const packagePath = (repository: string): string => {
    const [owner, ...name] = repository.split('/');
    return `${API}/orgs/${owner}/packages/container/${encodeURIComponent(name.join('/'))}`;
  };
  return {
    clock,
    sim,
    seed,
    client,
    retention,
    async listVersions(repository) {
      const versions: PackageVersion[] = [];
      for (
        let url: string | undefined = `${packagePath(repository)}/versions?per_page=100`;
        url !== undefined;
      ) {
        const response = await client.transport.send({
          operation: 'versions.list',
          method: 'GET',
          url,
          auth: { kind: 'github-api' },
        });
        const body = (await response.body.json()) as unknown[];
        versions.push(...body.map((item) => packageVersionSchema.parse(item)));
        url = nextLink(response.headers.link, url);
      }
      return versions;
    },
    deleteVersion:
      (repository) =>
      async (id, { signal }) => {
        const response = await client.transport.send({
          operation: 'versions.delete',
          method: 'DELETE',
          url: `${packagePath(repository)}/versions/${id}`,
          auth: { kind: 'github-api' },
          ...definedProps({ signal }),
        });
        await response.body.dump();
      },
  };
}

/** Pulls a tag completely: every manifest below it by digest, and every blob, verified. */
async function pullCompletely(client: GhcrClient, repository: string, reference: string): Promise<number> {
  let blobs = 0;
  const walk = async (manifest: ParsedManifest): Promise<void> => {
    if (isIndex(manifest)) {
      for (const entry of manifest.manifest.manifests) {
        await walk(await client.manifests.get(repository, entry.digest));
      }
      return;
    }
    for (const descriptor of [manifest.manifest.config, ...manifest.manifest.layers]) {
      const { error } = await drain(client.blobs.get(repository, descriptor));
      expect(error).toBeUndefined();
      blobs += 1;
    }
  };
  await walk(await client.manifests.get(repository, reference));
  return blobs;
}

describe('retention end to end on the simulation (ghcr profile)', () => {
  it('plans, deletes through the Packages API, and every kept tag still pulls completely', async () => {
    const { sim, seed, client, retention, listVersions, deleteVersion } = await bed();
    const repository = seed.app.repository;
    const versions = await listVersions(repository);
    expect(versions).toHaveLength(3 * 5 + 4 + 2);

    // Read the graph: each manifest is downloaded at most once.
    const record = sim.state.getRepository(repository);
    const before = new Map([...(record?.manifests.values() ?? [])].map((m) => [m.digest, m.downloadCount]));
    const graph = await retention.readGraph(repository, versions, { checkBlobs: true });
    for (const manifest of record?.manifests.values() ?? []) {
      expect(manifest.downloadCount - (before.get(manifest.digest) ?? 0)).toBeLessThanOrEqual(1);
    }
    expect(graph.stats.manifestsFetched).toBe(versions.length);
    expect(retention.validate(graph).ok).toBe(true);

    const plan = retention.plan(versions, graph, { keepTags: ['latest'], keepNewestTagged: 1 });
    const [old1, old2, latest] = seed.app.releases;
    const deleted = new Set(plan.decisions.filter((d) => d.action === 'delete').map((d) => d.digest));
    const expectedDeleted = [old1, old2].flatMap((release) => [
      release?.index.digest,
      ...(release?.platforms.map((p) => p.digest) ?? []),
      ...(release?.attestations.map((a) => a.digest) ?? []),
    ]);
    expect([...deleted].sort()).toEqual([...expectedDeleted, seed.app.orphan.digest].sort());
    for (const digest of [
      latest?.index.digest,
      ...(latest?.platforms.map((p) => p.digest) ?? []),
      ...(latest?.attestations.map((a) => a.digest) ?? []),
      seed.app.bundle.digest,
      seed.app.referrersIndex.digest,
      seed.app.cosignSignature.digest,
      seed.app.cosignAttestation.digest,
      seed.app.dev.digest,
    ]) {
      expect(deleted.has(digest as string)).toBe(false);
    }
    const bundleDecision = plan.decisions.find((d) => d.digest === seed.app.bundle.digest);
    expect(bundleDecision?.reasons.map((r) => r.rule)).toContain('referrer-of-kept');

    // A dry run reports the same deletions and changes nothing.
    const dry = await retention.execute(plan, { deleteVersion: deleteVersion(repository), dryRun: true });
    expect((await listVersions(repository)).length).toBe(versions.length);

    const journal = createMemoryJournal();
    sim.log.clear();
    const report = await retention.execute(plan, { deleteVersion: deleteVersion(repository), journal });
    expect(report.summary).toMatchObject({ deleted: 11, failed: 0, skipped: 0, kept: 10 });
    expect(report.deleted.map((entry) => entry.id)).toEqual(dry.deleted.map((entry) => entry.id));
    expect(journal.entries).toHaveLength(11);
    expect(sim.log.byOperation('api.versions.delete')).toHaveLength(11);
    // Each index went before its manifests.
    const deleteUrls = sim.log.byOperation('api.versions.delete').map((entry) => entry.url);
    for (const release of [old1, old2]) {
      const at = (digest: string) =>
        deleteUrls.findIndex((url) =>
          url.endsWith(`/${plan.decisions.find((d) => d.digest === digest)?.id}`),
        );
      for (const child of [...(release?.platforms ?? []), ...(release?.attestations ?? [])]) {
        expect(at(child.digest)).toBeGreaterThan(at(release?.index.digest as string));
      }
    }

    const remaining = await listVersions(repository);
    expect(remaining).toHaveLength(10);
    const keptTags = remaining.flatMap((version) => version.metadata?.container?.tags ?? []);
    expect([...keptTags].sort()).toEqual([...(await client.tags.list(repository))].sort());
    expect(keptTags).toEqual(expect.arrayContaining(['1.2.0', 'latest', 'dev']));
    expect(keptTags).toHaveLength(6); // 1.2.0, latest, dev, sha256-<hex>, .sig, .att
    for (const tag of keptTags) expect(await pullCompletely(client, repository, tag)).toBeGreaterThan(0);
    expect(await pullCompletely(client, repository, 'latest')).toBe(8);
    await expect(client.manifests.get(repository, '1.0.0')).rejects.toSatisfy((error) =>
      NotFoundError.isInstance(error),
    );
    // The graph after deletion is still whole.
    const after = await retention.readGraph(repository, remaining, { checkBlobs: true });
    expect(retention.validate(after).ok).toBe(true);

    // Rerunning the same plan is idempotent: the journal skips what is done, 404s count as done.
    const rerun = await retention.execute(plan, { deleteVersion: deleteVersion(repository), journal });
    expect(rerun.deleted.every((entry) => entry.outcome === 'journal')).toBe(true);
    const again = await retention.execute(plan, { deleteVersion: deleteVersion(repository) });
    expect(again.deleted.every((entry) => entry.outcome === 'already-gone')).toBe(true);
    expect(again.summary.failed).toBe(0);
  });

  it('cleaning untagged versions never touches the platforms and attestations of tagged releases', async () => {
    const { seed, client, retention, listVersions, deleteVersion } = await bed();
    const repository = seed.app.repository;
    const versions = await listVersions(repository);
    const graph = await retention.readGraph(repository, versions);
    const plan = retention.plan(versions, graph, { untaggedOnly: true });
    expect(plan.decisions.filter((d) => d.action === 'delete').map((d) => d.digest)).toEqual([
      seed.app.orphan.digest,
    ]);
    const report = await retention.execute(plan, { deleteVersion: deleteVersion(repository) });
    expect(report.summary.deleted).toBe(1);
    for (const tag of await client.tags.list(repository)) await pullCompletely(client, repository, tag);
    for (const release of seed.app.releases) {
      expect(await pullCompletely(client, repository, release.tag)).toBe(8);
    }
  });

  it('random policies: after each plan runs on the simulation, every kept tag pulls completely', async () => {
    const { clock, sim, seed, client, retention, listVersions, deleteVersion } = await bed();
    const repository = seed.app.repository;
    // More structure: an index sharing 1.0.0's platforms, a cosign signature on a platform manifest.
    const [first] = seed.app.releases;
    const shared = first?.platforms.map((image) => ({
      ...image.descriptor,
      platform: { os: 'linux', architecture: 'amd64' },
    }));
    pushIndex(sim, repository, shared ?? [], { tag: 'mirror', annotations: { mirror: 'yes' } });
    await pushImage(sim, repository, {
      seed: 'signature',
      tag: cosignTagsFor(first?.platforms[0]?.digest as string).signature,
    });
    const cache = new Map<string, ParsedManifest>();
    let deletedTotal = 0;
    const record = sim.state.getRepository(repository);
    if (record === undefined) throw new Error('the demo repository is missing');
    const policyArbitrary = fc.record({
      keepNewestTagged: fc.option(fc.nat(3), { nil: undefined }),
      keepTags: fc.subarray(['latest', '1.*', 'mirror', '/^dev$/']),
      deleteTags: fc.subarray(['1.*', 'dev', 'mirror', '*']),
      olderThan: fc.option(fc.constantFrom('1m', '3m', '1h'), { nil: undefined }),
      untaggedOnly: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(policyArbitrary, async (arbitrary) => {
        // Each cleanup runs an hour after the pushes and restores before it (minAge).
        await clock.advance(HOUR);
        const policy: RetentionPolicy = {
          keepTags: arbitrary.keepTags,
          deleteTags: arbitrary.deleteTags,
          untaggedOnly: arbitrary.untaggedOnly,
          ...definedProps({ keepNewestTagged: arbitrary.keepNewestTagged, olderThan: arbitrary.olderThan }),
        };
        const versions = await listVersions(repository);
        const graph = await retention.readGraph(repository, versions, { cache });
        const plan = retention.plan(versions, graph, policy);
        const report = await retention.execute(plan, { deleteVersion: deleteVersion(repository) });
        expect(report.summary.failed).toBe(0);
        expect(report.summary.deleted).toBe(plan.summary.delete);
        deletedTotal += report.summary.deleted;
        const keptTags = plan.decisions.filter((d) => d.action === 'keep').flatMap((d) => d.tags);
        expect([...(await client.tags.list(repository))].sort()).toEqual([...keptTags].sort());
        for (const tag of keptTags) await pullCompletely(client, repository, tag);
        const after = await retention.readGraph(repository, await listVersions(repository), {
          cache,
          checkBlobs: true,
        });
        expect(retention.validate(after).ok).toBe(true);
        // Put everything back for the next case (restorable for 30 days).
        for (const manifest of record.manifests.values()) {
          if (manifest.deletedAt !== undefined) sim.state.restoreVersion(record, manifest.versionId);
        }
      }),
      { numRuns: 12 },
    );
    expect(deletedTotal).toBeGreaterThan(0);
  }, 60_000);
});
