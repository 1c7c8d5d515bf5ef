/**
 * The job summary (Markdown) and the JSON entries of the step outputs.
 */
import {
  describeSigner,
  type GateResult,
  type RegistryGraph,
  type RepositoryValidation,
  type RetentionDecision,
  type RetentionPlan,
  type RetentionReport,
  type RetentionReportEntry,
  retentionMermaidSection,
} from '@ghcr/client';

/**
 * What became of one package.
 * @public
 */
export interface PackageResult {
  /** The package name under the owner (`app`, `team/app`). */
  readonly package: string;
  /** `owner/package`. */
  readonly repository: string;
  /** Active versions listed. */
  readonly versions: number;
  /** The plan (not made in validate mode). */
  readonly plan?: RetentionPlan;
  /** What executing the plan did (a dry run included). */
  readonly report?: RetentionReport;
  /** Validate mode: what is broken. */
  readonly validation?: RepositoryValidation;
  /** Why the package could not be handled (listing, reading or planning failed). */
  readonly error?: string;
  /** Cleanup mode: `done`, `partial` (the API budget ran out inside it), `vanished` (listed, then gone) or `failed`. */
  readonly status?: 'done' | 'partial' | 'vanished' | 'failed';
  /** The registry graph the plan was made from (drawn in the job summary). */
  readonly graph?: RegistryGraph;
  /** Deletions the API budget deferred to the next run. */
  readonly deferred?: readonly RetentionReportEntry[];
}

/**
 * One version in the `deleted`, `kept` and `failed` outputs.
 * @public
 */
export interface VersionEntry {
  readonly package: string;
  /** Package version id. */
  readonly id: number;
  readonly digest: string;
  readonly tags: readonly string[];
  /** `index`, `image`, `artifact`, … (from the graph). */
  readonly kind: string;
  /** The main reason's rule (`keep-tags`, `child-of-kept`, `untagged`, …). */
  readonly rule: string;
  /** The main reason, for people. */
  readonly reason?: string;
  /** `deleted`: `deleted`, `already-gone`, `journal` or `dry-run` (would be deleted). */
  readonly outcome?: string;
  /** `failed`: what went wrong (a failed delete, or why it was not attempted). */
  readonly error?: string;
}

/**
 * One broken thing in the `broken` output (validate mode).
 * @public
 */
export interface BrokenEntry {
  readonly package: string;
  /** `ghost` (no manifest of the index exists), `partial`, `orphaned-referrer`, `broken-tag`, `unreadable`. */
  readonly problem: 'ghost' | 'partial' | 'orphaned-referrer' | 'broken-tag' | 'unreadable';
  readonly digest: string;
  readonly versionId?: number;
  readonly tags: readonly string[];
  /** What is missing (manifests, blobs, the subject), or why it could not be read. */
  readonly detail: string;
}

function entryOf(pkg: string, entry: RetentionReportEntry): VersionEntry {
  const main = entry.reasons[0];
  return {
    package: pkg,
    id: entry.id,
    digest: entry.digest,
    tags: entry.tags,
    kind: entry.kind,
    rule: main?.rule ?? 'unknown',
    ...(main === undefined ? {} : { reason: main.message }),
  };
}

/**
 * The `deleted`, `kept` and `failed` entries of every package (`failed` includes deletions not
 * attempted because a parent's failed or the run was interrupted).
 * @internal
 */
export function versionEntries(results: readonly PackageResult[]): {
  deleted: VersionEntry[];
  kept: VersionEntry[];
  failed: VersionEntry[];
} {
  const deleted: VersionEntry[] = [];
  const kept: VersionEntry[] = [];
  const failed: VersionEntry[] = [];
  for (const result of results) {
    const report = result.report;
    if (report === undefined) continue;
    for (const entry of report.deleted)
      deleted.push({ ...entryOf(result.package, entry), outcome: entry.outcome });
    for (const entry of report.kept) kept.push(entryOf(result.package, entry));
    for (const entry of report.failed)
      failed.push({
        ...entryOf(result.package, entry),
        error: `${entry.error.code}: ${entry.error.message}`,
      });
    for (const entry of report.skipped)
      failed.push({ ...entryOf(result.package, entry), error: `not attempted: ${entry.why}` });
  }
  return { deleted, kept, failed };
}

