import { cosignTagsFor, type ParsedManifest, referrersTagFor } from '@ghcr/manifest';
import { ConfigError, type Digest, InternalError } from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import { MODEL_NOW, ModelRepository } from '../../testing/model-repository.js';
import { buildRegistryGraph } from './build-graph.js';
import { planRetention, type RetentionDecision, type RetentionPlan } from './plan.js';
import { parseRetentionPolicy, type RetentionPolicy } from './policy.js';

async function planOf(repo: ModelRepository, policy: RetentionPolicy): Promise<RetentionPlan> {
  const graph = await repo.graph();
  return planRetention(repo.versionList(), graph, policy, MODEL_NOW);
}

function decisionOf(plan: RetentionPlan, digest: Digest): RetentionDecision {
  const found = plan.decisions.find((decision) => decision.digest === digest);
  if (found === undefined) throw new Error(`no decision for ${digest}`);
  return found;
}

const action = (plan: RetentionPlan, digest: Digest): 'keep' | 'delete' => decisionOf(plan, digest).action;
const rules = (plan: RetentionPlan, digest: Digest): string[] =>
  decisionOf(plan, digest).reasons.map((reason) => reason.rule);
const deletedDigests = (plan: RetentionPlan): string[] =>
  plan.decisions.filter((decision) => decision.action === 'delete').map((decision) => decision.digest);

