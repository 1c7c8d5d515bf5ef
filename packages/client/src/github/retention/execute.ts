import {
  type Clock,
  ConfigError,
  definedProps,
  GhcrError,
  InvalidInputError,
  lazySchema,
  NotFoundError,
  PARSE_ONCE,
  systemClock,
  unknownKeysError,
} from '@ghcr/oci-types';
import * as z from 'zod';
import { formatDuration } from './duration.js';
import type { RetentionJournal, RetentionJournalSkip, RetentionSkipCause } from './journal.js';
import type { RetentionDecision, RetentionPlan, RetentionReason, RetentionWarning } from './plan.js';
import { durationSchema } from './policy.js';
import {
  createRevalidator,
  type RevalidationSource,
  type RevalidationStats,
  type Revalidator,
  revalidationFailure,
} from './revalidate.js';

/**
 * Deletes one package version (e.g. `client.versions.deleteVersion`, or a `DELETE
 * …/packages/container/{name}/versions/{id}` through the transport with `auth: { kind:
 * 'github-api' }`, which paces DELETEs to GitHub's secondary limit). A 404 must reject with a
 * `NotFoundError` (it counts as done).
 * @public
 */
export type DeleteVersion = (
  id: number,
  options: { readonly signal?: AbortSignal | undefined; readonly digest: string },
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
 * The zod schema of {@link ExecutePlanOptions} (documented there). Strict: an unknown key is refused.
 * @public
 */
export const executePlanOptionsSchema = lazySchema(
  () =>
    z
      .object({
        deleteVersion: z.custom<DeleteVersion>(
          isFunction,
          'must be a function (id, { signal, digest }) => Promise<void>',
        ),
        concurrency: z.number().int().positive().max(100).default(4),
        signal: z.custom<AbortSignal>(isObject, 'must be an AbortSignal').optional(),
        dryRun: z.boolean().default(false),
        onProgress: z
          .custom<(event: RetentionProgressEvent) => void>(isFunction, 'must be a function (event) => void')
          .optional(),
        journal: z
          .custom<RetentionJournal>(
            (value) =>
              isObject(value) &&
              isFunction((value as RetentionJournal).completed) &&
              isFunction((value as RetentionJournal).record),
            'must be a RetentionJournal (completed(), record(entry))',
          )
          .optional(),
        revalidate: z
          .custom<RevalidationSource>(
            (value) =>
              isObject(value) &&
              isObject((value as RevalidationSource).graph) &&
              isFunction((value as RevalidationSource).listTags) &&
              isFunction((value as RevalidationSource).listVersions) &&
              isFunction((value as RevalidationSource).fetchManifest) &&
              isFunction((value as RevalidationSource).resolveTag),
            'must be a RevalidationSource ({ graph, listTags, listVersions, fetchManifest, resolveTag })',
          )
          .optional(),
        minAge: durationSchema.default(10 * 60_000),
        batchSize: z.number().int().positive().max(1000).default(50),
        clock: z
          .custom<Pick<Clock, 'now'>>(
            (value) => isObject(value) && isFunction((value as Clock).now),
            'must be a Clock (now())',
          )
          .default(systemClock),
      })
      .strict() satisfies z.ZodType<unknown, ExecutePlanOptions>,
);

/**
 * Options of {@link executePlan}.
 * @public
 */
export interface ExecutePlanOptions {
  /** Deletes one version; see {@link DeleteVersion}. */
  readonly deleteVersion: DeleteVersion;
  /**
   * Deletions in flight at once (the transport's limiter still paces them, ~180 DELETEs a minute on
   * GitHub). If omitted, 4.
   */
  readonly concurrency?: number | undefined;
  /** Stops starting deletions; those in flight are aborted and reported as skipped. */
  readonly signal?: AbortSignal | undefined;
  /** Report what would be deleted without deleting (the journal is read, not written). If omitted, false. */
  readonly dryRun?: boolean | undefined;
  /** Called as each version settles. If omitted, nothing is called. */
  readonly onProgress?: ((event: RetentionProgressEvent) => void) | undefined;
  /**
   * Records completed deletions, and versions skipped because they changed since the plan or are
   * within `minAge`; a rerun skips the ids it holds (the skipped ones with the recorded reason:
   * plan again to reconsider them). If omitted, none (a rerun relies on 404 = done).
   */
  readonly journal?: RetentionJournal | undefined;
  /**
   * Look again before each delete batch (see {@link RevalidationSource};
   * `client.retention.revalidation(repository, graph, { listVersions })` makes one): one tag
   * listing and the versions new or changed since the plan (usually one page), the new manifests
   * (once each), then the planner's closure over what is still to be deleted. A version now
   * reachable from a tag or a version the plan did not know is skipped, with the reason. Not used
   * in a dry run. If omitted, the plan is executed as it was made, without looking again.
   */
  readonly revalidate?: RevalidationSource | undefined;
  /**
   * Never delete a version created or updated less than this long ago (by `clock`; its
   * `updated_at` as the plan saw it, or as revalidation found it since): a duration string (`10m`,
   * `1h`) or milliseconds; 0 turns it off. Checked before each batch, so it covers a version a push
   * touched just after the last look. If omitted, 10 minutes.
   */
  readonly minAge?: string | number | undefined;
  /** Versions per delete batch (each batch is revalidated first). If omitted, 50. */
  readonly batchSize?: number | undefined;
  /** The clock `minAge` is measured with. If omitted, the system clock. */
  readonly clock?: Pick<Clock, 'now'> | undefined;
}

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
 * A version the plan deletes that was not attempted: it changed or became needed since the plan
 * (`changed-since-plan`), it is within `minAge` (`min-age`), looking again failed
 * (`revalidation-failed`), a parent's delete failed (`parent-not-deleted`: deleting it would break
 * that parent, which still exists), the run was interrupted (`interrupted`), or the plan orders
 * it after a version it does not delete (`order`).
 * @public
 */
