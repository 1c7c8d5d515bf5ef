import { referrersTagFor } from '@ghcr/manifest';
import type { Digest } from '@ghcr/oci-types';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { build, scenarioArbitrary } from '../../testing/generated-package.js';
import { MODEL_NOW, type ModelRepository } from '../../testing/model-repository.js';
import { isAttachmentTag } from './graph-index.js';
import { compileTagPattern } from './patterns.js';
import { planRetention, type RetentionPlan } from './plan.js';
import type { RetentionPolicy } from './policy.js';

/** A cheap assertion for hot loops (vitest's expect costs microseconds a call). */
function check(condition: boolean, message: string | (() => string)): void {
  if (!condition) throw new Error(typeof message === 'string' ? message : message());
}

/** Checks the safety invariants of one plan against the model (an oracle independent of the planner's graph code). */
function checkPlan(repo: ModelRepository, plan: RetentionPlan, policy: RetentionPolicy): void {
  const versions = repo.versionList();
  const decisions = new Map(plan.decisions.map((decision) => [decision.digest, decision]));
  check(plan.decisions.length === versions.length, 'one decision per version');
  const deleted = new Set(plan.decisions.filter((d) => d.action === 'delete').map((d) => d.digest as Digest));

  // Fail closed.
  check(repo.unreadable.size === 0 || deleted.size === 0, 'an unreadable manifest deletes nothing');

  // The last version, and the last tagged version, are never deleted.
  check(versions.length === 0 || deleted.size < versions.length, 'the last version is kept');
  const tagged = versions.filter((version) => version.tags.length > 0);
  check(
    tagged.length === 0 || tagged.some((version) => !deleted.has(version.digest as Digest)),
    'the last tagged version is kept',
  );

  // Every kept version still pulls completely, with its referrers: everything reachable from it
  // that existed before still exists, and its tags still point at it.
  const after = repo.apply(plan);
  const referrers = repo.referrerMap();
  for (const version of versions) {
    if (deleted.has(version.digest as Digest)) continue;
    const reach = repo.closureOf(version.digest as Digest, referrers);
    for (const manifest of reach.manifests) {
      check(
        !repo.manifests.has(manifest) || after.manifests.has(manifest),
        () => `${manifest} reachable from kept ${version.digest} is gone`,
      );
    }
    for (const blob of reach.blobs)
      check(!repo.blobs.has(blob) || after.blobs.has(blob), 'a reachable blob is gone');
    for (const tag of version.tags) check(after.tags.get(tag) === version.digest, () => `tag ${tag} moved`);
  }

  // Protection wins.
  const keepPatterns = (policy.keepTags ?? []).map((p) => compileTagPattern(p as string));
  const deletePatterns = (policy.deleteTags ?? []).map((p) => compileTagPattern(p as string));
  for (const version of versions) {
    const gone = deleted.has(version.digest as Digest);
    if (!gone) continue;
    check(
      !version.tags.some((tag) => keepPatterns.some((p) => p.test(tag))),
      'a keepTags version is deleted',
    );
    check(!(policy.keepDigests ?? []).includes(version.digest), 'a keepDigests version is deleted');
    const userTags = version.tags.filter((tag) => !isAttachmentTag(tag));
    if (userTags.length > 0) {
      // A tagged image goes only when the tag rules select it.
      check(policy.untaggedOnly !== true, 'a tagged image is deleted under untaggedOnly');
      check(
        deletePatterns.length > 0 || policy.keepNewestTagged !== undefined,
        'a tagged image is deleted with no tagged rule',
      );
      if (deletePatterns.length > 0) {
        for (const tag of userTags)
          check(
            deletePatterns.some((p) => p.test(tag)),
            () => `tag ${tag} matches no deleteTags`,
          );
      }
    }
    const decision = decisions.get(version.digest);
    if (policy.olderThan !== undefined && decision?.reasons[0]?.rule !== 'parent-deleted') {
      check(
        decision?.reasons.some((reason) => reason.rule === 'older-than') === true,
        'deleted, not older than olderThan',
      );
    }
  }

  // Count rules keep the newest: nothing deleted by selection is newer than something kept only by rank.
  for (const rule of ['keep-newest-tagged', 'keep-newest-untagged'] as const) {
    const byRank = plan.decisions.filter((d) => d.reasons[0]?.rule === rule);
    const beyond = plan.decisions.filter(
      (d) =>
        d.action === 'delete' &&
        d.reasons.some(
          (r) =>
            r.rule === (rule === 'keep-newest-tagged' ? 'beyond-newest-tagged' : 'beyond-newest-untagged'),
        ),
    );
    for (const kept of byRank) {
      for (const gone of beyond)
        check(kept.createdAt >= gone.createdAt, () => `${rule}: kept ${kept.id}, deleted newer ${gone.id}`);
    }
  }

  // Parents before children: every deleted manifest a deleted one hangs from is deleted first.
  const position = new Map(plan.deleteOrder.map((id, i) => [id, i]));
  check(position.size === deleted.size, 'deleteOrder lists every deletion once');
  const parents = new Map<Digest, Set<Digest>>();
  const addParent = (child: Digest, parent: Digest): void => {
    if (child === parent) return;
    const set = parents.get(child) ?? new Set<Digest>();
    set.add(parent);
    parents.set(child, set);
  };
  for (const [digest, manifest] of repo.manifests)
    for (const child of manifest.children) addParent(child, digest);
  for (const [subject, list] of referrers) for (const referrer of list) addParent(referrer, subject);
  const kids = new Map<Digest, Digest[]>();
  for (const [child, set] of parents)
    for (const parent of set) kids.set(parent, [...(kids.get(parent) ?? []), child]);
  const reaches = (from: Digest, to: Digest): boolean => {
    const seen = new Set<Digest>();
    const queue = [from];
    while (queue.length > 0) {
      const next = queue.pop() as Digest;
      if (next === to) return true;
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(...(kids.get(next) ?? []));
    }
    return false;
  };
  for (const digest of deleted) {
    for (const parent of parents.get(digest) ?? []) {
      // A cycle (possible only through tags) has no order; skip pairs that reach each other.
      if (!deleted.has(parent) || reaches(digest, parent)) continue;
      check(
        (position.get(repo.id(parent)) as number) < (position.get(repo.id(digest)) as number),
        () => `${digest} is deleted before its parent ${parent}`,
      );
    }
  }
}