describe('planRetention: selection and protection rules', () => {
  it('with an empty policy deletes untagged roots only; tagged images need a rule', async () => {
    const repo = new ModelRepository();
    const tagged = repo.image({ tags: ['v1'], ageDays: 100 });
    const untagged = repo.image({ ageDays: 100 });
    const plan = await planOf(repo, {});
    expect(action(plan, tagged)).toBe('keep');
    expect(rules(plan, tagged)).toEqual(['no-tagged-rule']);
    expect(action(plan, untagged)).toBe('delete');
    expect(rules(plan, untagged)).toEqual(['untagged']);
  });

  it.each([
    { keep: 0, kept: [] as number[] },
    { keep: 1, kept: [0] },
    { keep: 3, kept: [0, 1, 2] },
    { keep: 10, kept: [0, 1, 2, 3] },
  ])('keepNewestTagged $keep keeps the newest $keep tagged images by created_at', async ({ keep, kept }) => {
    const repo = new ModelRepository();
    const images = [1, 2, 3, 4].map((age) => repo.image({ tags: [`v${10 - age}`], ageDays: age }));
    repo.image({ tags: ['anchor'], ageDays: 0.5 }); // keeps the last-tagged rule out of the way
    const plan = await planOf(repo, { keepNewestTagged: keep, keepTags: ['anchor'] });
    images.forEach((image, position) => {
      expect(action(plan, image)).toBe(kept.includes(position) ? 'keep' : 'delete');
    });
    if (keep > 0)
      expect(decisionOf(plan, images[0] as Digest).reasons[0]).toMatchObject({
        rule: 'keep-newest-tagged',
        rank: 1,
      });
    if (keep < 4) expect(rules(plan, images[3] as Digest)).toEqual(['beyond-newest-tagged']);
  });

  it('keepNewestTagged counts images, not tags (dataaxiom #101: multi-tagged images)', async () => {
    const repo = new ModelRepository();
    const older = repo.image({ tags: ['1.0.0'], ageDays: 10 });
    const newer = repo.image({ tags: ['2.0.0', '2.0', '2', 'latest'], ageDays: 1 });
    const plan = await planOf(repo, { keepNewestTagged: 2 });
    expect(action(plan, newer)).toBe('keep');
    expect(action(plan, older)).toBe('keep');
    const one = await planOf(repo, { keepNewestTagged: 1 });
    expect(action(one, newer)).toBe('keep');
    expect(action(one, older)).toBe('delete');
  });

  it('keepNewestUntagged keeps the newest untagged images; placeholders are not counted', async () => {
    const repo = new ModelRepository();
    repo.image({ tags: ['v1'] });
    const untagged = [1, 2, 3].map((age) => repo.image({ ageDays: age }));
    const placeholder = repo.placeholder({ ageDays: 0.5 });
    const plan = await planOf(repo, { keepNewestUntagged: 2 });
    expect(untagged.map((digest) => action(plan, digest))).toEqual(['keep', 'keep', 'delete']);
    expect(rules(plan, untagged[2] as Digest)).toEqual(['untagged', 'beyond-newest-untagged']);
    expect(action(plan, placeholder)).toBe('delete');
    expect(decisionOf(plan, placeholder).kind).toBe('placeholder');
  });

  it.each([
    { pattern: 'v1.*', tag: 'v1.2.3', kept: true },
    { pattern: 'v1.*', tag: 'v10.0', kept: false },
    { pattern: 'release-?', tag: 'release-7', kept: true },
    { pattern: 'release-?', tag: 'release-77', kept: false },
    { pattern: '/^v\\d+$/', tag: 'v12', kept: true },
    { pattern: '/^v\\d+$/', tag: 'v12-rc', kept: false },
    { pattern: '/RC/i', tag: 'v1-rc.1', kept: true },
    { pattern: 'latest', tag: 'latest', kept: true },
    { pattern: 'latest', tag: 'not-latest', kept: false },
  ])('keepTags $pattern vs tag $tag → kept: $kept', async ({ pattern, tag, kept }) => {
    const repo = new ModelRepository();
    const image = repo.image({ tags: [tag], ageDays: 50 });
    repo.image({ tags: ['newest'], ageDays: 1 });
    const plan = await planOf(repo, { keepNewestTagged: 1, keepTags: [pattern] });
    expect(action(plan, image)).toBe(kept ? 'keep' : 'delete');
    if (kept) expect(decisionOf(plan, image).reasons[0]).toMatchObject({ rule: 'keep-tags', tag, pattern });
  });

  it('accepts RegExp patterns and stores them as /source/flags', () => {
    const policy = parseRetentionPolicy({ keepTags: [/^v\d+/i] });
    expect(policy.keepTags).toEqual(['/^v\\d+/i']);
  });

  it('keepTags protects without using a keepNewestTagged slot', async () => {
    const repo = new ModelRepository();
    const latest = repo.image({ tags: ['latest'], ageDays: 0.1 });
    const a = repo.image({ tags: ['a'], ageDays: 1 });
    const b = repo.image({ tags: ['b'], ageDays: 2 });
    const plan = await planOf(repo, { keepNewestTagged: 1, keepTags: ['latest'] });
    expect([action(plan, latest), action(plan, a), action(plan, b)]).toEqual(['keep', 'keep', 'delete']);
  });

  it('deleteTags selects an image only when every tag matches (bots-house #172)', async () => {
    const repo = new ModelRepository();
    const pr = repo.image({ tags: ['pr-1', 'pr-1-sha'], ageDays: 5 });
    const shared = repo.image({ tags: ['pr-2', 'v2.0.0'], ageDays: 5 });
    const release = repo.image({ tags: ['v1.0.0'], ageDays: 5 });
    const untagged = repo.image({ ageDays: 5 });
    const plan = await planOf(repo, { deleteTags: ['pr-*'] });
    expect(action(plan, pr)).toBe('delete');
    expect(decisionOf(plan, pr).reasons[0]).toMatchObject({ rule: 'delete-tags', pattern: 'pr-*' });
    expect(action(plan, shared)).toBe('keep');
    expect(decisionOf(plan, shared).reasons[0]).toMatchObject({
      rule: 'delete-tags-unmatched',
      tag: 'v2.0.0',
    });
    expect(plan.warnings.some((w) => w.code === 'delete-tags-partial' && w.message.includes('pr-2'))).toBe(
      true,
    );
    expect(action(plan, release)).toBe('keep');
    expect(action(plan, untagged)).toBe('delete');
  });

  it.each([
    { timestamp: 'created_at' as const, deleted: true },
    { timestamp: 'updated_at' as const, deleted: false },
  ])('olderThan reads $timestamp', async ({ timestamp, deleted }) => {
    const repo = new ModelRepository();
    const image = repo.image({ tags: ['old'], ageDays: 40, updatedDaysAgo: 2 });
    repo.image({ tags: ['new'], ageDays: 1 });
    const plan = await planOf(repo, { olderThan: '30d', timestamp, deleteTags: ['*'] });
    expect(action(plan, image)).toBe(deleted ? 'delete' : 'keep');
    expect(rules(plan, image)).toEqual(deleted ? ['delete-tags', 'older-than'] : ['newer-than-cutoff']);
  });

  it('olderThan alone never deletes a tagged image', async () => {
    const repo = new ModelRepository();
    const tagged = repo.image({ tags: ['v1'], ageDays: 400 });
    const untagged = repo.image({ ageDays: 400 });
    const plan = await planOf(repo, { olderThan: '30d' });
    expect(action(plan, tagged)).toBe('keep');
    expect(rules(plan, tagged)).toEqual(['no-tagged-rule']);
    expect(action(plan, untagged)).toBe('delete');
    expect(rules(plan, untagged)).toEqual(['untagged', 'older-than']);
  });

  it.each([
    ['30d', 29, 'keep'],
    ['30d', 31, 'delete'],
    ['12h', 0.4, 'keep'],
    ['12h', 0.6, 'delete'],
    ['1w', 6, 'keep'],
    ['1w', 8, 'delete'],
    [7 * 86_400_000, 8, 'delete'],
  ] as const)('olderThan %s: untagged image %d days old → %s', async (olderThan, ageDays, expected) => {
    const repo = new ModelRepository();
    repo.image({ tags: ['v1'] });
    const image = repo.image({ ageDays });
    const plan = await planOf(repo, { olderThan });
    expect(action(plan, image)).toBe(expected);
  });

  it('olderThan + keepNewestTagged deletes the oldest, never a newer image (dataaxiom #99)', async () => {
    const repo = new ModelRepository();
    const byAge = [1, 2, 3, 40, 50, 60, 70].map((age) => repo.image({ tags: [`t${age}`], ageDays: age }));
    const plan = await planOf(repo, { olderThan: '30d', keepNewestTagged: 5 });
    // The 5 newest are kept whatever their age; of the rest only those older than 30 days go.
    expect(byAge.map((digest) => action(plan, digest))).toEqual([
      'keep',
      'keep',
      'keep',
      'keep',
      'keep',
      'delete',
      'delete',
    ]);
    expect(rules(plan, byAge[6] as Digest)).toEqual(['older-than', 'beyond-newest-tagged']);
    const tight = await planOf(repo, { olderThan: '30d', keepNewestTagged: 1 });
    expect(byAge.map((digest) => action(tight, digest))).toEqual([
      'keep',
      'keep',
      'keep',
      'delete',
      'delete',
      'delete',
      'delete',
    ]);
    expect(rules(tight, byAge[1] as Digest)).toEqual(['newer-than-cutoff']);
  });

  it('untaggedOnly never deletes a tagged image, and says deleteTags has no effect', async () => {
    const repo = new ModelRepository();
    const tagged = repo.image({ tags: ['pr-1'], ageDays: 100 });
    const untagged = repo.image({ ageDays: 100 });
    const plan = await planOf(repo, { untaggedOnly: true, deleteTags: ['pr-*'], olderThan: '1d' });
    expect(action(plan, tagged)).toBe('keep');
    expect(rules(plan, tagged)).toEqual(['untagged-only']);
    expect(action(plan, untagged)).toBe('delete');
    expect(plan.warnings.map((w) => w.code)).toContain('policy-ineffective');
  });

  it('keepDigests keeps a version and everything it reaches', async () => {
    const repo = new ModelRepository();
    repo.image({ tags: ['v1'] });
    const release = repo.multiArch({ ageDays: 30 });
    const plan = await planOf(repo, { keepDigests: [release.index] });
    expect(action(plan, release.index)).toBe('keep');
    expect(rules(plan, release.index)).toEqual(['keep-digests']);
    for (const child of [...release.images, ...release.attestations])
      expect(action(plan, child)).toBe('keep');
  });
});

