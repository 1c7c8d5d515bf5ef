import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  createManualClock,
  type Digest,
  InternalError,
  InvalidInputError,
  NotFoundError,
} from '@ghcr/oci-types';
import { afterEach, describe, expect, it } from 'vitest';
import { MODEL_NOW, ModelRepository } from '../../testing/model-repository.js';
import { type DeleteVersion, executePlan, type RetentionProgressEvent } from './execute.js';
import { createFileJournal, createMemoryJournal } from './journal.js';
import { planRetention, type RetentionPlan } from './plan.js';

/** The time the fixtures' plans are made for (minAge is measured from it, not the machine's clock). */
const AT_PLAN = { now: () => MODEL_NOW };

/** Two old multi-arch releases with a signature each, one kept release: 14 deletions in 3 levels. */
async function fixture(): Promise<{ repo: ModelRepository; plan: RetentionPlan }> {
  const repo = new ModelRepository();
  repo.multiArch({ tags: ['v3'], ageDays: 1 });
  for (const tag of ['v1', 'v2']) {
    const release = repo.multiArch({ tags: [tag], ageDays: 90 });
    const bundle = repo.artifact(release.index, { ageDays: 90 });
    repo.referrersIndex(release.index, [bundle], { ageDays: 90 });
  }
  const plan = planRetention(repo.versionList(), await repo.graph(), { keepNewestTagged: 1 }, MODEL_NOW);
  return { repo, plan };
}