describe('planRetention properties over generated repositories', () => {
  it('never breaks a kept image, never deletes the last version, and honours every rule', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, async (scenario) => {
        const { repo, policy } = build(scenario);
        const plan = planRetention(repo.versionList(), await repo.graph(), policy, MODEL_NOW);
        checkPlan(repo, plan, policy);
      }),
      { numRuns: 2000 },
    );
  }, 60_000);

  it('a kept multi-arch release keeps every platform, attestation, signature and fallback referrer', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, fc.integer({ min: 1, max: 3 }), async (scenario, platforms) => {
        const { repo, policy } = build(scenario);
        const release = repo.multiArch({ tags: ['guarded'], ageDays: 200, platforms });
        const sig = repo.cosign(release.images[0] as Digest, 'sig', { ageDays: 200 });
        const bundle = repo.artifact(release.index, { ageDays: 200 });
        const fallback = repo.referrersIndex(release.index, [bundle], { ageDays: 200 });
        expect(repo.tags.get(referrersTagFor(release.index))).toBe(fallback);
        const guarded = { ...policy, keepTags: [...(policy.keepTags ?? []), 'guarded'] };
        const plan = planRetention(repo.versionList(), await repo.graph(), guarded, MODEL_NOW);
        const gone = new Set(plan.decisions.filter((d) => d.action === 'delete').map((d) => d.digest));
        for (const digest of [
          release.index,
          ...release.images,
          ...release.attestations,
          sig,
          bundle,
          fallback,
        ]) {
          expect(gone.has(digest)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  }, 60_000);
});