describe('planRetention: the data-loss bugs of today’s cleanup tools cannot happen', () => {
  it('keeps the platform manifests of tagged multi-arch releases when cleaning untagged versions (actions/delete-package-versions #162, #90; snok #97, #43)', async () => {
    const repo = new ModelRepository();
    const release = repo.multiArch({
      tags: ['1.0.0', 'latest'],
      ageDays: 90,
      attestations: false,
      platforms: 3,
    });
    const stray = repo.image({ ageDays: 90 });
    for (const policy of [{}, { untaggedOnly: true }, { olderThan: '1d' }, { keepNewestUntagged: 0 }]) {
      const plan = await planOf(repo, policy);
      expect(action(plan, release.index)).toBe('keep');
      for (const image of release.images) {
        expect(action(plan, image)).toBe('keep');
        expect(decisionOf(plan, image).reasons[0]).toMatchObject({
          rule: 'child-of-kept',
          related: release.index,
          relation: 'child',
        });
        expect(decisionOf(plan, image).reasons[0]?.message).toContain('1.0.0');
      }
      expect(action(plan, stray)).toBe('delete');
    }
  });

  it('keeps BuildKit attestation manifests (unknown/unknown) of kept images (snok #63, #95; dataaxiom #13)', async () => {
    const repo = new ModelRepository();
    const release = repo.multiArch({ tags: ['v2'], ageDays: 10 });
    const plan = await planOf(repo, { untaggedOnly: true });
    for (const attestation of release.attestations) {
      expect(action(plan, attestation)).toBe('keep');
      expect(decisionOf(plan, attestation).kind).toBe('artifact');
      expect(rules(plan, attestation)).toEqual(['child-of-kept', 'referrer-of-kept']);
    }
  });

  it('keeps cosign signatures and OCI referrers of kept platform manifests (dataaxiom #104; bsherman/bos#8)', async () => {
    const repo = new ModelRepository();
    const release = repo.multiArch({ tags: ['v3'], ageDays: 5, attestations: false });
    const platform = release.images[0] as Digest;
    const bundle = repo.artifact(platform, { ageDays: 5 });
    const sig = repo.cosign(platform, 'sig', { ageDays: 5 });
    const att = repo.cosign(release.index, 'att', { ageDays: 5 });
    const sbom = repo.cosign(release.index, 'sbom', { ageDays: 5 });
    const fallback = repo.referrersIndex(platform, [bundle], { ageDays: 5 });
    const plan = await planOf(repo, { olderThan: '1d' });
    for (const digest of [bundle, sig, att, sbom, fallback]) {
      expect(action(plan, digest)).toBe('keep');
      expect(rules(plan, digest)).toContain('referrer-of-kept');
    }
    expect(decisionOf(plan, sig).reasons[0]).toMatchObject({
      related: platform,
      relation: 'cosign-tag',
      tag: cosignTagsFor(platform).signature,
    });
    expect(decisionOf(plan, fallback).reasons[0]).toMatchObject({
      relation: 'referrers-tag',
      tag: referrersTagFor(platform),
    });
    expect(plan.summary.delete).toBe(0);
  });

  it('deletes signatures and referrers with their image, after it', async () => {
    const repo = new ModelRepository();
    repo.image({ tags: ['keep-me'] });
    const old = repo.multiArch({ tags: ['old'], ageDays: 60 });
    const sig = repo.cosign(old.index, 'sig', { ageDays: 60 });
    const bundle = repo.artifact(old.index, { ageDays: 60 });
    const fallback = repo.referrersIndex(old.index, [bundle], { ageDays: 60 });
    const plan = await planOf(repo, { deleteTags: ['old'] });
    for (const digest of [old.index, ...old.images, ...old.attestations, sig, bundle, fallback]) {
      expect(action(plan, digest)).toBe('delete');
    }
    expect(rules(plan, sig)).toEqual(['parent-deleted']);
    const position = (digest: Digest) => plan.deleteOrder.indexOf(repo.id(digest));
    for (const digest of [...old.images, ...old.attestations, sig, bundle, fallback]) {
      expect(position(digest)).toBeGreaterThan(position(old.index));
      expect(decisionOf(plan, digest).deleteAfter).toContain(repo.id(old.index));
    }
    expect(position(bundle)).toBeGreaterThan(position(fallback));
  });

  it('keeps a manifest shared by a kept and a deleted index', async () => {
    const repo = new ModelRepository();
    const shared = repo.image({ ageDays: 30 });
    const own = repo.image({ ageDays: 30 });
    const keptIndex = repo.index([shared], { tags: ['stable'], ageDays: 30 });
    const deletedIndex = repo.index([shared, own], { tags: ['old'], ageDays: 30 });
    const plan = await planOf(repo, { deleteTags: ['old'] });
    expect(action(plan, keptIndex)).toBe('keep');
    expect(action(plan, deletedIndex)).toBe('delete');
    expect(action(plan, shared)).toBe('keep');
    expect(decisionOf(plan, shared).reasons).toEqual([
      expect.objectContaining({ rule: 'child-of-kept', related: keptIndex }),
    ]);
    expect(action(plan, own)).toBe('delete');
  });

  it('keeps a selected root that a kept index still lists, and says what was overridden', async () => {
    const repo = new ModelRepository();
    const platform = repo.image({ tags: ['v1-amd64'], ageDays: 40 });
    const index = repo.index([platform], { tags: ['v1'], ageDays: 40 });
    const plan = await planOf(repo, { deleteTags: ['*-amd64'] });
    expect(action(plan, index)).toBe('keep');
    expect(action(plan, platform)).toBe('keep');
    expect(decisionOf(plan, platform).overridden?.[0]).toMatchObject({ rule: 'delete-tags' });
  });

  it('staged release tags past the cutoff stay with keepTags (NVIDIA/NVSentinel #1339)', async () => {
    const repo = new ModelRepository();
    const releases = ['v0.7.0', 'v0.8.0', 'v0.9.0'].map((tag, i) =>
      repo.multiArch({ tags: [tag], ageDays: 100 + i }),
    );
    const nightly = repo.multiArch({ tags: ['nightly-1'], ageDays: 100 });
    const plan = await planOf(repo, {
      olderThan: '30d',
      deleteTags: ['*'],
      keepTags: ['/^v\\d+\\.\\d+\\.\\d+$/'],
    });
    for (const release of releases) {
      for (const digest of [release.index, ...release.images, ...release.attestations]) {
        expect(action(plan, digest)).toBe('keep');
      }
    }
    expect(action(plan, nightly.index)).toBe('delete');
  });
});

