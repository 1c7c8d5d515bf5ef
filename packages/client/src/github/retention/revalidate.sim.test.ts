/**
 * Cleanup racing a push, end to end on the simulation's ghcr profile through the real client:
 * versions from the Packages API, the graph from the registry, a concurrent push (a new tag whose
 * index reuses a platform manifest the plan deletes, as a reproducible build does), deletions
 * through the Packages API, then the new tag pulled into an OCI layout on disk.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from '@ghcr/oci-types';
import { type PushedImage, type PushedManifest, pushImage, pushIndex } from '@ghcr/simulation';
import { settle } from '@ghcr/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { type SimulatedClient, simulatedClient } from '../../testing/simulated-client.js';
import type { ExecutePlanOptions } from './execute.js';
import type { RegistryGraph } from './graph.js';
import { createFileJournal } from './journal.js';
import type { RetentionPlan } from './plan.js';

const REPOSITORY = 'octo/app';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface Release {
  readonly index: PushedManifest;
  readonly platforms: readonly PushedImage[];
}

interface Bed extends SimulatedClient {
  readonly old: Release;
  readonly current: Release;
  readonly graph: RegistryGraph;
  readonly plan: RetentionPlan;
  /** The executor's options on this client (deletes and revalidation through the real client). */
  options(extra?: Partial<ExecutePlanOptions>): ExecutePlanOptions;
  /** Pulls a tag completely into an OCI layout on disk; resolves with the number of blobs and manifests transferred. */
  pull(tag: string): Promise<number>;
}

const directories: string[] = [];
afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

async function release(bed: SimulatedClient, version: string, tags: readonly string[]): Promise<Release> {
  const platforms: PushedImage[] = [];
  for (const architecture of ['amd64', 'arm64']) {
    platforms.push(
      await pushImage(bed.sim, REPOSITORY, {
        seed: `${version}-${architecture}`,
        platform: { os: 'linux', architecture },
      }),
    );
  }
  await bed.clock.advance(MINUTE);
  const index = pushIndex(
    bed.sim,
    REPOSITORY,
    platforms.map((image) => image.descriptor),
    { annotations: { version } },
  );
  for (const tag of tags)
    pushIndex(
      bed.sim,
      REPOSITORY,
      platforms.map((image) => image.descriptor),
      { tag, annotations: { version } },
    );
  await bed.clock.advance(MINUTE);
  return { index, platforms };
}

/** 1.0 (old) and 2.0/latest; the plan keeps the newest tagged release and deletes 1.0 with its platforms. */
async function bed(): Promise<Bed> {
  const base = simulatedClient();
  const old = await release(base, '1.0', ['1.0']);
  const current = await release(base, '2.0', ['2.0', 'latest']);
  // The cleanup runs an hour after the last push.
  await base.clock.advance(HOUR);
  const { client } = base;
  const versions = await client.versions.list(REPOSITORY);
  const graph = await client.retention.readGraph(REPOSITORY, versions);
  const plan = client.retention.plan(versions, graph, { keepNewestTagged: 1 });
  return {
    ...base,
    old,
    current,
    graph,
    plan,
    options: (extra = {}) => ({
      deleteVersion: async (id, { signal }) => {
        await client.versions.delete(REPOSITORY, id, signal === undefined ? {} : { signal });
      },
      revalidate: client.retention.revalidation(REPOSITORY, graph, {
        listVersions: (read) => client.versions.iterate(REPOSITORY, read),
      }),
      ...extra,
    }),
    async pull(tag) {
      const directory = await mkdtemp(join(tmpdir(), 'ghcr-race-'));
      directories.push(directory);
      const result = await client.images.pull(`ghcr.io/${REPOSITORY}:${tag}`, join(directory, 'layout'));
      const index = JSON.parse(await readFile(join(directory, 'layout', 'index.json'), 'utf8')) as {
        manifests: unknown[];
      };
      expect(index.manifests.length).toBeGreaterThan(0);
      return result.transferred;
    },
  };
}

/** How reasons shorten a digest. */
const short = (digest: string): string => `${digest.slice(0, 19)}…`;

const idOf = (plan: RetentionPlan, digest: string): number => {
  const decision = plan.decisions.find((d) => d.digest === digest);
  if (decision === undefined) throw new Error(`no decision for ${digest}`);
  return decision.id;
};

