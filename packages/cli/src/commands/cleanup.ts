import { writeFile } from 'node:fs/promises';
import {
  type CleanupPackageOutcome,
  cleanupPackages,
  createFileCleanupState,
  createRequestBudget,
  type GhcrClient,
  parseDuration,
  parseRetentionPolicy,
  type RegistryGraph,
  type RepositoryValidation,
  type RetentionPlan,
  type RetentionPolicy,
  type RetentionReport,
  type RetentionReportEntry,
  retentionMermaidSection,
} from '@ghcr/client/core';
import { ConfigError, definedProps, NotFoundError } from '@ghcr/oci-types';
import type { Command } from 'commander';
import { collect, type PackageArgument, packageArgument, parseCount, registryOfApi } from '../arguments.js';
import { type CommandRegistrar, contextOf } from '../command.js';
import type { CommandContext } from '../context.js';
import { usageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { table } from '../format.js';

/**
 * One package in `ghcr cleanup --json` output.
 * @public
 */
export interface CleanupPackageResult {
  /** The registry the manifests were read from (and whose credentials the Packages API got). */
  readonly registry: string;
  /** `owner/package`. */
  readonly package: string;
  /** The plan (`@ghcr/client`'s `RetentionPlan`): a decision with reasons for every active version. */
  readonly plan: RetentionPlan;
  /** With `--apply`: what was deleted, kept, failed or skipped (`RetentionReport`). */
  readonly report?: RetentionReport;
  /** With `--validate`: broken images (`RepositoryValidation`), after the deletions when applied. */
  readonly validation?: RepositoryValidation;
  /** With `--owner`: `done`, or `partial` (the `--budget` ran out inside it; the rest is deferred). */
  readonly status?: 'done' | 'partial' | 'failed';
  /** With `--owner`: deletions the budget deferred to the next run. */
  readonly deferred?: readonly RetentionReportEntry[];
}

/**
 * With `--owner`: how far the run got over the owner's packages.
 * @public
 */
export interface CleanupOwnerResult {
  readonly owner: string;
  /** Every package selected (`--all`: every container package of the owner). */
  readonly selected: readonly string[];
  /** Finished by an earlier run of this cycle (`--state-file`), skipped now. */
  readonly resumed: readonly string[];
  /** Left for the next run: the budget ran out. */
  readonly pending: readonly string[];
  /** True when every selected package is finished. */
  readonly complete: boolean;
  /** GitHub API requests sent, with `--budget`. */
  readonly budget?: { readonly limit: number; readonly used: number };
  /** Packages that could not be cleaned (`failed`) or were gone once listed (`vanished`). */
  readonly problems: readonly { readonly package: string; readonly status: string; readonly error: string }[];
}

/**
 * `--json` shape of `ghcr cleanup`.
 * @public
 */
export interface CleanupResult {
  /** True with `--apply` (versions were deleted); false: a plan only. */
  readonly applied: boolean;
  readonly packages: readonly CleanupPackageResult[];
  /** With `--owner`. */
  readonly owner?: CleanupOwnerResult;
}

interface CleanupOptions {
  readonly keepNTagged?: number;
  readonly keepNUntagged?: number;
  readonly keepTags?: string[];
  readonly deleteTags?: string[];
  readonly olderThan?: string;
  readonly untagged?: boolean;
  readonly validate?: boolean;
  readonly apply?: boolean;
  readonly owner?: string;
  readonly all?: boolean;
  readonly budget?: number;
  readonly stateFile?: string;
  readonly format?: string;
  readonly summary?: string;
  readonly minAge?: string;
}

/** A planned package with the graph it was planned from (drawn by `--format mermaid` and `--summary`). */
interface Planned {
  readonly target: PackageArgument;
  readonly entry: CleanupPackageResult;
  readonly graph?: RegistryGraph;
}

const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  keepNewestTagged: '--keep-n-tagged',
  keepNewestUntagged: '--keep-n-untagged',
  keepTags: '--keep-tags',
  deleteTags: '--delete-tags',
  olderThan: '--older-than',
  untaggedOnly: '--untagged',
};

