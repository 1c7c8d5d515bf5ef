import { readFile } from 'node:fs/promises';
import type { SyncConfig, SyncReport } from '@ghcr/client';
import { definedProps, parseReference } from '@ghcr/oci-types';
import cliProgress from 'cli-progress';
import { type Command, Option } from 'commander';
import { type CommandRegistrar, contextOf } from '../command.js';
import { usageError } from '../errors.js';
import { wantsProgress } from '../progress.js';

interface SyncCommandOptions {
  readonly dryRun?: boolean;
  readonly onLimit?: 'stop' | 'wait';
  readonly floor?: string;
}

/** The config with the command line's rate-limit choices over the file's. */
function withOverrides(config: SyncConfig, options: SyncCommandOptions): SyncConfig {
  let floor = config.rateLimit.floor;
  if (options.floor !== undefined) {
    if (!/^\d+$/.test(options.floor))
      throw usageError(`--floor must be a whole number of pulls, not "${options.floor}"`);
    floor = Number(options.floor);
  }
  return {
    ...config,
    rateLimit: {
      ...config.rateLimit,
      floor,
      ...definedProps({ onLimit: options.onLimit }),
    },
  };
}

function summary(report: SyncReport): string {
  const { counts } = report;
  const parts = report.dryRun
    ? [`${counts['would-copy']} to copy`, `${counts['in-sync']} in sync`]
    : [`${counts.copied} copied`, `${counts['in-sync']} in sync`];
  if (counts.deferred > 0) parts.push(`${counts.deferred} deferred by a rate limit`);
  if (counts.failed > 0) parts.push(`${counts.failed} failed`);
  return parts.join(', ');
}

/**
 * `ghcr sync <config.yml>`: keeps mirrors of other registries' images in step (HEAD both sides,
 * copy only what differs), within the sources' pull quotas. Exit 0 in sync, 1 failures, 3
 * incomplete because a rate limit was reached (run again later: it resumes).
 * @internal
 */
export const registerSyncCommand: CommandRegistrar = (program, runtime) => {
  program
    .command('sync')
    .description(
      'keep mirrors in step from a config of { source, target } pairs (exit 3: stopped at a rate limit)',
    )
    .argument('<config>', 'the sync config, YAML or JSON')
    .option('--dry-run', 'print the plan (what would be copied, what skipped, and why); copy nothing')
    .addOption(
      new Option(
        '--on-limit <what>',
        "at a source's rate-limit floor: stop (resume later, exit 3) or wait for the window",
      ).choices(['stop', 'wait']),
    )
    .option(
      '--floor <pulls>',
      "stop pulling from a source when it reports this many pulls left (overrides the config's)",
    )
    .action(async (path: string, _options: unknown, command: Command) => {
      const context = contextOf(runtime, command);
      const options = command.opts<SyncCommandOptions>();
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        throw usageError(`cannot read the sync config ${path}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      // Sync's parsers (YAML, semver ranges) load with the client's sync, not at every command's start.
      const { formatSyncItem, parseSyncConfig, syncExitCode } = await import('@ghcr/client');
      const config = withOverrides(parseSyncConfig(text, path), options);
      const first = config.pairs[0];
      // One client reaches every registry; each gets its own credentials from the chain.
      const client = context.client(parseReference(first?.target ?? 'ghcr.io/x').registry);
      const drawing = wantsProgress(context);
      const bar = drawing
        ? new cliProgress.SingleBar(
            {
              stream: context.io.stderr,
              format: ' sync [{bar}] {value}/{total} tags | {last}',
              hideCursor: true,
              gracefulExit: false,
            },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      bar?.start(0, 0, { last: '' });
      let report: SyncReport;
      try {
        report = await client.sync(config, {
          ...(options.dryRun === true ? { dryRun: true } : {}),
          onProgress: ({ done, total, item }) => {
            bar?.setTotal(total);
            bar?.update(done, { last: item.target });
          },
          onWait: ({ host, ms, state }) =>
            context.output.note(
              `${host}: ${state.remaining} pulls left (floor ${config.rateLimit.floor}); waiting ${Math.round(ms / 1000)} s for the quota's window`,
            ),
        });
      } finally {
        bar?.stop();
      }
      context.output.emit(report, () => {
        const shown = report.dryRun ? report.items : report.items.filter((item) => item.action !== 'in-sync');
        return [...shown.map(formatSyncItem), summary(report)];
      });
      for (const note of report.notes) context.output.note(note);
      if (report.status === 'rate-limited') {
        const when =
          report.resumeAfter === undefined ? 'later' : `after ${new Date(report.resumeAfter).toISOString()}`;
        context.output.warn(`stopped at a rate limit: run again ${when} to copy the deferred tags`);
      }
      const code = syncExitCode(report);
      if (code !== 0) context.setExitCode(code);
    });
};