/** A deleteVersion whose calls resolve only when released, recording the order and the peak concurrency. */
function controlledDeletes(behaviour: (id: number) => 'ok' | 'gone' | 'fail' = () => 'ok') {
  const calls: number[] = [];
  const waiting: { id: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let inFlight = 0;
  let peak = 0;
  const deleteVersion: DeleteVersion = (id, { signal }) => {
    calls.push(id);
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    return new Promise<void>((resolve, reject) => {
      const settle = (outcome: () => void) => () => {
        inFlight -= 1;
        outcome();
      };
      const entry = {
        id,
        resolve: settle(() => {
          const result = behaviour(id);
          if (result === 'ok') resolve();
          else if (result === 'gone') reject(new NotFoundError(`version ${id} not found`));
          else reject(new InternalError(`DELETE version ${id}: status 500`));
        }),
        reject: settle(() => reject(signal?.reason)),
      };
      waiting.push(entry);
      signal?.addEventListener('abort', () => entry.reject(), { once: true });
    });
  };
  const flush = async (limit = Number.POSITIVE_INFINITY): Promise<void> => {
    for (let round = 0; round < 1000 && (waiting.length > 0 || round < 3); round++) {
      const batch = waiting.splice(0, Math.max(0, Math.min(waiting.length, limit)));
      for (const entry of batch) entry.resolve();
      limit -= batch.length;
      await new Promise((resolve) => setImmediate(resolve));
      if (limit <= 0) return;
    }
  };
  return { deleteVersion, calls, flush, peak: () => peak };
}

describe('executePlan', () => {
  it('deletes parents before children, at most `concurrency` at once', async () => {
    const { plan } = await fixture();
    expect(plan.summary.delete).toBe(14);
    const control = controlledDeletes();
    const events: RetentionProgressEvent[] = [];
    const running = executePlan(plan, {
      clock: AT_PLAN,
      deleteVersion: control.deleteVersion,
      concurrency: 3,
      onProgress: (event) => events.push(event),
    });
    await control.flush();
    const report = await running;
    expect(control.peak()).toBeLessThanOrEqual(3);
    expect(control.peak()).toBeGreaterThan(1);
    const position = new Map(control.calls.map((id, i) => [id, i]));
    for (const decision of plan.decisions) {
      for (const parent of decision.deleteAfter) {
        expect(position.get(parent)).toBeLessThan(position.get(decision.id) as number);
      }
    }
    expect(report.summary).toEqual({
      versions: plan.decisions.length,
      kept: 5,
      deleted: 14,
      failed: 0,
      skipped: 0,
    });
    expect(report.deleted.every((entry) => entry.outcome === 'deleted')).toBe(true);
    expect(events.map((event) => event.done)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('counts a version that is already gone (404) as done', async () => {
    const { plan } = await fixture();
    const first = plan.deleteOrder[0] as number;
    const control = controlledDeletes((id) => (id === first ? 'gone' : 'ok'));
    const running = executePlan(plan, { clock: AT_PLAN, deleteVersion: control.deleteVersion });
    await control.flush();
    const report = await running;
    expect(report.failed).toEqual([]);
    expect(report.deleted.find((entry) => entry.id === first)?.outcome).toBe('already-gone');
    expect(report.summary.deleted).toBe(14);
  });

  it('deletes nothing below a parent whose delete failed; other branches go on', async () => {
    const { repo, plan } = await fixture();
    const v1 = repo.tags.get('v1') as Digest;
    const failing = repo.id(v1);
    const control = controlledDeletes((id) => (id === failing ? 'fail' : 'ok'));
    const running = executePlan(plan, {
      clock: AT_PLAN,
      deleteVersion: control.deleteVersion,
      concurrency: 2,
    });
    await control.flush();
    const report = await running;
    expect(report.failed).toEqual([
      expect.objectContaining({ id: failing, error: expect.objectContaining({ code: 'GHCR_INTERNAL' }) }),
    ]);
    // The index's 4 manifests, its fallback index and the bundle (which follows the fallback index).
    expect(report.skipped).toHaveLength(6);
    expect(report.skipped[0]?.why).toContain(`version ${failing}`);
    for (const skipped of report.skipped) expect(control.calls).not.toContain(skipped.id);
    expect(report.summary).toMatchObject({ deleted: 7, failed: 1, skipped: 6 });
  });

  it('dry run: the same report, no request', async () => {
    const { plan } = await fixture();
    const control = controlledDeletes();
    const dry = await executePlan(plan, {
      clock: AT_PLAN,
      deleteVersion: control.deleteVersion,
      dryRun: true,
    });
    expect(control.calls).toEqual([]);
    expect(dry.dryRun).toBe(true);
    expect(dry.deleted.every((entry) => entry.outcome === 'dry-run')).toBe(true);
    const running = executePlan(plan, { clock: AT_PLAN, deleteVersion: control.deleteVersion });
    await control.flush();
    const real = await running;
    expect(dry.deleted.map((entry) => entry.id)).toEqual(real.deleted.map((entry) => entry.id));
    expect(dry.kept).toEqual(real.kept);
  });

  it('resumes after an interruption: the journal holds what was done, a rerun skips it', async () => {
    const { plan } = await fixture();
    const journal = createMemoryJournal();
    const controller = new AbortController();
    const control = controlledDeletes();
    const running = executePlan(plan, {
      clock: AT_PLAN,
      deleteVersion: control.deleteVersion,
      concurrency: 2,
      journal,
      signal: controller.signal,
    });
    await control.flush(5);
    controller.abort(new Error('runner cancelled'));
    const interrupted = await running;
    expect(interrupted.interrupted).toBe(true);
    const done = interrupted.deleted.map((entry) => entry.id);
    expect(done.length).toBeGreaterThanOrEqual(4);
    expect(journal.entries.map((entry) => entry.id)).toEqual(done);
    expect(interrupted.skipped.length).toBe(14 - done.length);
    expect(interrupted.skipped.every((entry) => entry.why.includes('interrupted'))).toBe(true);

    const rerun = controlledDeletes();
    const resumed = executePlan(plan, { clock: AT_PLAN, deleteVersion: rerun.deleteVersion, journal });
    await rerun.flush();
    const report = await resumed;
    expect(rerun.calls.some((id) => done.includes(id))).toBe(false);
    expect(report.summary).toMatchObject({ deleted: 14, failed: 0, skipped: 0 });
    expect(
      report.deleted
        .filter((entry) => entry.outcome === 'journal')
        .map((entry) => entry.id)
        .sort(),
    ).toEqual([...done].sort());
  });

  it('refuses a hand-made plan that deletes every version, and bad options', async () => {
    const { plan } = await fixture();
    const everything: RetentionPlan = {
      ...plan,
      decisions: plan.decisions.map((decision) => ({ ...decision, action: 'delete' as const })),
      deleteOrder: plan.decisions.map((decision) => decision.id),
    };
    await expect(executePlan(everything, { deleteVersion: async () => {} })).rejects.toSatisfy((error) =>
      InvalidInputError.isInstance(error),
    );
    await expect(executePlan(plan, { deleteVersion: async () => {}, concurrency: 0 })).rejects.toSatisfy(
      (error) => ConfigError.isInstance(error) && (error as ConfigError).field === 'concurrency',
    );
    const misspelt = { deleteVersion: async () => {}, batchSzie: 10 };
    await expect(executePlan(plan, misspelt as never)).rejects.toThrow(
      /unknown executePlan option "batchSzie" \(did you mean "batchSize"\?\)/,
    );
  });
});

describe('file journal', () => {
  let directory: string | undefined;
  afterEach(async () => {
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  it('appends JSON lines, reads them back, and ignores a line cut short', async () => {
    directory = await mkdtemp(join(tmpdir(), 'ghcr-retention-'));
    const path = join(directory, 'journal.jsonl');
    const journal = createFileJournal(path);
    expect([...(await journal.completed())]).toEqual([]);
    await Promise.all([
      journal.record({ id: 1, digest: 'sha256:a', outcome: 'deleted' }),
      journal.record({ id: 2, digest: 'sha256:b', outcome: 'already-gone' }),
    ]);
    await writeFile(path, `${await readFile(path, 'utf8')}{"id":3,"dig`);
    expect([...(await createFileJournal(path).completed())]).toEqual([1, 2]);
  });

  it('minAge: never deletes a version created or updated within it, by the injected clock', async () => {
    const repo = new ModelRepository();
    repo.image({ tags: ['stable'], ageDays: 30 });
    const fresh = repo.image({ ageDays: 0 }); // created at MODEL_NOW
    const touched = repo.image({ ageDays: 30, updatedDaysAgo: 0 }); // updated at MODEL_NOW
    const old = repo.image({ ageDays: 30 });
    const plan = planRetention(repo.versionList(), await repo.graph(), { untaggedOnly: true }, MODEL_NOW);
    expect(plan.summary.delete).toBe(3);
    const clock = createManualClock(MODEL_NOW + 10 * 60_000 - 1);
    const deletedIds: number[] = [];
    const deleteVersion: DeleteVersion = async (id) => {
      deletedIds.push(id);
    };
    const early = await executePlan(plan, { deleteVersion, clock });
    expect(deletedIds).toEqual([repo.id(old)]);
    expect(early.skipped.map((entry) => [entry.digest, entry.cause, entry.why]).sort()).toEqual(
      [
        [fresh, 'min-age', 'created or updated 9m 59s ago, within minAge 10m: a push may be using it'],
        [touched, 'min-age', 'created or updated 9m 59s ago, within minAge 10m: a push may be using it'],
      ].sort(),
    );
    // A dry run says the same (no request), and a custom minAge moves the line.
    const dry = await executePlan(plan, { deleteVersion, clock, dryRun: true });
    expect(dry.skipped.map((entry) => entry.cause)).toEqual(['min-age', 'min-age']);
    const shorter = await executePlan(plan, { deleteVersion, clock, dryRun: true, minAge: '5m' });
    expect(shorter.summary.skipped).toBe(0);

    // One millisecond later both are 10 minutes old: deleted.
    await clock.advance(1);
    deletedIds.length = 0;
    const later = await executePlan(plan, { deleteVersion, clock });
    expect(later.summary.skipped).toBe(0);
    expect(deletedIds.sort()).toEqual([repo.id(fresh), repo.id(touched), repo.id(old)].sort());

    // minAge 0 turns it off; a time after the clock (skew) is held.
    deletedIds.length = 0;
    await executePlan(plan, { deleteVersion, clock: { now: () => MODEL_NOW }, minAge: 0 });
    expect(deletedIds).toHaveLength(3);
    const skewed = await executePlan(plan, {
      deleteVersion,
      clock: { now: () => MODEL_NOW - 1000 },
      minAge: 0,
    });
    expect(skewed.skipped.map((entry) => entry.why)).toEqual([
      expect.stringContaining('after now (clock skew?)'),
      expect.stringContaining('after now (clock skew?)'),
    ]);
    await expect(executePlan(plan, { deleteVersion, minAge: 'soon' })).rejects.toSatisfy(
      (error) => ConfigError.isInstance(error) && error.message.includes('"minAge"'),
    );
  });

  it('minAge holds a parent, and its children wait with it (they would break it)', async () => {
    const repo = new ModelRepository();
    repo.image({ tags: ['stable'], ageDays: 30 });
    const release = repo.multiArch({ ageDays: 30, platforms: 2, attestations: false });
    const version = repo.versions.get(release.index);
    if (version !== undefined) version.updatedAt = MODEL_NOW;
    const plan = planRetention(repo.versionList(), await repo.graph(), { untaggedOnly: true }, MODEL_NOW);
    expect(plan.summary.delete).toBe(3);
    const deleteVersion: DeleteVersion = async () => {
      throw new InternalError('nothing should be deleted');
    };
    const report = await executePlan(plan, { deleteVersion, clock: AT_PLAN });
    expect(report.summary).toMatchObject({ deleted: 0, failed: 0, skipped: 3 });
    expect(report.skipped.map((entry) => entry.cause)).toEqual(['min-age', 'min-age', 'min-age']);
    expect(report.skipped[1]?.why).toMatch(
      /^its parent, version \d+, was not deleted \(created or updated 0ms ago/,
    );
  });

  it('fails closed when it cannot look again: nothing more is deleted', async () => {
    const { repo, plan } = await fixture();
    const graph = await repo.graph();
    const deletedIds: number[] = [];
    const deleteVersion: DeleteVersion = async (id) => {
      deletedIds.push(id);
    };
    const source = {
      graph,
      listTags: async () => [...repo.tags.keys()],
      async *listVersions() {
        yield* repo.versionList().sort((a, b) => b.id - a.id);
      },
      fetchManifest: async () => {
        throw new InternalError('GET manifest: status 500');
      },
      resolveTag: async (tag: string) => repo.tags.get(tag),
    };
    const unlisted = await executePlan(plan, {
      clock: AT_PLAN,
      deleteVersion,
      revalidate: {
        ...source,
        listTags: async () => {
          throw new InternalError('GET tags/list: status 503');
        },
      },
    });
    expect(deletedIds).toEqual([]);
    expect(unlisted.summary).toMatchObject({ deleted: 0, skipped: 14 });
    expect(new Set(unlisted.skipped.map((entry) => entry.cause))).toEqual(new Set(['revalidation-failed']));
    expect(unlisted.skipped[0]?.why).toBe(
      'could not look at the registry again before deleting (GHCR_INTERNAL: GET tags/list: status 503); nothing more is deleted: run again',
    );

    // A version pushed since the plan whose manifest cannot be read stops the run too.
    const pushed = repo.image({ tags: ['hotfix'], ageDays: 0 });
    const unreadable = await executePlan(plan, { clock: AT_PLAN, deleteVersion, revalidate: source });
    expect(deletedIds).toEqual([]);
    expect(unreadable.summary.deleted).toBe(0);
    expect(unreadable.skipped[0]?.why).toContain(`manifest ${pushed} could not be read`);
    expect(unreadable.revalidation).toMatchObject({ checks: 1, tagLists: 1, manifestsFetched: 1 });
  });
});