/** The retention policy the flags describe, checked before anything is read. */
function policyOf(options: CleanupOptions): RetentionPolicy {
  if (options.olderThan !== undefined) {
    try {
      parseDuration(options.olderThan);
    } catch (error) {
      throw usageError(
        `--older-than "${options.olderThan}" is not a duration; write e.g. 30d, 12h, 1w or 1d12h`,
        { cause: error },
      );
    }
  }
  const policy: RetentionPolicy = {
    ...definedProps({
      keepNewestTagged: options.keepNTagged,
      keepNewestUntagged: options.keepNUntagged,
      keepTags: options.keepTags,
      deleteTags: options.deleteTags,
      olderThan: options.olderThan,
    }),
    ...(options.untagged === true ? { untaggedOnly: true } : {}),
  };
  try {
    parseRetentionPolicy(policy);
  } catch (error) {
    if (!ConfigError.isInstance(error)) throw error;
    const field = (error.field ?? '').split('.')[0] ?? '';
    const flag = FLAG_OF_FIELD[field];
    throw usageError(
      flag === undefined
        ? error.message
        : `${flag}: ${error.message.replace(/^invalid retention policy[^:]*: /, '')}`,
      { cause: error },
    );
  }
  return policy;
}

/** `--min-age`, checked like `--older-than`. */
function minAgeOf(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw usageError(`--min-age "${value}" is not a duration; write e.g. 10m, 1h or 0 (off)`, {
      cause: error,
    });
  }
}

/** Skips that are the executor keeping something safe (a push since the plan, minAge), not a failure. */
const SAFE_SKIPS: ReadonlySet<string> = new Set(['changed-since-plan', 'min-age']);

const short = (digest: string): string => digest.slice(0, 19);

/** Attachment tags (`sha256-<64 hex>[.sig]`) shortened for the table. */
const shortTag = (tag: string): string => tag.replace(/^(sha256-[0-9a-f]{12})[0-9a-f]{52}/, '$1…');

/** The plan as a table: one row per version, newest first. */
function renderPlan(target: PackageArgument, plan: RetentionPlan, applied: boolean): string[] {
  const { summary } = plan;
  const header = `${target.registry}/${target.repository}: ${summary.versions} version${summary.versions === 1 ? '' : 's'}, keep ${summary.keep}, delete ${summary.delete}${applied ? '' : ' (plan only; --apply deletes)'}`;
  const rows = plan.decisions.map((decision) => [
    decision.action,
    String(decision.id),
    decision.createdAt.replace(/\.\d+Z$/, 'Z'),
    decision.kind,
    short(decision.digest),
    decision.tags.map(shortTag).join(',') || '-',
    decision.reasons[0]?.message ?? '',
  ]);
  return [header, ...table(['ACTION', 'ID', 'CREATED', 'KIND', 'DIGEST', 'TAGS', 'WHY'], rows)];
}

function renderReport(report: RetentionReport): string[] {
  const { summary } = report;
  const lines = [
    `deleted ${summary.deleted}, kept ${summary.kept}, failed ${summary.failed}, skipped ${summary.skipped}${report.interrupted ? ' (interrupted: run again to finish)' : ''}`,
  ];
  for (const failed of report.failed) {
    lines.push(
      `  failed ${failed.id} ${short(failed.digest)}: ${failed.error.code}: ${failed.error.message}`,
    );
  }
  for (const skipped of report.skipped)
    lines.push(
      `  ${SAFE_SKIPS.has(skipped.cause) ? 'left alone' : 'skipped'} ${skipped.id} ${short(skipped.digest)}: ${skipped.why}`,
    );
  return lines;
}

function renderOwner(owner: CleanupOwnerResult): string[] {
  const lines = [''];
  lines.push(
    `${owner.owner}: ${owner.selected.length} packages selected${owner.resumed.length === 0 ? '' : `, ${owner.resumed.length} finished by an earlier run`}${owner.budget === undefined ? '' : `; ${owner.budget.used} of ${owner.budget.limit} API requests used`}`,
  );
  for (const problem of owner.problems)
    lines.push(`  ${problem.status} ${problem.package}: ${problem.error}`);
  lines.push(
    owner.complete
      ? 'every selected package is finished'
      : `${owner.pending.length} packages left for the next run: ${owner.pending.join(', ')}`,
  );
  return lines;
}