describe('cleanup racing a push (simulation, real client)', () => {
  it('plan; a push reuses a platform manifest the plan deletes; execute: the new tag pulls, the report names it', async () => {
    const b = await bed();
    const doomed = b.plan.decisions.filter((d) => d.action === 'delete').map((d) => d.digest);
    expect([...doomed].sort()).toEqual([b.old.index.digest, ...b.old.platforms.map((p) => p.digest)].sort());
    const reused = b.old.platforms[0] as PushedImage;

    // The concurrent push: a hotfix index listing 1.0's amd64 image (the registry has it, so
    // nothing is uploaded) and 2.0's arm64 one.
    const hotfix = await b.client.multiArch.createIndex(
      REPOSITORY,
      ['hotfix'],
      [reused.digest, b.current.platforms[1]?.digest as string],
    );

    b.sim.log.clear();
    const report = await settle(b.client.retention.execute(b.plan, b.options()), b.clock);
    expect(report.summary).toMatchObject({ deleted: 2, failed: 0, skipped: 1 });
    expect(report.skipped).toEqual([
      expect.objectContaining({
        id: idOf(b.plan, reused.digest),
        digest: reused.digest,
        cause: 'changed-since-plan',
        why: `referenced by tag hotfix, pushed after the plan (through index ${short(hotfix.digest)})`,
      }),
    ]);
    expect(report.deleted.map((entry) => entry.digest).sort()).toEqual(
      [b.old.index.digest, b.old.platforms[1]?.digest].sort(),
    );
    // One look (one batch): one tag listing, one versions page, the new index read once.
    expect(report.revalidation).toMatchObject({
      checks: 1,
      tagLists: 1,
      tagsResolved: 0,
      manifestsFetched: 1,
    });
    expect(b.sim.log.byOperation('api.versions.list')).toHaveLength(1);

    expect(await b.pull('hotfix')).toBeGreaterThan(0);
    for (const tag of ['2.0', 'latest']) expect(await b.pull(tag)).toBeGreaterThan(0);
    await expect(b.client.manifests.get(REPOSITORY, '1.0')).rejects.toSatisfy((error) =>
      NotFoundError.isInstance(error),
    );
  });

  it('without looking again, the same race breaks the new tag (what revalidation prevents)', async () => {
    const b = await bed();
    const reused = b.old.platforms[0] as PushedImage;
    await b.client.multiArch.createIndex(REPOSITORY, ['hotfix'], [reused.digest]);
    const { revalidate: _unused, ...withoutLooking } = b.options();
    const report = await settle(b.client.retention.execute(b.plan, withoutLooking), b.clock);
    expect(report.summary.deleted).toBe(3);
    await expect(b.pull('hotfix')).rejects.toSatisfy((error) => NotFoundError.isInstance(error));
  });

  it('a push between two batches is seen by the next look; a retag of an old digest too', async () => {
    const b = await bed();
    const [amd64, arm64] = b.old.platforms as [PushedImage, PushedImage];
    let pushed = false;
    let hotfix: { digest: string } | undefined;
    const options = b.options({ batchSize: 1 });
    const report = await settle(
      b.client.retention.execute(b.plan, {
        ...options,
        deleteVersion: async (id, call) => {
          await options.deleteVersion(id, call);
          if (pushed) return;
          pushed = true;
          // After the first batch (the 1.0 index): a hotfix reusing amd64, and arm64 re-tagged.
          hotfix = await b.client.multiArch.createIndex(REPOSITORY, ['hotfix'], [amd64.digest]);
          await b.client.tags.tag(REPOSITORY, arm64.digest, ['arm64-pinned']);
        },
      }),
      b.clock,
    );
    expect(report.deleted.map((entry) => entry.digest)).toEqual([b.old.index.digest]);
    expect(Object.fromEntries(report.skipped.map((entry) => [entry.digest, entry.why]))).toEqual({
      [amd64.digest]: `referenced by tag hotfix, pushed after the plan (through index ${short(hotfix?.digest ?? '')})`,
      [arm64.digest]: 'referenced by tag arm64-pinned, pushed after the plan',
    });
    expect(report.revalidation?.checks).toBeGreaterThanOrEqual(2);
    expect(await b.pull('hotfix')).toBeGreaterThan(0);
    expect(await b.pull('arm64-pinned')).toBeGreaterThan(0);
  });

  it('minAge: the platform manifests of a push in progress (index not yet up) are left alone', async () => {
    const base = simulatedClient();
    await release(base, '1.0', ['1.0']);
    await base.clock.advance(HOUR);
    // A multi-arch push in progress: its platform manifests are up, untagged; its index is not yet.
    const platforms: PushedImage[] = [];
    for (const architecture of ['amd64', 'arm64']) {
      platforms.push(
        await pushImage(base.sim, REPOSITORY, {
          seed: `wip-${architecture}`,
          platform: { os: 'linux', architecture },
        }),
      );
    }
    await base.clock.advance(2 * MINUTE);
    const { client } = base;
    const versions = await client.versions.list(REPOSITORY);
    const graph = await client.retention.readGraph(REPOSITORY, versions);
    const plan = client.retention.plan(versions, graph, { untaggedOnly: true });
    const wip = platforms.map((image) => image.digest).sort();
    expect(
      plan.decisions
        .filter((d) => d.action === 'delete')
        .map((d) => d.digest)
        .sort(),
    ).toEqual(wip);
    const report = await settle(
      client.retention.execute(plan, {
        deleteVersion: async (id, { signal }) => {
          await client.versions.delete(REPOSITORY, id, signal === undefined ? {} : { signal });
        },
        revalidate: client.retention.revalidation(REPOSITORY, graph, {
          listVersions: (read) => client.versions.iterate(REPOSITORY, read),
        }),
      }),
      base.clock,
    );
    expect(report.summary).toMatchObject({ deleted: 0, skipped: 2 });
    for (const entry of report.skipped) {
      expect(entry.cause).toBe('min-age');
      expect(entry.why).toMatch(
        /^created or updated 2m( \d+s)? ago, within minAge 10m: a push may be using it$/,
      );
    }
    // The index lands, and pulls.
    await client.multiArch.createIndex(REPOSITORY, ['2.0'], wip);
    const directory = await mkdtemp(join(tmpdir(), 'ghcr-race-'));
    directories.push(directory);
    const pulled = await client.images.pull(`ghcr.io/${REPOSITORY}:2.0`, join(directory, 'layout'));
    expect(pulled.descriptor.digest).toBe((await client.manifests.head(REPOSITORY, '2.0'))?.digest);
  });

  it('the journal records the skip; a resumed run of the plan does not delete it blindly', async () => {
    const b = await bed();
    const reused = b.old.platforms[0] as PushedImage;
    const hotfix = await b.client.multiArch.createIndex(REPOSITORY, ['hotfix'], [reused.digest]);
    const why = `referenced by tag hotfix, pushed after the plan (through index ${short(hotfix.digest)})`;
    const directory = await mkdtemp(join(tmpdir(), 'ghcr-journal-'));
    directories.push(directory);
    const path = join(directory, 'journal.jsonl');
    const first = await settle(
      b.client.retention.execute(b.plan, b.options({ journal: createFileJournal(path) })),
      b.clock,
    );
    expect(first.skipped.map((entry) => entry.digest)).toEqual([reused.digest]);
    const lines = (await readFile(path, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    expect(lines).toContainEqual({
      id: idOf(b.plan, reused.digest),
      digest: reused.digest,
      outcome: 'skipped',
      cause: 'changed-since-plan',
      why,
    });

    // The resumed run does not look again (no revalidate), yet the journal keeps it.
    const { revalidate: _unused, ...withoutLooking } = b.options({ journal: createFileJournal(path) });
    b.sim.log.clear();
    const resumed = await settle(b.client.retention.execute(b.plan, withoutLooking), b.clock);
    expect(b.sim.log.byOperation('api.versions.delete')).toHaveLength(0);
    expect(resumed.deleted.every((entry) => entry.outcome === 'journal')).toBe(true);
    expect(resumed.skipped).toEqual([
      expect.objectContaining({
        digest: reused.digest,
        cause: 'changed-since-plan',
        why: `an earlier run of this plan skipped it (${why}); plan again to reconsider it`,
      }),
    ]);
    expect(await b.pull('hotfix')).toBeGreaterThan(0);
  });
});
