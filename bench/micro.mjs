#!/usr/bin/env node
// Library microbenchmarks against the built packages (run `pnpm build` first); prints one JSON
// document. Not a test: numbers depend on the machine.
//   node bench/micro.mjs [--quick]
// - manifest parse/validate (parseManifest with the expected digest) and reference parse, ops/s;
// - listing N tags across pages of 100 through the simulation's in-process dispatcher (ghcr
//   profile), for several N: time per tag must stay flat (linear);
// - 100 concurrent operations sharing one token: token requests in the simulation's request log.
// Retention planning is timed by packages/client/bench/retention-plan.mjs (run by bench/run.mjs).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const quick = process.argv.includes('--quick');
const dist = (name) => new URL(`../packages/${name}/dist/index.js`, import.meta.url).href;
const { parseManifest } = await import(dist('manifest'));
const { parseReference, systemClock } = await import(dist('oci-types'));
const { createSimulation, pushImage, pushBlob } = await import(dist('simulation'));
const { staticCredentials } = await import(dist('auth'));
const { createGhcrClient } = await import(dist('client'));

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** Calls `fn` `iterations` times per batch, `batches` times; ops/s of the median batch. */
function throughput(fn, { iterations, batches = 7 }) {
  for (let i = 0; i < iterations; i++) fn(i); // warm-up
  const times = [];
  for (let batch = 0; batch < batches; batch++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn(i);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const ms = median(times);
  return {
    iterations,
    batches,
    medianBatchMs: ms,
    opsPerSecond: (iterations / ms) * 1000,
    usPerOp: (ms * 1000) / iterations,
  };
}

const sha256 = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const results = { quick };

// 1. Manifests: the fixtures (an OCI image manifest, an OCI index, a Docker v2s2 manifest) and a
// synthetic OCI image manifest with 64 layers and annotations.
{
  const fixtures = new URL('../fixtures/manifests/', import.meta.url);
  const documents = [];
  for (const [file, contentType] of [
    ['oci-image-manifest.json', 'application/vnd.oci.image.manifest.v1+json'],
    ['oci-index-2-platforms.json', 'application/vnd.oci.image.index.v1+json'],
    ['docker-v2s2-manifest.json', 'application/vnd.docker.distribution.manifest.v2+json'],
  ]) {
    const bytes = await readFile(new URL(file, fixtures));
    documents.push({ name: file, bytes, contentType });
  }
  const layers = Array.from({ length: 64 }, (_, i) => ({
    mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    digest: sha256(`layer ${i}`),
    size: 1_000_000 + i,
    annotations: { 'org.opencontainers.image.title': `layer-${i}.tar.gz` },
  }));
  const big = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('config'), size: 1234 },
      layers,
      annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
    }),
  );
  documents.push({
    name: 'synthetic 64-layer OCI manifest',
    bytes: big,
    contentType: 'application/vnd.oci.image.manifest.v1+json',
  });
  results.manifestParse = documents.map(({ name, bytes, contentType }) => {
    const expectedDigest = sha256(bytes);
    return {
      name,
      bytes: bytes.byteLength,
      ...throughput(() => parseManifest(bytes, { contentType, expectedDigest }), {
        iterations: quick ? 500 : name.startsWith('synthetic') ? 2000 : 10_000,
      }),
    };
  });
}

// 2. References.
{
  const references = [
    'ghcr.io/octo-org/app:1.2.3',
    'octo/app',
    'localhost:5000/team/sub/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    'ghcr.io/octo-org/tools/cli:v1.0.0-rc.1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    '[::1]:5000/a/b:latest',
  ];
  results.referenceParse = {
    references: references.length,
    ...throughput((i) => parseReference(references[i % references.length]), {
      iterations: quick ? 5000 : 100_000,
    }),
  };
}

/**
 * A simulation (ghcr profile unless `options` say otherwise, in-process dispatcher) and a client
 * of its registry with a PAT that may push.
 */
function simulated(options = {}) {
  const sim = createSimulation({ profile: 'ghcr', clock: systemClock, ...options });
  sim.createUser('octo');
  const pat = sim.createToken({
    user: 'octo',
    scopes: ['read:packages', 'write:packages', 'delete:packages'],
  });
  const client = createGhcrClient({
    registry: options.registryUrl === undefined ? 'ghcr.io' : new URL(options.registryUrl).host,
    dispatcher: sim.dispatcher(),
    credentials: staticCredentials({ username: 'octo', password: pat }),
  });
  return { sim, client };
}