describe('planRetention: fail closed, last versions, broken images', () => {
  it('keeps everything when a manifest cannot be read, and says why', async () => {
    const repo = new ModelRepository();
    const release = repo.multiArch({ tags: ['v1'], ageDays: 10 });
    const stray = repo.image({ ageDays: 100 });
    repo.unreadable.add(release.index);
    const plan = await planOf(repo, {});
    expect(plan.blocked).toBe(true);
    expect(plan.summary.delete).toBe(0);
    expect(rules(plan, release.index)).toEqual(['unreadable', 'graph-incomplete']);
    expect(rules(plan, stray)).toEqual(['graph-incomplete']);
    expect(plan.unreadable).toEqual([
      expect.objectContaining({
        digest: release.index,
        code: 'GHCR_INTERNAL',
        versionId: repo.id(release.index),
      }),
    ]);
  });

  it('keeps everything when the tag list fails or names a tag it cannot resolve', async () => {
    const repo = new ModelRepository();
    repo.image({ tags: ['v1'] });
    const stray = repo.image({ ageDays: 100 });
    const versions = repo.versionList();
    const failing = await buildRegistryGraph({
      versions,
      fetchManifest: async (digest) => repo.manifests.get(digest as Digest)?.parsed as ParsedManifest,
      listTags: async () => {
        throw new InternalError('tags/list failed');
      },
    });
    const plan = planRetention(versions, failing, {}, MODEL_NOW);
    expect(plan.blocked).toBe(true);
    expect(action(plan, stray)).toBe('keep');
    const unknownTag = await buildRegistryGraph({
      versions,
      fetchManifest: async (digest) => repo.manifests.get(digest as Digest)?.parsed as ParsedManifest,
      listTags: async () => ['v1', 'mystery'],
    });
    expect(unknownTag.incomplete[0]).toContain('mystery');
    expect(planRetention(versions, unknownTag, {}, MODEL_NOW).summary.delete).toBe(0);
  });

  it('keeps everything when a version is missing from the graph', async () => {
    const repo = new ModelRepository();
    repo.image({ tags: ['v1'] });
    const graph = await repo.graph();
    const late = repo.image({ ageDays: 100 });
    const plan = planRetention(repo.versionList(), graph, {}, MODEL_NOW);
    expect(plan.blocked).toBe(true);
    expect(action(plan, late)).toBe('keep');
  });

  it('never deletes the last version', async () => {
    const repo = new ModelRepository();
    const only = repo.image({ ageDays: 100 });
    const plan = await planOf(repo, {});
    expect(action(plan, only)).toBe('keep');
    expect(rules(plan, only)).toEqual(['last-version']);
    expect(decisionOf(plan, only).overridden?.[0]?.rule).toBe('untagged');
  });

  it('keeps the newest tagged image (and its children) when every version would go', async () => {
    const repo = new ModelRepository();
    const older = repo.multiArch({ tags: ['pr-1'], ageDays: 20 });
    const newer = repo.multiArch({ tags: ['pr-2'], ageDays: 10 });
    const plan = await planOf(repo, { deleteTags: ['pr-*'] });
    expect(action(plan, newer.index)).toBe('keep');
    expect(rules(plan, newer.index)).toEqual(['last-version']);
    for (const child of newer.images) expect(action(plan, child)).toBe('keep');
    expect(action(plan, older.index)).toBe('delete');
  });

  it('keeps the newest tagged version when every tagged one would go (GitHub refuses the last tagged version)', async () => {
    const repo = new ModelRepository();
    const tagged = repo.image({ tags: ['pr-9'], ageDays: 10 });
    const untagged = repo.image({ ageDays: 1 });
    const plan = await planOf(repo, { deleteTags: ['pr-*'], keepNewestUntagged: 5 });
    expect(action(plan, untagged)).toBe('keep');
    expect(action(plan, tagged)).toBe('keep');
    expect(rules(plan, tagged)).toEqual(['last-tagged-version']);
  });

  it('reports ghost and partial images and orphaned referrers; orphans are planned as untagged images', async () => {
    const repo = new ModelRepository();
    const ghost = repo.multiArch({ tags: ['ghost'], attestations: false });
    const partial = repo.multiArch({ tags: ['partial'], attestations: false });
    for (const image of ghost.images) repo.remove(image);
    repo.remove(partial.images[0] as Digest);
    const gone = repo.image({ ageDays: 30 });
    const sig = repo.cosign(gone, 'sig', { ageDays: 30 });
    const bundle = repo.artifact(gone, { ageDays: 30 });
    repo.remove(gone);
    const plan = await planOf(repo, {});
    expect(plan.ghosts.map((entry) => entry.digest)).toEqual([ghost.index]);
    expect(plan.ghosts[0]?.missingManifests).toHaveLength(2);
    expect(plan.partialImages.map((entry) => entry.digest)).toEqual([partial.index]);
    expect(plan.orphanedReferrers.map((entry) => entry.digest).sort()).toEqual([bundle, sig].sort());
    expect(action(plan, sig)).toBe('delete');
    expect(decisionOf(plan, sig).reasons[0]?.message).toContain('orphaned referrer');
    expect(action(plan, ghost.index)).toBe('keep');
    const keepSignatures = await planOf(repo, { keepTags: ['sha256-*'] });
    expect(action(keepSignatures, sig)).toBe('keep');
  });

  it('accepts Packages API objects and skips deleted ones', async () => {
    const repo = new ModelRepository();
    const image = repo.image({ tags: ['v1'], ageDays: 3 });
    const stray = repo.image({ ageDays: 3 });
    const graph = await repo.graph();
    const api = repo.versionList().map((version) => ({
      id: version.id,
      name: version.digest,
      url: `https://api.github.com/versions/${version.id}`,
      package_html_url: 'https://github.com/orgs/o/packages/container/package/p',
      created_at: new Date(version.createdAt).toISOString(),
      updated_at: new Date(version.createdAt).toISOString(),
      metadata: { package_type: 'container', container: { tags: [...version.tags] } },
    }));
    const plan = planRetention(
      [...api, { ...api[0], id: 1, deleted_at: '2026-01-01T00:00:00Z' } as (typeof api)[number]],
      graph,
      {},
      new Date(MODEL_NOW),
    );
    expect(plan.summary.versions).toBe(2);
    expect(action(plan, image)).toBe('keep');
    expect(action(plan, stray)).toBe('delete');
    expect(decisionOf(plan, image).createdAt).toBe(new Date(MODEL_NOW - 3 * 86_400_000).toISOString());
  });

  it('is JSON-serialisable and deterministic', async () => {
    const repo = new ModelRepository();
    const release = repo.multiArch({ tags: ['v1'], ageDays: 60 });
    repo.cosign(release.index, 'sig', { ageDays: 60 });
    repo.image({ tags: ['v2'] });
    const graph = await repo.graph();
    const plan = planRetention(
      repo.versionList(),
      graph,
      { olderThan: '30d', deleteTags: ['*'], keepTags: [/^v2$/] },
      MODEL_NOW,
    );
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
    expect(
      planRetention(repo.versionList(), JSON.parse(JSON.stringify(graph)), plan.policy, MODEL_NOW),
    ).toEqual(plan);
    expect(deletedDigests(plan)).toHaveLength(1 + release.images.length + release.attestations.length + 1);
  });
});