function renderValidation(validation: RepositoryValidation): string[] {
  if (validation.ok) return ['validation: every image pulls completely'];
  const lines = ['validation: broken images found'];
  for (const ghost of validation.ghosts) {
    lines.push(
      `  ghost ${ghost.kind} ${ghost.digest}${ghost.tags.length === 0 ? '' : ` (${ghost.tags.join(', ')})`}: every manifest it lists is missing`,
    );
  }
  for (const partial of validation.partialImages) {
    const missing = [...partial.missingManifests, ...partial.missingBlobs];
    lines.push(
      `  partial ${partial.kind} ${partial.digest}${partial.tags.length === 0 ? '' : ` (${partial.tags.join(', ')})`}: missing ${missing.join(', ')}`,
    );
  }
  for (const orphan of validation.orphanedReferrers) {
    lines.push(`  orphaned referrer ${orphan.digest}: its subject ${orphan.subject} is gone`);
  }
  for (const tag of validation.brokenTags) {
    lines.push(`  tag ${tag.tag} (${tag.digest}) does not pull: missing ${tag.missing.join(', ')}`);
  }
  for (const entry of validation.unreadable) lines.push(`  unreadable ${entry.digest}: ${entry.reason}`);
  for (const problem of validation.incomplete) lines.push(`  incomplete: ${problem}`);
  return lines;
}

async function readPackage(
  client: GhcrClient,
  target: PackageArgument,
): Promise<{
  versions: Awaited<ReturnType<GhcrClient['versions']['list']>>;
  graph: Awaited<ReturnType<GhcrClient['retention']['readGraph']>>;
}> {
  const versions = await client.versions.list(target.repository);
  if (versions.length === 0) {
    throw new NotFoundError(`${target.repository} has no active versions to clean up`, {
      code: 'GHCR_NOT_FOUND',
      resource: `package ${target.repository}`,
    });
  }
  const graph = await client.retention.readGraph(target.repository, versions);
  return { versions, graph };
}

async function cleanupPackage(
  context: CommandContext,
  target: PackageArgument,
  policy: RetentionPolicy,
  options: CleanupOptions,
): Promise<Planned> {
  const client = context.client(target.registry);
  const { versions, graph } = await readPackage(client, target);
  const plan = client.retention.plan(versions, graph, policy);
  for (const warning of plan.warnings) context.output.warn(`${target.repository}: ${warning.message}`);
  if (plan.blocked) {
    context.output.warn(
      `${target.repository}: the registry graph could not be read completely, so nothing will be deleted (fail closed); see the warnings above`,
    );
  }
  let report: RetentionReport | undefined;
  if (options.apply === true) {
    report = await client.retention.execute(plan, {
      // Look again before each batch: skip what a push made reachable since the plan.
      revalidate: client.retention.revalidation(target.repository, graph, {
        listVersions: (read) => client.versions.iterate(target.repository, read),
      }),
      ...(options.minAge === undefined ? {} : { minAge: minAgeOf(options.minAge) }),
      deleteVersion: async (id, { signal }) => {
        await client.versions.delete(target.repository, id, signal === undefined ? {} : { signal });
      },
      ...definedProps({ concurrency: context.options.concurrency }),
      onProgress: (event) =>
        context.output.note(
          `${event.outcome} ${target.repository} version ${event.id} ${short(event.digest)} (${event.done}/${event.total})`,
        ),
    });
  }
  let validation: RepositoryValidation | undefined;
  if (options.validate === true) {
    // After deletions, validate what is left (a fresh read); otherwise the graph just read.
    validation =
      report === undefined
        ? client.retention.validate(graph)
        : client.retention.validate((await readPackage(client, target)).graph);
  }
  const entry: CleanupPackageResult = {
    registry: target.registry,
    package: target.repository,
    plan,
    ...definedProps({ report, validation }),
  };
  return { target, entry, graph };
}

/**
 * `--owner`: the owner's packages (`--all`, or the names and globs given) through `cleanupPackages`,
 * within `--budget` API requests, continuing from `--state-file`.
 */
