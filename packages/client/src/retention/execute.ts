import { ConfigError, GhcrError, InvalidInputError, NotFoundError } from '@ghcr/oci-types';
import * as z from 'zod';
import type { RetentionJournal } from './journal.js';
import type { RetentionDecision, RetentionPlan, RetentionReason, RetentionWarning } from './plan.js';

/**
 * Deletes one package version (e.g. `client.versions.deleteVersion`, or a `DELETE
 * …/packages/container/{name}/versions/{id}` through the transport with `auth: { kind:
 * 'github-api' }`, which paces DELETEs to GitHub's secondary limit). A 404 must reject with a
 * `NotFoundError` (it counts as done).
 * @public
 */
export type DeleteVersion = (
  id: number,
  options: { readonly signal?: AbortSignal; readonly digest: string },
) => Promise<void>;

/**
 * Progress of {@link executePlan}: one event per version settled.
 * @public
 */
export interface RetentionProgressEvent {
  readonly id: number;
  readonly digest: string;
  readonly outcome: RetentionDeletedEntry['outcome'] | 'failed' | 'skipped';
  /** Versions settled so far (deleted, failed or skipped). */
  readonly done: number;
  /** Versions the plan deletes. */
  readonly total: number;
}

const isObject = (value: unknown): boolean => typeof value === 'object' && value !== null;
const isFunction = (value: unknown): boolean => typeof value === 'function';

/**
 * Options of {@link executePlan}.
 * @public
 */
export const executePlanOptionsSchema = z.object({
  /** Deletes one version; see {@link DeleteVersion}. */
  deleteVersion: z.custom<DeleteVersion>(
    isFunction,
    'must be a function (id, { signal, digest }) => Promise<void>',
  ),
  /**
   * Deletions in flight at once (the transport's limiter still paces them, ~180 DELETEs a minute on
   * GitHub). If omitted, 4.
   */
  concurrency: z.number().int().positive().max(100).default(4),
  /** Stops starting deletions; those in flight are aborted and reported as skipped. */
  signal: z.custom<AbortSignal>(isObject, 'must be an AbortSignal').optional(),
  /** Report what would be deleted without deleting (the journal is read, not written). If omitted, false. */
  dryRun: z.boolean().default(false),
  /** Called as each version settles. If omitted, nothing is called. */
  onProgress: z
    .custom<(event: RetentionProgressEvent) => void>(isFunction, 'must be a function (event) => void')
    .optional(),
  /** Records completed deletions; a rerun skips the ids it holds. If omitted, none (a rerun relies on 404 = done). */
  journal: z
    .custom<RetentionJournal>(
      (value) =>
        isObject(value) &&
        isFunction((value as RetentionJournal).completed) &&
        isFunction((value as RetentionJournal).record),
      'must be a RetentionJournal (completed(), record(entry))',
    )
    .optional(),
});

/** @public */
export type ExecutePlanOptions = z.input<typeof executePlanOptionsSchema>;

/**
 * A version in the report.
 * @public
 */
export interface RetentionReportEntry {
  readonly id: number;
  readonly digest: string;
  readonly tags: readonly string[];
  readonly kind: RetentionDecision['kind'];
  /** The plan's reasons for its decision. */
  readonly reasons: readonly RetentionReason[];
}

/**
 * A version deleted (or, in a dry run, that would be).
 * @public
 */
export interface RetentionDeletedEntry extends RetentionReportEntry {
  /**
   * `deleted`; `already-gone` (the API answered 404: deleted before, counted as done); `journal`
   * (an earlier run recorded it); `dry-run` (would be deleted).
   */
  readonly outcome: 'deleted' | 'already-gone' | 'journal' | 'dry-run';
}

/**
 * A version whose delete failed.
 * @public
 */
export interface RetentionFailedEntry extends RetentionReportEntry {
  readonly error: { readonly code: string; readonly message: string; readonly status?: number };
}

/**
 * A version the plan deletes that was not attempted: a parent's delete failed (deleting it would
 * break that parent, which still exists), or the run was interrupted.
 * @public
 */
