import {
  type GhcrClient,
  parseDuration,
  parseRetentionPolicy,
  type RepositoryValidation,
  type RetentionPlan,
  type RetentionPolicy,
  type RetentionReport,
} from '@ghcr/client';
import { ConfigError, NotFoundError } from '@ghcr/oci-types';
import type { Command } from 'commander';
import { collect, type PackageArgument, packageArgument, parseCount } from '../arguments.js';
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
}

/**
 * `--json` shape of `ghcr cleanup`.
 * @public
 */
export interface CleanupResult {
  /** True with `--apply` (versions were deleted); false: a plan only. */
  readonly applied: boolean;
  readonly packages: readonly CleanupPackageResult[];
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
  readonly minAge?: string;
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
    ...(options.keepNTagged === undefined ? {} : { keepNewestTagged: options.keepNTagged }),
    ...(options.keepNUntagged === undefined ? {} : { keepNewestUntagged: options.keepNUntagged }),
    ...(options.keepTags === undefined ? {} : { keepTags: options.keepTags }),
    ...(options.deleteTags === undefined ? {} : { deleteTags: options.deleteTags }),
    ...(options.olderThan === undefined ? {} : { olderThan: options.olderThan }),
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
): Promise<CleanupPackageResult> {
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
      ...(context.options.concurrency === undefined ? {} : { concurrency: context.options.concurrency }),
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
  return {
    registry: target.registry,
    package: target.repository,
    plan,
    ...(report === undefined ? {} : { report }),
    ...(validation === undefined ? {} : { validation }),
  };
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
    .argument('<package...>', '[registry/]owner/package, e.g. octo-org/app')
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
      const targets = packageArguments.map((argument) => packageArgument(argument, context.options.apiUrl));
      const planned: { target: PackageArgument; entry: CleanupPackageResult }[] = [];
      for (const target of targets) {
        planned.push({ target, entry: await cleanupPackage(context, target, policy, options) });
      }
      const packages = planned.map(({ entry }) => entry);
      const applied = options.apply === true;
      const result: CleanupResult = { applied, packages };
      context.output.emit(result, () =>
        planned.flatMap(({ target, entry }, position) => [
          ...(position === 0 ? [] : ['']),
          ...renderPlan(target, entry.plan, applied),
          ...(entry.report === undefined ? [] : renderReport(entry.report)),
          ...(entry.validation === undefined ? [] : renderValidation(entry.validation)),
        ]),
      );
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