async function cleanupOwner(
  context: CommandContext,
  owner: string,
  names: readonly string[],
  policy: RetentionPolicy,
  options: CleanupOptions,
): Promise<{ planned: Planned[]; owner: CleanupOwnerResult }> {
  const registry = registryOfApi(context.options.apiUrl);
  const budget = options.budget === undefined ? undefined : createRequestBudget({ limit: options.budget });
  const client = context.client(registry, budget === undefined ? {} : { middleware: [budget.middleware] });
  const run = await cleanupPackages(client, {
    owner,
    ...(options.all === true ? {} : { packages: names }),
    policy,
    dryRun: options.apply !== true,
    ...definedProps({ budget }),
    ...(options.stateFile === undefined ? {} : { state: createFileCleanupState(options.stateFile) }),
    ...definedProps({ concurrency: context.options.concurrency }),
    ...(options.minAge === undefined ? {} : { minAge: minAgeOf(options.minAge) }),
    onEvent(event) {
      if (event.type === 'selected' && event.resumed.length > 0)
        context.output.note(
          `${event.resumed.length} packages finished by an earlier run are skipped (${options.stateFile})`,
        );
      if (event.type === 'progress' && event.progress.outcome !== 'dry-run')
        context.output.note(
          `${event.progress.outcome} ${owner}/${event.package} version ${event.progress.id} (${event.progress.done}/${event.progress.total})`,
        );
      if (event.type === 'stopped')
        context.output.warn(
          `stopped: ${event.reason}; ${event.pending.length} packages left for the next run`,
        );
    },
  });
  const planned: Planned[] = [];
  const problems: CleanupOwnerResult['problems'][number][] = [];
  for (const outcome of run.packages) {
    const target = packageArgument(`${registry}/${outcome.repository}`, context.options.apiUrl);
    if (outcome.plan === undefined) {
      if (outcome.status !== 'partial')
        problems.push({ package: outcome.repository, status: outcome.status, error: outcome.error ?? '' });
      continue;
    }
    planned.push({
      target,
      entry: ownerEntry(registry, outcome, outcome.plan),
      ...definedProps({ graph: outcome.graph }),
    });
    if (outcome.status === 'failed' && outcome.report === undefined)
      problems.push({ package: outcome.repository, status: outcome.status, error: outcome.error ?? '' });
  }
  return {
    planned,
    owner: {
      owner,
      selected: run.selected,
      resumed: run.resumed,
      pending: run.pending,
      complete: run.complete,
      ...(budget === undefined ? {} : { budget: { limit: budget.limit, used: budget.used } }),
      problems,
    },
  };
}

function ownerEntry(
  registry: string,
  outcome: CleanupPackageOutcome,
  plan: RetentionPlan,
): CleanupPackageResult {
  return {
    registry,
    package: outcome.repository,
    plan,
    ...definedProps({ report: outcome.report }),
    status: outcome.status === 'partial' ? 'partial' : outcome.status === 'done' ? 'done' : 'failed',
    ...(outcome.deferred.length === 0 ? {} : { deferred: outcome.deferred }),
  };
}