/**
 * The `broken` entries of validate mode.
 * @internal
 */
export function brokenEntries(results: readonly PackageResult[]): BrokenEntry[] {
  const out: BrokenEntry[] = [];
  for (const { package: pkg, validation } of results) {
    if (validation === undefined) continue;
    const version = (id: number | undefined) => (id === undefined ? {} : { versionId: id });
    for (const image of validation.ghosts) {
      out.push({
        package: pkg,
        problem: 'ghost',
        digest: image.digest,
        ...version(image.versionId),
        tags: image.tags,
        detail: `every manifest it lists is missing: ${image.missingManifests.join(', ')}`,
      });
    }
    for (const image of validation.partialImages) {
      const missing = [...image.missingManifests, ...image.missingBlobs];
      out.push({
        package: pkg,
        problem: 'partial',
        digest: image.digest,
        ...version(image.versionId),
        tags: image.tags,
        detail: `missing: ${missing.join(', ')}`,
      });
    }
    for (const referrer of validation.orphanedReferrers) {
      out.push({
        package: pkg,
        problem: 'orphaned-referrer',
        digest: referrer.digest,
        ...version(referrer.versionId),
        tags: referrer.tags,
        detail: `its subject ${referrer.subject} (${referrer.via}) is gone`,
      });
    }
    for (const tag of validation.brokenTags) {
      out.push({
        package: pkg,
        problem: 'broken-tag',
        digest: tag.digest,
        tags: [tag.tag],
        detail: `does not pull completely; missing: ${tag.missing.join(', ')}`,
      });
    }
    for (const manifest of validation.unreadable) {
      out.push({
        package: pkg,
        problem: 'unreadable',
        digest: manifest.digest,
        ...version(manifest.versionId),
        tags: [],
        detail: manifest.reason,
      });
    }
  }
  return out;
}

/**
 * Escapes a table cell: `|`, backslashes, line breaks, and HTML-ish `<`.
 * @internal
 */
export function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/\r?\n/g, ' ');
}

const short = (digest: string): string => {
  const colon = digest.indexOf(':');
  return colon < 0 ? digest : digest.slice(0, colon + 13);
};

const code = (text: string): string => (text === '' ? '' : `\`${text.replace(/`/g, "'")}\``);
const tagList = (tags: readonly string[]): string => tags.map(code).join(' ');

/** Rows shown per table; the outputs (and the log) have everything. */
const MAX_ROWS = 100;

/** Rows of the per-package table (one per package: an organisation's hundreds fit). */
const MAX_PACKAGE_ROWS = 1000;

function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  total: number,
  maxRows = MAX_ROWS,
): string {
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of rows.slice(0, maxRows)) lines.push(`| ${row.join(' | ')} |`);
  if (total > maxRows) lines.push('', `…and ${total - maxRows} more (see the step outputs and the log).`);
  return lines.join('\n');
}