export interface RetentionSkippedEntry extends RetentionReportEntry {
  readonly why: string;
  readonly cause: RetentionSkipCause | 'revalidation-failed' | 'parent-not-deleted' | 'interrupted' | 'order';
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
  /** With `revalidate` (and not a dry run): the looks taken and what they read. */
  readonly revalidation?: RevalidationStats;
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
    return { code: error.code, message: error.message, ...definedProps({ status }) };
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
 * - Safe against concurrent pushes: versions go in batches of `batchSize`; before each batch, with
 *   `revalidate`, it looks again (tags, versions new or changed since the plan, their manifests)
 *   and skips what became reachable from a tag or a version the plan did not know; and it never
 *   deletes a version created or updated within `minAge` (default 10 minutes, by `clock`). What
 *   remains: a push that lands after a batch's look and reuses (without touching) a manifest that
 *   batch deletes; see the package README.
 * - `dryRun`: the same report, with `outcome: 'dry-run'`, and no request made.
 * - `signal`: stops; in-flight deletes are aborted; what did not finish is skipped and
 *   `interrupted` is set (the promise still resolves with the report).
 * @throws ConfigError on invalid options; InvalidInputError for a plan that would delete every
 * version or that is blocked yet deletes (neither comes from `planRetention`), or a
 * `revalidate.graph` other than the one the plan was made from.
 * @public
 */
export async function executePlan(
  plan: RetentionPlan,
  options: ExecutePlanOptions,
): Promise<RetentionReport> {
  const parsed = executePlanOptionsSchema.safeParse(options, PARSE_ONCE);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      throw unknownKeysError('executePlan option', executePlanOptionsSchema, issue, parsed.error);
    }
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
  const journalSkips = new Map<number, RetentionJournalSkip>();
  if (resolved.journal?.skipped !== undefined) {
    for (const entry of await resolved.journal.skipped()) journalSkips.set(entry.id, entry);
  }
  const revalidator: Revalidator | undefined =
    resolved.revalidate === undefined || resolved.dryRun
      ? undefined
      : createRevalidator(plan, resolved.revalidate);
  const signal = resolved.signal;
  const warnings: RetentionWarning[] = [...plan.warnings];
  const deleted: RetentionDeletedEntry[] = [];
  const failed: RetentionFailedEntry[] = [];
  const skipped: RetentionSkippedEntry[] = [];
  const done = new Set<number>();
  const notDone = new Map<number, { why: string; cause: RetentionSkippedEntry['cause'] | 'failed' }>();
  const writes: Promise<void>[] = [];
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
  const warnJournal = (id: number, what: string, error: unknown): void => {
    warnings.push({
      code: 'journal',
      message: `version ${id} was ${what} but the journal could not record it: ${errorOf(error).message}`,
      versionId: id,
    });
  };
  const skip = (
    decision: RetentionDecision,
    why: string,
    cause: RetentionSkippedEntry['cause'],
    record = true,
  ): void => {
    notDone.set(decision.id, { why, cause });
    skipped.push({ ...entryOf(decision), why, cause });
    progress(decision, 'skipped');
    const journal = resolved.journal;
    if (
      record &&
      journal !== undefined &&
      !resolved.dryRun &&
      (cause === 'changed-since-plan' || cause === 'min-age')
    ) {
      // So that a rerun of this plan does not delete it blindly.
      writes.push(
        Promise.resolve()
          .then(() =>
            journal.record({ id: decision.id, digest: decision.digest, outcome: 'skipped', cause, why }),
          )
          .catch((error: unknown) => warnJournal(decision.id, 'skipped', error)),
      );
    }
  };

