import { readFile } from 'node:fs/promises';
import { InvalidInputError } from '@ghcr/oci-types';
import { parseSyncConfig } from './config.js';
import { syncReportMarkdown } from './report.js';
import type { SyncOptions, SyncReport } from './sync.js';

/**
 * What `syncFromFile` gives back: the report, and its markdown summary (for a job summary).
 * @public
 */
export interface SyncFileResult {
  readonly report: SyncReport;
  readonly markdown: string;
  /** 0 in sync, 1 failures, 3 incomplete because of a rate limit (the CLI's exit codes). */
  readonly exitCode: 0 | 1 | 3;
}

/**
 * Reads a sync config file (YAML or JSON), runs it on `client` and summarises it.
 *
 * ```ts
 * const { report, markdown, exitCode } = await syncFromFile(client, '.github/mirrors.yml');
 * ```
 * @throws SyncConfigError when the file does not validate (naming the line and the field);
 *   InvalidInputError when it cannot be read.
 * @public
 */
export async function syncFromFile(
  client: { sync(config: ReturnType<typeof parseSyncConfig>, options?: SyncOptions): Promise<SyncReport> },
  path: string,
  options: SyncOptions = {},
): Promise<SyncFileResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InvalidInputError(`cannot read the sync config ${path}: ${(error as Error).message}`, {
      input: path,
      cause: error,
    });
  }
  const report = await client.sync(parseSyncConfig(text, path), options);
  return { report, markdown: syncReportMarkdown(report), exitCode: syncExitCode(report) };
}

/**
 * The exit code of a sync: 0 in sync (or a dry run's plan), 1 failures, 3 incomplete because a
 * rate limit was reached.
 * @public
 */
export function syncExitCode(report: SyncReport): 0 | 1 | 3 {
  return report.status === 'failed' ? 1 : report.status === 'rate-limited' ? 3 : 0;
}