function runSection(run: NonNullable<SummaryInput['run']>): string {
  const lines = [`GitHub API requests: ${run.budget.used} of a budget of ${run.budget.limit}.`];
  if (run.complete === false) {
    const pending = run.pending ?? [];
    lines.push(
      `Stopped before the budget ran out: ${pending.length} of ${run.selected ?? pending.length} packages are left for the next run${run.stateFile === undefined ? ' (set `state-file` to continue where this run stopped)' : ` (state in \`${run.stateFile}\`)`}.`,
    );
  } else if (run.complete === true && run.stateFile !== undefined) {
    lines.push(
      `Every selected package is finished; the next run starts a new cycle (state in \`${run.stateFile}\`).`,
    );
  }
  return lines.join('\n');
}

/** Each planned package as a Mermaid graph, folded when large. */
function diagramSection(packages: readonly PackageResult[]): string | undefined {
  const planned = packages.filter(
    (result): result is PackageResult & { plan: RetentionPlan; graph: RegistryGraph } =>
      result.plan !== undefined && result.graph !== undefined && result.plan.decisions.length > 0,
  );
  if (planned.length === 0) return undefined;
  const sections: string[] = [];
  let chars = 0;
  for (const result of planned) {
    if (sections.length >= MAX_DIAGRAMS || chars > MAX_DIAGRAM_CHARS) break;
    const section = retentionMermaidSection(result.repository, result.plan, result.graph, {
      open: planned.length === 1,
    });
    chars += section.length;
    sections.push(section);
  }
  const more =
    planned.length > sections.length
      ? [
          `…and ${planned.length - sections.length} more packages (\`ghcr cleanup OWNER/PACKAGE --format mermaid\` draws any of them).`,
        ]
      : [];
  return ['### Plans', '🟩 kept, 🟥 deleted (dashed); each node says why.', ...sections, ...more].join(
    '\n\n',
  );
}

/**
 * What the summary shows.
 * @internal
 */
export interface SummaryInput {
  readonly dryRun: boolean;
  readonly validate: boolean;
  readonly packages: readonly PackageResult[];
  readonly gate?: { readonly image: string; readonly result?: GateResult; readonly error?: string };
  readonly problems?: readonly string[];
  /** The mode (`cleanup`, `validate`, `list`). If omitted, from `validate`. */
  readonly mode?: string;
  /** The API budget and how far a cleanup got. */
  readonly run?: {
    readonly budget: { readonly limit: number; readonly used: number };
    readonly selected?: number;
    readonly complete?: boolean;
    readonly pending?: readonly string[];
    readonly stateFile?: string;
  };
}

/** Mermaid diagrams drawn at most (GitHub renders each; the summary is capped at 1 MiB). */
const MAX_DIAGRAMS = 50;
/** Characters of diagrams at most. */
const MAX_DIAGRAM_CHARS = 600_000;

function statusOf(result: PackageResult): string {
  if (result.status === 'vanished') return '⚠️ vanished: deleted since it was listed';
  if (result.status === 'partial')
    return `⏸ API budget spent: ${result.deferred?.length ?? 0} deletions continue in the next run`;
  if (result.error !== undefined) return `❌ ${cell(result.error)}`;
  if (result.validation !== undefined) return result.validation.ok ? '✅ valid' : '❌ broken images';
  if (result.plan?.blocked === true) return '❌ graph unreadable: nothing deleted';
  if ((result.report?.summary.failed ?? 0) + (result.report?.summary.skipped ?? 0) > 0) return '❌ failures';
  const gone = result.report?.deleted.filter((entry) => entry.outcome === 'already-gone').length ?? 0;
  return gone === 0 ? '✅' : `✅ (${gone} already gone: deleted since the list was read)`;
}

function decisionRow(
  pkg: string,
  decision: Pick<RetentionDecision, 'id' | 'digest' | 'tags' | 'kind' | 'reasons'>,
) {
  return [
    cell(pkg),
    String(decision.id),
    code(short(decision.digest)),
    tagList(decision.tags),
    cell(decision.kind),
    cell(decision.reasons[0]?.message ?? ''),
  ];
}

/**
 * Renders the job summary: the gate's verdict, one row per package, then the versions deleted
 * (or that a dry run would delete), failures and broken images.
 * @internal
 */
export function renderSummary(input: SummaryInput): string {
  const parts: string[] = [];
  const mode = input.validate
    ? 'validate, nothing was changed'
    : input.dryRun
      ? 'dry run, nothing was deleted (set `dry-run: false` to apply)'
      : 'applied';
  if (input.problems !== undefined && input.problems.length > 0) parts.push('## GHCR cleanup: not run');
  else if (input.packages.length === 0 && input.gate !== undefined) parts.push('## GHCR vulnerability gate');
  else if (input.mode === 'list') parts.push('## GHCR cleanup: packages listed, nothing was changed');
  else if (input.mode === 'sync')
    parts.push(
      `## GHCR sync${input.dryRun ? ': dry run, nothing was copied (set `dry-run: false` to apply)' : ''}`,
    );
  else parts.push(`## GHCR cleanup: ${mode}`);

  if (input.problems !== undefined && input.problems.length > 0) {
    parts.push('### Invalid inputs', input.problems.map((problem) => `- ${cell(problem)}`).join('\n'));
  }

  if (input.gate !== undefined) {
    const { image, result, error } = input.gate;
    parts.push('### Vulnerability gate');
    const verdict =
      error !== undefined ? `❌ error: ${cell(error)}` : result?.passed === true ? '✅ passed' : '❌ blocked';
    const blocking = result?.blocking ?? [];
    parts.push(
      table(
        ['Image', 'Digest', 'Verdict', 'Fail on', 'Findings', 'Blocking', 'Ignored', 'Reason'],
        [
          [
            code(image),
            result === undefined ? '' : code(short(result.digest)),
            verdict,
            result?.failOn ?? '',
            String(result?.findings.length ?? 0),
            String(blocking.length),
            String(result?.ignored.length ?? 0),
            cell(result?.reason ?? ''),
          ],
        ],
        1,
      ),
    );
    const reports = result?.reports ?? [];
    if (reports.length > 0) {
      parts.push(
        table(
          ['Report', 'Format', 'Verified', 'Signer', 'Reason'],
          reports.map((report) => [
            code(short(report.digest ?? report.location ?? report.format)),
            report.format,
            report.verified ? '✅ true' : '❌ false',
            cell(report.signer === undefined ? '' : describeSigner(report.signer)),
            cell(report.reason),
          ]),
          reports.length,
        ),
      );
    }
    if (blocking.length > 0) {
      parts.push(
        table(
          ['Id', 'Severity', 'Package', 'Installed', 'Fixed', 'Source'],
          blocking.map((finding) => [
            code(finding.id),
            finding.severity,
            cell(finding.package ?? ''),
            cell(finding.installedVersion ?? ''),
            cell(finding.fixedVersion ?? ''),
            cell(finding.source),
          ]),
          blocking.length,
        ),
      );
    }
  }

  if (input.packages.length > 0) {
    parts.push('### Packages');
    parts.push(
      table(
        ['Package', 'Versions', input.dryRun ? 'Would delete' : 'Deleted', 'Kept', 'Failed', 'Status'],
        input.packages.map((result) => [
          code(result.repository),
          String(result.versions),
          String(result.report?.summary.deleted ?? 0),
          String(result.report?.summary.kept ?? (result.validation === undefined ? 0 : result.versions)),
          String((result.report?.summary.failed ?? 0) + (result.report?.summary.skipped ?? 0)),
          statusOf(result),
        ]),
        input.packages.length,
        MAX_PACKAGE_ROWS,
      ),
    );
  }
  if (input.run !== undefined && input.problems === undefined) parts.push(runSection(input.run));
  const diagrams = diagramSection(input.packages);
  if (diagrams !== undefined) parts.push(diagrams);

  const { deleted, failed } = versionEntries(input.packages);
  if (deleted.length > 0) {
    parts.push(input.dryRun ? '### Would be deleted' : '### Deleted');
    const rows = input.packages.flatMap((result) =>
      (result.report?.deleted ?? []).map((entry) => decisionRow(result.package, entry)),
    );
    parts.push(table(['Package', 'Version', 'Digest', 'Tags', 'Kind', 'Why'], rows, rows.length));
  }
  if (failed.length > 0) {
    parts.push('### Failed');
    parts.push(
      table(
        ['Package', 'Version', 'Digest', 'Tags', 'Error'],
        failed.map((entry) => [
          cell(entry.package),
          String(entry.id),
          code(short(entry.digest)),
          tagList(entry.tags),
          cell(entry.error ?? ''),
        ]),
        failed.length,
      ),
    );
  }
  const broken = brokenEntries(input.packages);
  if (broken.length > 0) {
    parts.push('### Broken images');
    parts.push(
      table(
        ['Package', 'Problem', 'Digest', 'Version', 'Tags', 'Detail'],
        broken.map((entry) => [
          cell(entry.package),
          entry.problem,
          code(short(entry.digest)),
          entry.versionId === undefined ? '' : String(entry.versionId),
          tagList(entry.tags),
          cell(entry.detail),
        ]),
        broken.length,
      ),
    );
  }
  return `${parts.join('\n\n')}\n`;
}