export interface RetentionSkippedEntry extends RetentionReportEntry {
  readonly why: string;
}

/**
 * What {@link executePlan} did: JSON-serialisable.
 * @public
 */
export interface RetentionReport {
  readonly dryRun: boolean;
  /** True when `signal` aborted the run; rerun the same plan (with the journal) to finish. */
  readonly interrupted: boolean;
  readonly summary: {
    readonly versions: number;
    readonly kept: number;
    readonly deleted: number;
    readonly failed: number;
    readonly skipped: number;
  };
  readonly deleted: readonly RetentionDeletedEntry[];
  readonly kept: readonly RetentionReportEntry[];
  readonly failed: readonly RetentionFailedEntry[];
  readonly skipped: readonly RetentionSkippedEntry[];
  readonly warnings: readonly RetentionWarning[];
}

function entryOf(decision: RetentionDecision): RetentionReportEntry {
  return {
    id: decision.id,
    digest: decision.digest,
    tags: decision.tags,
    kind: decision.kind,
    reasons: decision.reasons,
  };
}

function errorOf(error: unknown): RetentionFailedEntry['error'] {
  if (GhcrError.isInstance(error)) {
    const status = error.http?.status;
    return { code: error.code, message: error.message, ...(status === undefined ? {} : { status }) };
  }
  return { code: 'GHCR_INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

/**
 * Executes a plan: deletes its versions through `deleteVersion`, parents before children (an
 * index before its platform manifests, a subject before its referrers: no moment leaves a tag on
 * a broken index), at most `concurrency` at once.
 * - Idempotent: a 404 (`NotFoundError`) counts as done (`already-gone`).
 * - Resumable: with a `journal`, each completed id is recorded; a rerun skips recorded ids.
 * - Safe on failure: when a delete fails, nothing below it is deleted (it would break a parent
 *   that still exists); those versions are reported as skipped.
 * - `dryRun`: the same report, with `outcome: 'dry-run'`, and no request made.
 * - `signal`: stops; in-flight deletes are aborted; what did not finish is skipped and
 *   `interrupted` is set (the promise still resolves with the report).
 * @throws ConfigError on invalid options; InvalidInputError for a plan that would delete every
 * version or that is blocked yet deletes (neither comes from `planRetention`).
 * @public
 */
export async function executePlan(
  plan: RetentionPlan,
  options: ExecutePlanOptions,
): Promise<RetentionReport> {
  const parsed = executePlanOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    throw new ConfigError(`invalid executePlan option "${field}": ${issue?.message ?? 'invalid'}`, {
      field,
      cause: parsed.error,
    });
  }
  const resolved = parsed.data;
  const decisions = new Map(plan.decisions.map((decision) => [decision.id, decision]));
  const order = plan.deleteOrder.filter((id) => decisions.get(id)?.action === 'delete');
  const keptDecisions = plan.decisions.filter((decision) => decision.action === 'keep');
  if (order.length > 0 && keptDecisions.length === 0) {
    throw new InvalidInputError(
      'this plan deletes every version of the package; GitHub refuses to delete the last version (delete the package instead). Make the plan with planRetention, which always keeps one',
    );
  }
  if (order.length > 0 && plan.blocked) {
    throw new InvalidInputError(
      'this plan is blocked (the graph could not be read) yet deletes versions; plan again',
    );
  }

  const fromJournal = new Set<number>(
    resolved.journal === undefined ? [] : [...(await resolved.journal.completed())],
  );
  const signal = resolved.signal;
  const warnings: RetentionWarning[] = [...plan.warnings];
  const deleted: RetentionDeletedEntry[] = [];
  const failed: RetentionFailedEntry[] = [];
  const skipped: RetentionSkippedEntry[] = [];
  const done = new Set<number>();
  const notDone = new Map<number, string>();
  let settled = 0;
  const progress = (decision: RetentionDecision, outcome: RetentionProgressEvent['outcome']): void => {
    settled += 1;
    resolved.onProgress?.({
      id: decision.id,
      digest: decision.digest,
      outcome,
      done: settled,
      total: order.length,
    });
  };
  const complete = (decision: RetentionDecision, outcome: RetentionDeletedEntry['outcome']): void => {
    done.add(decision.id);
    deleted.push({ ...entryOf(decision), outcome });
    progress(decision, outcome);
  };
  const skip = (decision: RetentionDecision, why: string): void => {
    notDone.set(decision.id, why);
    skipped.push({ ...entryOf(decision), why });
    progress(decision, 'skipped');
  };

  const queue = order.map((id) => decisions.get(id) as RetentionDecision);
  let active = 0;
  let onAbort: (() => void) | undefined;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      for (let i = 0; i < queue.length; ) {
        const decision = queue[i] as RetentionDecision;
        if (fromJournal.has(decision.id)) {
          queue.splice(i, 1);
          complete(decision, 'journal');
          continue;
        }
        const blocker = decision.deleteAfter.find((id) => notDone.has(id));
        if (blocker !== undefined) {
          queue.splice(i, 1);
          skip(
            decision,
            signal?.aborted === true
              ? 'interrupted before it was deleted'
              : `its parent, version ${blocker}, was not deleted (${notDone.get(blocker)}); deleting it would break that parent`,
          );
          continue;
        }
        if (signal?.aborted === true) {
          queue.splice(i, 1);
          skip(decision, 'interrupted before it was deleted');
          continue;
        }
        const ready = decision.deleteAfter.every((id) => done.has(id));
        if (!ready || active >= resolved.concurrency) {
          i += 1;
          continue;
        }
        queue.splice(i, 1);
        if (resolved.dryRun) {
          complete(decision, 'dry-run');
          continue;
        }
        active += 1;
        void attempt(decision).then(() => {
          active -= 1;
          pump();
        });
      }
      if (active === 0) {
        // Only a hand-made plan whose deleteAfter names a version it does not delete gets here.
        for (const decision of queue.splice(0))
          skip(decision, 'a version it must follow is not deleted by this plan');
        resolve();
      }
    };
    const attempt = async (decision: RetentionDecision): Promise<void> => {
      let outcome: 'deleted' | 'already-gone';
      try {
        await resolved.deleteVersion(decision.id, {
          digest: decision.digest,
          ...(signal === undefined ? {} : { signal }),
        });
        outcome = 'deleted';
      } catch (error) {
        if (NotFoundError.isInstance(error)) outcome = 'already-gone';
        else if (signal?.aborted === true) {
          skip(decision, 'interrupted while it was being deleted');
          return;
        } else {
          const described = errorOf(error);
          notDone.set(decision.id, `failed: ${described.code}`);
          failed.push({ ...entryOf(decision), error: described });
          progress(decision, 'failed');
          return;
        }
      }
      try {
        await resolved.journal?.record({ id: decision.id, digest: decision.digest, outcome });
      } catch (error) {
        // Deleted, but not recorded: a rerun will find it gone (404 counts as done).
        const described = errorOf(error);
        warnings.push({
          code: 'journal',
          message: `version ${decision.id} was deleted but the journal could not record it: ${described.message}`,
          versionId: decision.id,
        });
      }
      complete(decision, outcome);
    };
    onAbort = () => pump();
    signal?.addEventListener('abort', onAbort, { once: true });
    pump();
  });
  if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);

  const deletedIds = new Set(deleted.map((entry) => entry.id));
  const inOrder = <T extends { id: number }>(entries: T[]): T[] => {
    const rank = new Map(order.map((id, i) => [id, i]));
    return entries.sort((a, b) => (rank.get(a.id) ?? 0) - (rank.get(b.id) ?? 0));
  };
  return {
    dryRun: resolved.dryRun,
    interrupted: signal?.aborted === true,
    summary: {
      versions: plan.decisions.length,
      kept: keptDecisions.length,
      deleted: deletedIds.size,
      failed: failed.length,
      skipped: skipped.length,
    },
    deleted: inOrder(deleted),
    kept: keptDecisions.map(entryOf),
    failed: inOrder(failed),
    skipped: inOrder(skipped),
    warnings,
  };
}