describe('retention policy validation', () => {
  it.each([
    [{ keepTags: ['/(unclosed/'] }, 'keepTags.0'],
    [{ deleteTags: ['ok', ''] }, 'deleteTags.1'],
    [{ olderThan: '30 fortnights' }, 'olderThan'],
    [{ olderThan: -1 }, 'olderThan'],
    [{ keepNewestTagged: -1 }, 'keepNewestTagged'],
    [{ keepNewestUntagged: 1.5 }, 'keepNewestUntagged'],
    [{ keepDigests: ['sha256:nothex'] }, 'keepDigests.0'],
    [{ timestamp: 'deleted_at' }, 'timestamp'],
    [{ keepNewest: 3 }, 'keepNewest'],
  ])('refuses %j (field %s)', (policy, field) => {
    let caught: unknown;
    try {
      parseRetentionPolicy(policy as RetentionPolicy);
    } catch (error) {
      caught = error;
    }
    expect(ConfigError.isInstance(caught)).toBe(true);
    expect((caught as ConfigError).field).toBe(field);
  });

  it('names an unknown key, and the key it is an obvious typo of', () => {
    expect(() => parseRetentionPolicy({ keepTag: ['latest'] } as RetentionPolicy)).toThrow(
      'unknown retention policy field "keepTag" (did you mean "keepTags"?): the valid ones are keepNewestTagged, keepNewestUntagged, keepTags, deleteTags, olderThan, timestamp, untaggedOnly, keepDigests',
    );
    expect(() => parseRetentionPolicy({ keepNewest: 3 } as RetentionPolicy)).toThrow(
      /^unknown retention policy field "keepNewest": the valid ones are /,
    );
  });

  it('fills defaults and converts durations to ms', () => {
    expect(parseRetentionPolicy({ olderThan: '1d12h' })).toEqual({
      keepTags: [],
      deleteTags: [],
      olderThan: 129_600_000,
      timestamp: 'created_at',
      untaggedOnly: false,
      keepDigests: [],
    });
  });
});