// 3. Tag listing, pages of 100 (ghcr.io's default), for growing N. Twice: through the simulation's
// own tags/list handler (it keeps each repository's tags sorted and finds `last` by binary search,
// O(log N + page) a page), and through a handler put in front of it that serves precomputed pages in
// O(page): the client's own cost, which the target is about. Linear when the time per tag at the
// largest N stays within 1.5× of the smallest's.
{
  const requireFromSimulation = createRequire(
    new URL('../packages/simulation/package.json', import.meta.url),
  );
  const mswDirectory = dirname(requireFromSimulation.resolve('msw/package.json'));
  const { http, HttpResponse } = await import(pathToFileURL(join(mswDirectory, 'lib/core/index.mjs')).href);
  const sizes = quick ? [500, 1000, 2000] : [1000, 2500, 5000, 10_000];
  const runs = quick ? 3 : 5;
  const pageSize = 100;
  /** msw handler answering tags/list of `repository` from pages computed once. */
  const precomputedPages = (repository, tags) => {
    const sorted = [...tags].sort();
    const after = new Map(sorted.map((tag, index) => [tag, index + 1]));
    return http.get(`https://ghcr.io/v2/${repository}/tags/list`, ({ request }) => {
      const url = new URL(request.url);
      const last = url.searchParams.get('last');
      const n = Number(url.searchParams.get('n') ?? pageSize);
      const start = last === null ? 0 : (after.get(last) ?? sorted.length);
      const page = sorted.slice(start, start + n);
      const headers = { 'docker-distribution-api-version': 'registry/2.0' };
      if (start + n < sorted.length) {
        headers.link = `</v2/${repository}/tags/list?n=${n}&last=${encodeURIComponent(page.at(-1))}>; rel="next"`;
      }
      return HttpResponse.json({ name: repository, tags: page }, { headers });
    });
  };
  const measure = async (precomputed) => {
    const rows = [];
    for (const count of sizes) {
      const { sim, client } = simulated();
      const image = await pushImage(sim, 'octo/tags', { tag: 't0' });
      const repository = sim.state.getRepository('octo/tags');
      for (let i = 1; i < count; i++) repository.tags.set(`t${i}`, image.digest);
      if (precomputed) sim.handlers.unshift(precomputedPages('octo/tags', repository.tags.keys()));
      await client.tags.list('octo/tags'); // warm-up (and the token)
      const times = [];
      let listed = 0;
      for (let run = 0; run < runs; run++) {
        sim.log.clear();
        const start = process.hrtime.bigint();
        const tags = await client.tags.list('octo/tags');
        times.push(Number(process.hrtime.bigint() - start) / 1e6);
        listed = tags.length;
      }
      const pages = sim.log.filter((entry) => entry.path.endsWith('/tags/list')).length;
      await client.close();
      if (listed !== count) throw new Error(`listed ${listed} tags of ${count}`);
      const ms = median(times);
      rows.push({ tags: count, pages, medianMs: ms, usPerTag: (ms * 1000) / count });
    }
    const growth = rows.at(-1).usPerTag / rows[0].usPerTag;
    return { rows, perTagGrowth: growth, linear: growth <= 1.5 };
  };
  const client = await measure(true);
  const withSimulationHandler = await measure(false);
  results.tagListing = { pageSize, runs, ...client, withSimulationHandler };
}

// 4. 100 concurrent operations sharing one token: GET /token in the simulation's request log, and
// the 401 challenges the first wave met. The simulation runs on the system clock, as the client
// does: on its default manual clock a token's `issued_at` lies in the past and the client (rightly)
// takes it as expired on arrival, fetching a new one per wave of requests. The distribution profile (a PAT exchanged for scoped
// tokens at /token), and ghcr.io's anonymous pull of a public package (also through /token; with a
// PAT ghcr.io takes it as the bearer directly, no token request at all).
{
  const concurrent = 100;
  const cases = [];
  const count = (sim) => ({
    tokenRequests: sim.log.byOperation('token').length,
    perScope: sim.log.byOperation('token').reduce((counts, entry) => {
      const scope = new URL(entry.url).searchParams.getAll('scope').join(' ') || '(none)';
      counts[scope] = (counts[scope] ?? 0) + 1;
      return counts;
    }, {}),
    challenges: sim.log.filter((entry) => entry.status === 401).length,
    requests: sim.log.entries.length,
  });
  const distribution = () => simulated({ profile: 'distribution', registryUrl: 'https://registry.test' });
  {
    const { sim, client } = distribution();
    await pushImage(sim, 'octo/app', { tag: 'v1' });
    sim.log.clear();
    await Promise.all(Array.from({ length: concurrent }, () => client.manifests.head('octo/app', 'v1')));
    cases.push({ name: '100 manifest HEADs, 1 repository (pull)', ...count(sim) });
    await client.close();
  }
  {
    const { sim, client } = distribution();
    await pushBlob(sim, 'octo/up', 'seed');
    sim.log.clear();
    await Promise.all(
      Array.from({ length: concurrent }, (_, i) => client.blobs.upload('octo/up', Buffer.from(`blob ${i}`))),
    );
    cases.push({ name: '100 blob uploads (HEAD, then POST + PUT), 1 repository', ...count(sim) });
    await client.close();
  }
  {
    const { sim, client } = distribution();
    const repositories = ['octo/a', 'octo/b', 'octo/c', 'octo/d'];
    for (const repository of repositories) await pushImage(sim, repository, { tag: 'v1' });
    sim.log.clear();
    await Promise.all(
      Array.from({ length: concurrent }, (_, i) => client.manifests.get(repositories[i % 4], 'v1')),
    );
    cases.push({ name: '100 manifest GETs over 4 repositories (pull)', ...count(sim) });
    await client.close();
  }
  {
    const sim = createSimulation({ profile: 'ghcr', defaultVisibility: 'public', clock: systemClock });
    await pushImage(sim, 'octo/public', { tag: 'v1' });
    const client = createGhcrClient({ registry: 'ghcr.io', dispatcher: sim.dispatcher() });
    sim.log.clear();
    await Promise.all(Array.from({ length: concurrent }, () => client.manifests.head('octo/public', 'v1')));
    cases.push({ name: 'ghcr.io: 100 anonymous manifest HEADs, public package', ...count(sim) });
    await client.close();
  }
  for (const entry of cases) {
    entry.scopes = Object.keys(entry.perScope).length;
    entry.ok = Object.values(entry.perScope).every((requests) => requests === 1);
  }
  results.tokenSharing = { concurrent, cases, ok: cases.every((entry) => entry.ok) };
}

console.log(JSON.stringify(results));
