// Times planRetention (and validateRepository) on a synthetic package of ~10,000 versions with a
// deep graph, against the built package. Run after `pnpm build`:
//   node packages/client/bench/retention-plan.mjs [versions] [runs]
// Each release: a tagged index → a nested index → 2 platform images + 2 BuildKit attestations;
// each platform image has a cosign `.sig` and an OCI 1.1 referrer; the top index has a
// `sha256-<hex>` fallback index listing a bundle. Plus untagged strays. Prints ms per run and the
// median; not a test. GHCR_CLIENT_DIST=<path to index.js> points it at another build.
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const target = Number(process.argv[2] ?? 10_000);
const runs = Number(process.argv[3] ?? 7);
const dist = process.env.GHCR_CLIENT_DIST
  ? pathToFileURL(process.env.GHCR_CLIENT_DIST).href
  : new URL('../dist/index.js', import.meta.url).href;
const { planRetention, validateRepository } = await import(dist);

const NOW = Date.parse('2026-06-01T00:00:00Z');
const DAY = 86_400_000;
let counter = 0;
const digest = () => `sha256:${createHash('sha256').update(`node ${counter++}`).digest('hex')}`;
const hex = (d) => d.slice(7);

const nodes = {};
const tags = {};
const referrers = {};
const versions = [];
let nextId = 1;
// Deterministic pseudo-random ages.
let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};

function add(kind, { children = [], subject, tagList = [], ageDays }) {
  const d = digest();
  const id = nextId++;
  nodes[d] = {
    digest: d,
    kind,
    mediaType:
      kind === 'index'
        ? 'application/vnd.oci.image.index.v1+json'
        : 'application/vnd.oci.image.manifest.v1+json',
    versionId: id,
    tags: tagList,
    children,
    ...(subject === undefined ? {} : { subject }),
    blobs: kind === 'index' ? [] : [digest(), digest()],
  };
  for (const tag of tagList) tags[tag] = d;
  const createdAt = NOW - ageDays * DAY;
  versions.push({ id, digest: d, tags: tagList, createdAt, updatedAt: createdAt });
  return d;
}
function link(subject, referrer) {
  referrers[subject] ??= [];
  referrers[subject].push(referrer);
}

let release = 0;
while (versions.length < target - 12) {
  const age = random() * 400;
  const platforms = [add('image', { ageDays: age }), add('image', { ageDays: age })];
  const attestations = platforms.map((p) => {
    const a = add('artifact', { ageDays: age });
    link(p, { digest: a, via: 'attestation-manifest' });
    return a;
  });
  for (const p of platforms) {
    const sigTag = `sha256-${hex(p)}.sig`;
    const sig = add('artifact', { ageDays: age, tagList: [sigTag] });
    link(p, { digest: sig, via: 'cosign-tag', tag: sigTag });
    const bundle = add('artifact', { ageDays: age, subject: p });
    link(p, { digest: bundle, via: 'subject' });
  }
  const nested = add('index', { ageDays: age, children: [...platforms, ...attestations] });
  const tagList = [
    `v${release}`,
    ...(release % 3 === 0 ? [`pr-${release}`] : []),
    ...(release % 10 === 0 ? [`v${release}.0`] : []),
  ];
  const top = add('index', { ageDays: age, children: [nested], tagList });
  const bundle = add('artifact', { ageDays: age, subject: top });
  link(top, { digest: bundle, via: 'subject' });
  const fallbackTag = `sha256-${hex(top)}`;
  const fallback = add('index', { ageDays: age, children: [bundle], tagList: [fallbackTag] });
  link(top, { digest: fallback, via: 'referrers-tag', tag: fallbackTag });
  link(top, { digest: bundle, via: 'referrers-tag', tag: fallbackTag });
  release += 1;
}
while (versions.length < target) add('image', { ageDays: random() * 400 });

const graph = {
  nodes,
  tags,
  referrers,
  missing: [],
  unreadable: [],
  incomplete: [],
  warnings: [],
  stats: { manifestsFetched: versions.length, cacheHits: 0, blobsChecked: 0 },
};
const policy = {
  keepNewestTagged: 100,
  keepNewestUntagged: 5,
  keepTags: ['/^v\\d+0\\.0$/', 'latest'],
  olderThan: '90d',
};

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const planTimes = [];
const validateTimes = [];
let plan;
for (let run = 0; run < runs; run++) {
  let start = performance.now();
  plan = planRetention(versions, graph, policy, NOW);
  planTimes.push(performance.now() - start);
  start = performance.now();
  validateRepository(graph);
  validateTimes.push(performance.now() - start);
}
console.log(
  JSON.stringify(
    {
      versions: versions.length,
      releases: release,
      keep: plan.summary.keep,
      delete: plan.summary.delete,
      planMs: planTimes.map((t) => Math.round(t)),
      planMedianMs: Math.round(median(planTimes)),
      validateMedianMs: Math.round(median(validateTimes)),
      rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    },
    null,
    2,
  ),
);
