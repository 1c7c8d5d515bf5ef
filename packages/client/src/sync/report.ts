import type { SyncItem, SyncReport } from './sync.js';

const TITLES: Readonly<Record<SyncItem['action'], string>> = {
  copied: 'copied',
  'would-copy': 'would copy',
  'in-sync': 'in sync',
  deferred: 'deferred (rate limit)',
  failed: 'failed',
};

/**
 * One line per tag, for a terminal or a dry run's plan:
 * `copy docker.io/library/alpine:3.20 → ghcr.io/octo/alpine:3.20 (digest differs)`.
 * @public
 */
export function formatSyncItem(item: SyncItem): string {
  const verb =
    item.action === 'copied'
      ? 'copied'
      : item.action === 'would-copy'
        ? 'copy'
        : item.action === 'in-sync'
          ? 'skip'
          : item.action === 'deferred'
            ? 'defer'
            : 'FAIL';
  const error = item.error === undefined ? '' : `: ${item.error.message}`;
  return `${verb} ${item.source} → ${item.target} (${item.reason}${error})`;
}

/** `|` and newlines would break a markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/**
 * A markdown summary of a sync (a GitHub Actions job summary): the outcome, counts, then every
 * tag that moved, was deferred or failed; tags already in sync are counted, not listed.
 * @public
 */
export function syncReportMarkdown(report: SyncReport): string {
  const headline =
    report.status === 'in-sync'
      ? report.dryRun
        ? 'Sync plan'
        : 'Mirrors in sync'
      : report.status === 'failed'
        ? 'Sync failed'
        : 'Sync incomplete: rate limit reached';
  const lines = [`### ${headline}`, ''];
  const counts = (Object.keys(TITLES) as SyncItem['action'][])
    .filter((action) => report.counts[action] > 0)
    .map((action) => `${report.counts[action]} ${TITLES[action]}`);
  lines.push(counts.length === 0 ? 'No tags selected.' : counts.join(', '), '');
  const listed = report.items.filter((item) => item.action !== 'in-sync');
  if (listed.length > 0) {
    lines.push('| | Source | Target | Digest | Why |', '|---|---|---|---|---|');
    for (const item of listed) {
      const why = item.error === undefined ? item.reason : `${item.reason}: ${item.error.message}`;
      lines.push(
        `| ${TITLES[item.action]} | \`${cell(item.source)}\` | \`${cell(item.target)}\` | ${item.sourceDigest === undefined ? '' : `\`${item.sourceDigest.slice(0, 19)}…\``} | ${cell(why)} |`,
      );
    }
    lines.push('');
  }
  if (report.resumeAfter !== undefined) {
    lines.push(
      `Run again after ${new Date(report.resumeAfter).toISOString()}: the deferred tags are picked up then.`,
      '',
    );
  }
  for (const note of report.notes) lines.push(`- ${cell(note)}`);
  return `${lines.join('\n').trimEnd()}\n`;
}
