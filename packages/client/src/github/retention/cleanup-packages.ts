import {
  type Clock,
  definedProps,
  GhcrError,
  GhcrErrorCode,
  NotFoundError,
  RateLimitError,
} from '@ghcr/oci-types';
import type { Versions } from '../versions/versions.js';
import { type CleanupState, type CleanupStateStore, cleanupFingerprint } from './cleanup-state.js';
import type {
  RetentionProgressEvent,
  RetentionReport,
  RetentionReportEntry,
  RetentionSkippedEntry,
} from './execute.js';
import type { RegistryGraph } from './graph.js';
import type { RetentionPlan } from './plan.js';
import { parseRetentionPolicy, type RetentionPolicy } from './policy.js';
import type { RequestBudget } from './request-budget.js';
import type { Retention } from './retention.js';

/**
 * A glob over package names: `*` any run of characters (`/` included), `?` one character.
 * @public
 */
export function packageNameMatcher(pattern: string): (name: string) => boolean {
  let body = '';
  for (const char of pattern) {
    if (char === '*') body += '.*';
    else if (char === '?') body += '.';
    else body += char.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  const expression = new RegExp(`^${body}$`);
  return (name) => expression.test(name);
}

/**
 * What {@link cleanupPackages} needs from a client: `client.versions` and `client.retention`.
 * @public
 */
export interface CleanupPackagesClient {
  readonly versions: Pick<Versions, 'listPackages' | 'list' | 'iterate' | 'delete'>;
  readonly retention: Pick<Retention, 'readGraph' | 'plan' | 'execute' | 'revalidation'>;
}

/**
 * Options of {@link cleanupPackages}.
 * @public
 */
export interface CleanupPackagesOptions {
  /** The user or organisation. */
  readonly owner: string;
  /**
   * Package names under the owner (`app`, `team/app`); `*` and `?` select among the owner's
   * container packages (every page of the Packages API is read). If omitted, every package (`*`).
   */
  readonly packages?: readonly string[] | undefined;
  readonly policy: RetentionPolicy;
  /** Plan and report without deleting. If omitted, false. */
  readonly dryRun?: boolean | undefined;
  /**
   * The GitHub API requests this run may spend (`createRequestBudget`, whose middleware must be in
   * the client's transport). Packages are started only while the budget allows; deletions are
   * reserved an image at a time (the image with its platform manifests and attestations), so a run
   * never stops between an index and its children. If omitted, no limit.
   */
  readonly budget?: RequestBudget | undefined;
  /** Where the run stopped, to continue there next time. If omitted, every run starts from the first package. */
  readonly state?: CleanupStateStore | undefined;
  /** Deletions in flight at once (passed to `execute`). If omitted, the executor's default. */
  readonly concurrency?: number | undefined;
  /**
   * Never delete a version created or updated less than this long ago (`execute`'s `minAge`,
   * milliseconds or `10m`). If omitted, the executor's default (10 minutes).
   */
  readonly minAge?: number | string | undefined;
  /**
   * Look again before each delete batch (tags and versions changed since the plan), so a push that
   * races the cleanup loses nothing (`execute`'s `revalidate`). If omitted, true.
   */
  readonly revalidate?: boolean | undefined;
  /** For the state's timestamps. If omitted, `Date.now`. */
  readonly clock?: Pick<Clock, 'now'> | undefined;
  /** Observes the run (for logs). If omitted, nothing is called. */
  readonly onEvent?: ((event: CleanupPackagesEvent) => void) | undefined;
}

/**
 * What {@link cleanupPackages} reports as it goes.
 * @public
 */
export type CleanupPackagesEvent =
  | { readonly type: 'selected'; readonly packages: readonly string[]; readonly resumed: readonly string[] }
  | { readonly type: 'start'; readonly package: string }
  | { readonly type: 'package'; readonly package: string; readonly versions: number }
  | { readonly type: 'planned'; readonly package: string; readonly plan: RetentionPlan }
  | { readonly type: 'progress'; readonly package: string; readonly progress: RetentionProgressEvent }
  | { readonly type: 'finished'; readonly result: CleanupPackageOutcome }
  | { readonly type: 'stopped'; readonly reason: string; readonly pending: readonly string[] };

/**
 * What became of one package.
 * - `done`: planned, and everything the plan deletes is deleted (or a dry run reported it).
 * - `partial`: the budget ran out inside it; the rest is deferred to the next run.
 * - `vanished`: listed among the owner's packages, then gone (404) before its versions were read.
 * - `failed`: it could not be read or planned, a deletion failed, or its plan is blocked (fail closed).
 * @public
 */
export interface CleanupPackageOutcome {
  readonly package: string;
  /** `owner/package`. */
  readonly repository: string;
  readonly status: 'done' | 'partial' | 'vanished' | 'failed';
  /** Active versions listed. */
  readonly versions: number;
  readonly plan?: RetentionPlan;
  readonly graph?: RegistryGraph;
  /** The executor's report, with the deletions the budget deferred moved to `deferred`. */
  readonly report?: RetentionReport;
  /** Deletions not attempted because the budget ran out (the next run plans them again). */
  readonly deferred: readonly RetentionReportEntry[];
  /** Why it failed or vanished. */
  readonly error?: string;
}

/**
 * What {@link cleanupPackages} did.
 * @public
 */
export interface CleanupPackagesResult {
  readonly owner: string;
  /** Every package selected: names in the order given, what a pattern selected sorted (the `matrix` of a fan-out). */
  readonly selected: readonly string[];
  /** Packages an earlier run of this cycle finished (skipped now). */
  readonly resumed: readonly string[];
  /** The packages handled in this run, in order. */
  readonly packages: readonly CleanupPackageOutcome[];
  /** Packages not reached (the budget ran out), plus a `partial` one; the next run starts with them. */
  readonly pending: readonly string[];
  /** True when every selected package is finished (this cycle is complete). */
  readonly complete: boolean;
  /** Why the run stopped early, when it did. */
  readonly stopped?: string;
  /** The budget at the end, when one was given. */
  readonly budget?: { readonly limit: number; readonly used: number; readonly remaining: number };
  /** The state saved at the end, when a store was given. */
  readonly state?: CleanupState;
}

/** The least a package costs: one page of its versions, and one deletion. */
const MIN_PACKAGE_REQUESTS = 2;

const isBudgetError = (error: unknown): boolean =>
  GhcrError.isInstance(error) && error.code === GhcrErrorCode.BUDGET_EXHAUSTED;

function messageOf(error: unknown): string {
  if (GhcrError.isInstance(error)) return `${error.message} [${error.code}]`;
  return error instanceof Error ? error.message : String(error);
}

/** Each deleted version's image: the root its `deleteAfter` chain leads to, and each root's size. */
function deletionGroups(plan: RetentionPlan): { rootOf: Map<number, number>; size: Map<number, number> } {
  const decisions = new Map(plan.decisions.map((decision) => [decision.id, decision]));
  const rootOf = new Map<number, number>();
  const size = new Map<number, number>();
  const find = (id: number, seen: Set<number>): number => {
    const known = rootOf.get(id);
    if (known !== undefined) return known;
    const parent = decisions.get(id)?.deleteAfter.find((candidate) => !seen.has(candidate));
    const root = parent === undefined ? id : find(parent, seen.add(id));
    rootOf.set(id, root);
    return root;
  };
  for (const id of plan.deleteOrder) {
    if (decisions.get(id)?.action !== 'delete') continue;
    const root = find(id, new Set());
    size.set(root, (size.get(root) ?? 0) + 1);
  }
  return { rootOf, size };
}

/** Moves deletions the budget refused (and those waiting on them) out of `failed`/`skipped`. */
function splitDeferred(report: RetentionReport): {
  report: RetentionReport;
  deferred: RetentionReportEntry[];
} {
  const deferredIds = new Set<number>();
  const failed = report.failed.filter((entry) => {
    if (entry.error.code !== GhcrErrorCode.BUDGET_EXHAUSTED) return true;
    deferredIds.add(entry.id);
    return false;
  });
  const deferred: RetentionReportEntry[] = report.failed.filter((entry) => deferredIds.has(entry.id));
  const skipped: RetentionSkippedEntry[] = [];
  for (const entry of report.skipped) {
    if (entry.why.includes(GhcrErrorCode.BUDGET_EXHAUSTED)) deferred.push(entry);
    else skipped.push(entry);
  }
  return {
    report: {
      ...report,
      failed,
      skipped,
      summary: { ...report.summary, failed: failed.length, skipped: skipped.length },
    },
    deferred,
  };
}

/**
 * Cleans up many packages of one owner within one API budget, continuing where the last run
 * stopped: lists the owner's container packages when a pattern asks for it (every page), then for
 * each package not finished in this cycle lists its versions, reads its registry graph, plans, and
 * executes the plan (parents first; 404 on a version counts as already gone). It stops before the
 * budget runs out, and saves which packages are finished, so the next run continues with the rest.
 *
 * Never throws for one package's failure (it is reported and the next package follows); a package
 * listed, then gone, is `vanished`, not a failure.
 * @throws ConfigError for an invalid policy; whatever the state store or the package listing throws.
 * @public
 */
export async function cleanupPackages(
  client: CleanupPackagesClient,
  options: CleanupPackagesOptions,
): Promise<CleanupPackagesResult> {
  const policy = parseRetentionPolicy(options.policy);
  const dryRun = options.dryRun ?? false;
  const budget = options.budget;
  const now = (): string => new Date(options.clock?.now() ?? Date.now()).toISOString();
  const emit = options.onEvent ?? (() => {});
  const owner = options.owner;
  const patterns = options.packages === undefined || options.packages.length === 0 ? ['*'] : options.packages;

  // Listing first: it is what every other request depends on.
  const listed = new Set<string>();
  const selected = new Set<string>();
  if (patterns.some((pattern) => /[*?]/.test(pattern))) {
    for (const pkg of await client.versions.listPackages(owner)) listed.add(pkg.name);
  }
  // Names in the order given; what a pattern selects, sorted.
  for (const pattern of patterns) {
    if (!/[*?]/.test(pattern)) selected.add(pattern);
    else for (const name of [...listed].filter(packageNameMatcher(pattern)).sort()) selected.add(name);
  }
  const names = [...selected];

  const fingerprint = cleanupFingerprint({ owner, patterns: [...patterns].sort(), policy, dryRun });
  const saved = await options.state?.load();
  const continuing = saved !== undefined && !saved.complete && saved.fingerprint === fingerprint;
  const done = new Set(continuing ? saved.done.filter((name) => selected.has(name)) : []);
  let state: CleanupState = {
    format: 1,
    owner,
    fingerprint,
    startedAt: continuing ? saved.startedAt : now(),
    updatedAt: now(),
    runs: continuing ? saved.runs + 1 : 1,
    done: [...done],
    complete: false,
  };
  const resumed = names.filter((name) => done.has(name));
  emit({ type: 'selected', packages: names, resumed });

  const outcomes: CleanupPackageOutcome[] = [];
  let stopped: string | undefined;
  const todo = names.filter((name) => !done.has(name));
  for (const pkg of todo) {
    if (budget !== undefined && budget.remaining < MIN_PACKAGE_REQUESTS) {
      stopped = `the API budget is spent (${budget.used} of ${budget.limit} requests used${budget.github === undefined ? '' : `, GitHub reports ${budget.github.remaining} left`})`;
      break;
    }
    emit({ type: 'start', package: pkg });
    const outcome = await cleanOne(client, { owner, pkg, policy, dryRun, budget, options, emit, listed });
    // Reservations are per image; whatever one package set aside and did not send goes back.
    budget?.release(budget.reserved);
    outcomes.push(outcome);
    emit({ type: 'finished', result: outcome });
    if (outcome.status !== 'partial') done.add(pkg);
    state = {
      ...state,
      updatedAt: now(),
      done: [...state.done, ...(outcome.status === 'partial' ? [] : [pkg])],
    };
    await options.state?.save(state);
    if (outcome.status === 'partial') {
      stopped = `the API budget ran out inside ${owner}/${pkg}${budget === undefined ? '' : ` (${budget.used} of ${budget.limit} requests used)`}`;
      break;
    }
  }
  // A failed package counts as finished for this cycle (reported now, tried again next cycle).
  const pending = todo.filter((name) => !done.has(name));
  const complete = pending.length === 0;
  state = { ...state, updatedAt: now(), complete };
  await options.state?.save(state);
  if (stopped !== undefined) emit({ type: 'stopped', reason: stopped, pending });
  return {
    owner,
    selected: names,
    resumed,
    packages: outcomes,
    pending,
    complete,
    ...definedProps({ stopped }),
    ...(budget === undefined
      ? {}
      : { budget: { limit: budget.limit, used: budget.used, remaining: budget.remaining } }),
    ...(options.state === undefined ? {} : { state }),
  };
}

interface CleanOneInput {
  readonly owner: string;
  readonly pkg: string;
  readonly policy: ReturnType<typeof parseRetentionPolicy>;
  readonly dryRun: boolean;
  readonly budget: RequestBudget | undefined;
  readonly options: CleanupPackagesOptions;
  readonly emit: (event: CleanupPackagesEvent) => void;
  readonly listed: ReadonlySet<string>;
}

async function cleanOne(client: CleanupPackagesClient, input: CleanOneInput): Promise<CleanupPackageOutcome> {
  const { owner, pkg, budget } = input;
  const repository = `${owner}/${pkg}`;
  const base = { package: pkg, repository, deferred: [] as RetentionReportEntry[] };
  let versions: Awaited<ReturnType<CleanupPackagesClient['versions']['list']>>;
  try {
    versions = await client.versions.list(repository);
  } catch (error) {
    if (isBudgetError(error)) return { ...base, status: 'partial', versions: 0, error: messageOf(error) };
    // Listed a moment ago, 404 now: deleted in between (by someone else, or a fan-out job).
    if (NotFoundError.isInstance(error) && input.listed.has(pkg))
      return { ...base, status: 'vanished', versions: 0, error: messageOf(error) };
    return { ...base, status: 'failed', versions: 0, error: messageOf(error) };
  }
  input.emit({ type: 'package', package: pkg, versions: versions.length });
  let graph: RegistryGraph;
  let plan: RetentionPlan;
  try {
    graph = await client.retention.readGraph(repository, versions);
    plan = client.retention.plan(versions, graph, input.policy);
  } catch (error) {
    return { ...base, status: 'failed', versions: versions.length, error: messageOf(error) };
  }
  input.emit({ type: 'planned', package: pkg, plan });
  const { rootOf, size } = deletionGroups(plan);
  const reservedRoots = new Set<number>();
  try {
    const raw = await client.retention.execute(plan, {
      dryRun: input.dryRun,
      ...definedProps({ concurrency: input.options.concurrency, minAge: input.options.minAge }),
      ...(input.options.revalidate === false
        ? {}
        : {
            revalidate: client.retention.revalidation(repository, graph, {
              listVersions: (read) => client.versions.iterate(repository, read),
            }),
          }),
      deleteVersion: async (id, { signal }) => {
        if (budget !== undefined) {
          const root = rootOf.get(id) ?? id;
          if (!reservedRoots.has(root)) {
            // An image is deleted whole or not at all in this run: reserve its deletions together.
            const count = size.get(root) ?? 1;
            // A group larger than the whole budget could never fit: it goes as far as the budget allows.
            const fits = budget.reserve(
              count > budget.limit ? Math.min(count, budget.remaining) || 1 : count,
            );
            if (!fits) {
              throw new RateLimitError(
                `not deleted in this run: deleting ${count} version${count === 1 ? '' : 's'} of this image needs more of the API budget than is left (${budget.remaining}); the next run continues`,
                { code: GhcrErrorCode.BUDGET_EXHAUSTED, isRetryable: false },
              );
            }
            reservedRoots.add(root);
          }
          budget.spend();
        }
        await client.versions.delete(repository, id, signal === undefined ? {} : { signal });
      },
      onProgress: (progress) => input.emit({ type: 'progress', package: pkg, progress }),
    });
    const { report, deferred } = splitDeferred(raw);
    const failed = report.failed.length + report.skipped.length > 0 || plan.blocked;
    return {
      ...base,
      status: deferred.length > 0 ? 'partial' : failed ? 'failed' : 'done',
      versions: versions.length,
      plan,
      graph,
      report,
      deferred,
      ...(plan.blocked
        ? { error: 'part of the registry graph could not be read: nothing deleted (fail closed)' }
        : {}),
    };
  } catch (error) {
    return { ...base, status: 'failed', versions: versions.length, plan, graph, error: messageOf(error) };
  }
}