/** The Markdown of `--summary`: one row per package, then each plan as a Mermaid graph. */
function summaryMarkdown(planned: readonly Planned[], result: CleanupResult): string {
  const lines = [
    `## ghcr cleanup: ${result.applied ? 'applied' : 'plan only (--apply deletes)'}`,
    '',
    '| Package | Versions | Keep | Delete | Deleted | Failed |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const { entry } of planned) {
    const { summary } = entry.plan;
    lines.push(
      `| \`${entry.package}\` | ${summary.versions} | ${summary.keep} | ${summary.delete} | ${entry.report?.summary.deleted ?? 0} | ${(entry.report?.summary.failed ?? 0) + (entry.report?.summary.skipped ?? 0)} |`,
    );
  }
  const owner = result.owner;
  if (owner !== undefined) {
    lines.push('');
    if (owner.budget !== undefined)
      lines.push(`GitHub API requests: ${owner.budget.used} of a budget of ${owner.budget.limit}.`);
    if (!owner.complete) lines.push(`${owner.pending.length} packages are left for the next run.`);
    for (const problem of owner.problems)
      lines.push(`- \`${problem.package}\`: ${problem.status}: ${problem.error}`);
  }
  for (const { entry, graph } of planned) {
    if (graph === undefined) continue;
    lines.push('', retentionMermaidSection(entry.package, entry.plan, graph, { open: planned.length === 1 }));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `ghcr cleanup <owner>/<package>...`: plans which package versions a retention policy deletes
 * (reading every manifest, so a platform image of a kept index is never deleted), prints the plan,
 * and deletes only with `--apply`.
 * @internal
 */
export const registerCleanupCommand: CommandRegistrar = (program, runtime) => {
  program
    .command('cleanup')
    .description('plan (and with --apply, do) the deletion of package versions by a retention policy')
    .argument(
      '[package...]',
      '[registry/]owner/package, e.g. octo-org/app; with --owner, package names or globs (app-*)',
    )
    .option('--owner <owner>', 'the packages of this user or organisation (with --all, or names and globs)')
    .option('--all', 'with --owner: every container package of the owner (every page of the Packages API)')
    .option(
      '--budget <n>',
      'with --owner: GitHub API requests this run may send; it stops before they run out',
      parseCount,
    )
    .option('--state-file <file>', 'with --owner: record the packages finished, and continue there next run')
    .option('--format <format>', 'table (the default) or mermaid: each plan as a Mermaid graph in Markdown')
    .option(
      '--summary <file>',
      'also write a Markdown summary: a row per package and each plan as a Mermaid graph',
    )
    .option('--keep-n-tagged <n>', 'keep the N newest tagged images', parseCount)
    .option('--keep-n-untagged <n>', 'keep the N newest untagged images', parseCount)
    .option(
      '--keep-tags <pattern>',
      'keep images with a tag matching this glob (*, ?) or /regex/ (repeatable)',
      collect,
    )
    .option(
      '--delete-tags <pattern>',
      'tagged images whose tags all match this glob or /regex/ may be deleted (repeatable; * for any)',
      collect,
    )
    .option('--older-than <duration>', 'only versions older than this: 30d, 12h, 1w, 1d12h')
    .option('--untagged', 'never delete a tagged image: only untagged ones')
    .option('--validate', 'report broken images (after the deletions, with --apply); exit 3 when any')
    .option('--apply', 'delete what the plan deletes (without it, nothing is deleted)')
    .option(
      '--min-age <duration>',
      'with --apply, never delete a version created or updated within this (default 10m; 0 turns it off)',
    )
    .action(async (packageArguments: string[], _options: unknown, command: Command) => {
      const context = contextOf(runtime, command);
      const options = command.opts<CleanupOptions>();
      const policy = policyOf(options);
      if (options.minAge !== undefined) minAgeOf(options.minAge);
      const format = options.format ?? 'table';
      if (format !== 'table' && format !== 'mermaid')
        throw usageError(`--format "${format}" is not a format; give table or mermaid`);
      if (options.owner === undefined) {
        for (const flag of ['all', 'budget', 'stateFile'] as const) {
          if (options[flag] !== undefined)
            throw usageError(
              `--${flag === 'stateFile' ? 'state-file' : flag} needs --owner: name the user or organisation`,
            );
        }
        if (packageArguments.length === 0)
          throw usageError('name a package (owner/package), or give --owner OWNER --all');
      } else if (options.validate === true) {
        throw usageError('--validate takes package arguments (owner/package), not --owner');
      } else if (options.all === true && packageArguments.length > 0) {
        throw usageError('--all selects every package of the owner: give --all or package names, not both');
      } else if (options.all !== true && packageArguments.length === 0) {
        throw usageError('--owner needs package names (globs allowed: app-*) or --all');
      }
      let planned: Planned[] = [];
      let owner: CleanupOwnerResult | undefined;
      if (options.owner === undefined) {
        const targets = packageArguments.map((argument) => packageArgument(argument, context.options.apiUrl));
        for (const target of targets) planned.push(await cleanupPackage(context, target, policy, options));
      } else {
        ({ planned, owner } = await cleanupOwner(context, options.owner, packageArguments, policy, options));
      }
      const packages = planned.map(({ entry }) => entry);
      const applied = options.apply === true;
      const result: CleanupResult = { applied, packages, ...definedProps({ owner }) };
      if (options.summary !== undefined)
        await writeFile(options.summary, summaryMarkdown(planned, result), 'utf8');
      context.output.emit(result, () =>
        format === 'mermaid'
          ? planned.flatMap(({ entry, graph }, position) => [
              ...(position === 0 ? [] : ['']),
              ...(graph === undefined
                ? []
                : [retentionMermaidSection(entry.package, entry.plan, graph, { open: true })]),
            ])
          : [
              ...planned.flatMap(({ target, entry }, position) => [
                ...(position === 0 ? [] : ['']),
                ...renderPlan(target, entry.plan, applied),
                ...(entry.report === undefined ? [] : renderReport(entry.report)),
                ...(entry.deferred === undefined
                  ? []
                  : [`  ${entry.deferred.length} deletions deferred to the next run (budget)`]),
                ...(entry.validation === undefined ? [] : renderValidation(entry.validation)),
              ]),
              ...(owner === undefined ? [] : renderOwner(owner)),
            ],
      );
      if (owner?.problems.some((problem) => problem.status === 'failed'))
        context.setExitCode(ExitCode.Failed);
      const failed = packages.some(
        (entry) =>
          (entry.report !== undefined &&
            (entry.report.summary.failed > 0 ||
              entry.report.skipped.some((skipped) => !SAFE_SKIPS.has(skipped.cause)) ||
              entry.report.interrupted)) ||
          (applied && entry.plan.blocked),
      );
      if (failed) {
        context.setExitCode(ExitCode.Failed);
      } else if (packages.some((entry) => entry.validation !== undefined && !entry.validation.ok)) {
        context.setExitCode(ExitCode.Blocked);
      }
    });
};
