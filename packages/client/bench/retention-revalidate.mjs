// Measures what looking again before each delete batch (executePlan's `revalidate`) costs on a
// package of ~10,000 versions, against the built packages and the in-process simulation (ghcr
// profile, the real client and transport). Run after `pnpm build`:
//   node packages/client/bench/retention-revalidate.mjs [versions] [batchSize]
// The package: releases of a tagged index over 2 platform images (3 versions each). The plan
// (keepNewestTagged 100) deletes almost all of it. executePlan then runs twice with a deleteVersion
// that sends nothing (so the package stays the same and only the looks are measured): without
// revalidate (the baseline) and with it; then once more after a concurrent push (a hotfix index
// reusing a platform image the plan deletes). Requests are counted from the simulation's request
// log by operation; times are wall-clock ms for the whole run. Prints JSON; not a test.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const target = Number(process.argv[2] ?? 10_000);
const batchSize = Number(process.argv[3] ?? 50);
const require = createRequire(import.meta.url);
const dist = process.env.GHCR_CLIENT_DIST
  ? pathToFileURL(process.env.GHCR_CLIENT_DIST).href
  : new URL('../dist/index.js', import.meta.url).href;
const { createGhcrClient, executePlan } = await import(dist);
const { createSimulation, pushImage, pushIndex } = await import(
  pathToFileURL(require.resolve('@ghcr/simulation')).href
);
const { staticCredentials } = await import(pathToFileURL(require.resolve('@ghcr/auth')).href);
const { createManualClock } = await import(pathToFileURL(require.resolve('@ghcr/oci-types')).href);

const REPOSITORY = 'octo/app';
const clock = createManualClock(Date.parse('2026-01-01T00:00:00Z'));
const sim = createSimulation({ profile: 'ghcr', clock });
sim.createUser('octo');
const pat = sim.createToken({ user: 'octo', scopes: ['read:packages', 'write:packages', 'delete:packages'] });
const client = createGhcrClient({
  registry: 'ghcr.io',
  dispatcher: sim.dispatcher(),
  credentials: staticCredentials({ username: 'octo', password: pat }),
  clock,
});

let started = performance.now();
let releases = 0;
const platformsOf = [];
while (releases * 3 + 3 <= target) {
  const platforms = [];
  for (const architecture of ['amd64', 'arm64']) {
    platforms.push(
      await pushImage(sim, REPOSITORY, {
        seed: `r${releases}-${architecture}`,
        platform: { os: 'linux', architecture },
      }),
    );
  }
  pushIndex(
    sim,
    REPOSITORY,
    platforms.map((image) => image.descriptor),
    { tag: `v${releases}` },
  );
  platformsOf.push(platforms);
  releases += 1;
  await clock.advance(60_000);
}
await clock.advance(3_600_000);
const seedMs = performance.now() - started;

started = performance.now();
const versions = await client.versions.list(REPOSITORY);
const cache = new Map();
const graph = await client.retention.readGraph(REPOSITORY, versions, { cache });
const readMs = performance.now() - started;
const plan = client.retention.plan(versions, graph, { keepNewestTagged: 100 });

const byOperation = () => {
  const counts = {};
  for (const entry of sim.log.entries) counts[entry.operation] = (counts[entry.operation] ?? 0) + 1;
  return counts;
};
const total = (counts) => Object.values(counts).reduce((sum, n) => sum + n, 0);
const noDelete = async () => {};
const revalidate = client.retention.revalidation(REPOSITORY, graph, {
  listVersions: (read) => client.versions.iterate(REPOSITORY, read),
});

async function run(options) {
  sim.log.clear();
  const start = performance.now();
  const report = await executePlan(plan, { deleteVersion: noDelete, clock, batchSize, ...options });
  const ms = performance.now() - start;
  const requests = byOperation();
  return { ms: Math.round(ms), requests, requestCount: total(requests), report };
}

const baseline = await run({});
const looked = await run({ revalidate });
// A concurrent push: a hotfix index reusing the amd64 image of the oldest release.
await client.multiArch.createIndex(REPOSITORY, ['hotfix'], [platformsOf[0][0].digest]);
const raced = await run({ revalidate });

const looks = looked.report.revalidation.checks;
console.log(
  JSON.stringify(
    {
      versions: versions.length,
      tags: Object.keys(graph.tags).length,
      releases,
      delete: plan.summary.delete,
      batchSize,
      seedMs: Math.round(seedMs),
      readGraphMs: Math.round(readMs),
      readGraphManifestGets: graph.stats.manifestsFetched,
      baseline: { ms: baseline.ms, requests: baseline.requestCount },
      revalidated: {
        looks,
        ms: looked.ms,
        extraMs: looked.ms - baseline.ms,
        msPerLook: Math.round(((looked.ms - baseline.ms) / looks) * 10) / 10,
        requests: looked.requests,
        requestCount: looked.requestCount,
        requestsPerLook: Math.round((looked.requestCount / looks) * 10) / 10,
        stats: looked.report.revalidation,
      },
      racedPush: {
        ms: raced.ms,
        requests: raced.requests,
        requestCount: raced.requestCount,
        skipped: raced.report.skipped.map((entry) => ({ id: entry.id, why: entry.why })),
        deleted: raced.report.summary.deleted,
      },
      rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    },
    null,
    2,
  ),
);