  // Batches: before the versions of a batch may start, look again (revalidate) and check minAge.
  const cleared = new Set<number>();
  const held = new Map<number, { why: string; cause: RetentionSkipCause }>();
  const updatedSince = new Map<number, number>();
  let clearedQueued = 0;
  let checking = false;
  let stopped: string | undefined;

  const queue = order.map((id) => decisions.get(id) as RetentionDecision);
  const take = (i: number): RetentionDecision => {
    const [decision] = queue.splice(i, 1) as [RetentionDecision];
    if (cleared.has(decision.id)) clearedQueued -= 1;
    return decision;
  };
  let active = 0;
  let onAbort: (() => void) | undefined;
  await new Promise<void>((resolve) => {
    const check = async (): Promise<void> => {
      try {
        if (revalidator !== undefined) {
          const result = await revalidator.check(queue, signal);
          for (const [id, time] of result.updatedAt) updatedSince.set(id, time);
          for (const [id, finding] of result.reachable)
            if (!held.has(id)) held.set(id, { why: finding.why, cause: 'changed-since-plan' });
          if (result.problem !== undefined) stopped = revalidationFailure(result.problem);
        }
      } catch (error) {
        if (signal?.aborted !== true) stopped = revalidationFailure(error);
      }
      // Taken after the look: versions may have left the queue meanwhile (a parent failed).
      const batch = queue.filter((decision) => !cleared.has(decision.id)).slice(0, resolved.batchSize);
      const now = resolved.clock.now();
      for (const decision of batch) {
        if (held.has(decision.id)) continue;
        const touched = Math.max(
          Date.parse(decision.createdAt),
          Date.parse(decision.updatedAt),
          updatedSince.get(decision.id) ?? Number.NEGATIVE_INFINITY,
        );
        const age = now - touched;
        if (age < resolved.minAge) {
          held.set(decision.id, {
            why: `created or updated ${age < 0 ? 'after now (clock skew?)' : `${formatDuration(age)} ago`}, within minAge ${formatDuration(resolved.minAge)}: a push may be using it`,
            cause: 'min-age',
          });
        } else {
          cleared.add(decision.id);
          clearedQueued += 1;
        }
      }
      checking = false;
      pump();
    };
    const pump = (): void => {
      for (let i = 0; i < queue.length; ) {
        const decision = queue[i] as RetentionDecision;
        if (fromJournal.has(decision.id)) {
          take(i);
          complete(decision, 'journal');
          continue;
        }
        const earlier = journalSkips.get(decision.id);
        if (earlier !== undefined) {
          take(i);
          skip(
            decision,
            `an earlier run of this plan skipped it (${earlier.why}); plan again to reconsider it`,
            earlier.cause,
            false,
          );
          continue;
        }
        const hold = held.get(decision.id);
        if (hold !== undefined) {
          take(i);
          skip(decision, hold.why, hold.cause);
          continue;
        }
        if (stopped !== undefined) {
          take(i);
          skip(decision, stopped, 'revalidation-failed');
          continue;
        }
        const blocker = decision.deleteAfter.find((id) => notDone.has(id));
        if (blocker !== undefined) {
          take(i);
          const parent = notDone.get(blocker);
          const inherited =
            parent?.cause === 'changed-since-plan' || parent?.cause === 'min-age' ? parent.cause : undefined;
          if (signal?.aborted === true) skip(decision, 'interrupted before it was deleted', 'interrupted');
          else
            skip(
              decision,
              `its parent, version ${blocker}, was not deleted (${parent?.why ?? ''}); deleting it would break that parent`,
              inherited ?? 'parent-not-deleted',
            );
          continue;
        }
        if (signal?.aborted === true) {
          take(i);
          skip(decision, 'interrupted before it was deleted', 'interrupted');
          continue;
        }
        const ready = decision.deleteAfter.every((id) => done.has(id));
        if (!ready) {
          i += 1;
          continue;
        }
        // Nothing more can start now; what lies further is met again when a slot frees (each
        // settled delete pumps), so a pump does not rescan the whole queue (10,000 versions).
        if (active >= resolved.concurrency) break;
        if (!cleared.has(decision.id)) {
          // The batch is a prefix of the queue (parents first), so every version cleared before is
          // behind us: once all started (or none can: nothing in flight), look again.
          if (!checking && (clearedQueued === 0 || active === 0)) {
            checking = true;
            void check();
          }
          break;
        }
        take(i);
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
      if (active === 0 && !checking) {
        // Only a hand-made plan whose deleteAfter names a version it does not delete gets here.
        for (const decision of queue.splice(0))
          skip(decision, 'a version it must follow is not deleted by this plan', 'order');
        resolve();
      }
    };
    const attempt = async (decision: RetentionDecision): Promise<void> => {
      let outcome: 'deleted' | 'already-gone';
      try {
        await resolved.deleteVersion(decision.id, {
          digest: decision.digest,
          ...definedProps({ signal }),
        });
        outcome = 'deleted';
      } catch (error) {
        if (NotFoundError.isInstance(error)) outcome = 'already-gone';
        else if (signal?.aborted === true) {
          skip(decision, 'interrupted while it was being deleted', 'interrupted');
          return;
        } else {
          const described = errorOf(error);
          notDone.set(decision.id, { why: `failed: ${described.code}`, cause: 'failed' });
          failed.push({ ...entryOf(decision), error: described });
          progress(decision, 'failed');
          return;
        }
      }
      try {
        await resolved.journal?.record({ id: decision.id, digest: decision.digest, outcome });
      } catch (error) {
        // Deleted, but not recorded: a rerun will find it gone (404 counts as done).
        warnJournal(decision.id, 'deleted', error);
      }
      complete(decision, outcome);
    };
    onAbort = () => pump();
    signal?.addEventListener('abort', onAbort, { once: true });
    pump();
  });
  if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  await Promise.all(writes);

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
    ...(revalidator === undefined ? {} : { revalidation: { ...revalidator.stats } }),
  };
}
