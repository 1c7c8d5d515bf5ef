import type { ClientEvents, ImageOperationResult } from '@ghcr/client';
import type { CommandContext } from './context.js';
import { formatBytes } from './format.js';
import { showProgress } from './progress.js';

/**
 * What a push, pull or copy moved, in `--json` output.
 * @public
 */
export interface TransferCounts {
  /** Blobs and manifests sent. */
  readonly transferred: number;
  /** Blobs mounted from another repository of the same registry (no bytes moved). */
  readonly mounted: number;
  /** Blobs and manifests the destination had already. */
  readonly skipped: number;
  /** Bytes sent (mounted and skipped content excluded). */
  readonly bytesTransferred: number;
}

/**
 * The counts of an image operation's result.
 * @internal
 */
export function transferCounts(result: ImageOperationResult): TransferCounts {
  return {
    transferred: result.transferred,
    mounted: result.mounted,
    skipped: result.skipped,
    bytesTransferred: result.bytesTransferred,
  };
}

/**
 * One sentence on what moved, for a note: `transferred 7 items (1.2 MiB), mounted 2, 1 already there`.
 * @internal
 */
export function describeCounts(counts: TransferCounts): string {
  const parts = [
    `transferred ${counts.transferred} item${counts.transferred === 1 ? '' : 's'} (${formatBytes(counts.bytesTransferred)})`,
  ];
  if (counts.mounted > 0) parts.push(`mounted ${counts.mounted}`);
  if (counts.skipped > 0) parts.push(`${counts.skipped} already there`);
  return parts.join(', ');
}

/**
 * Runs an image operation with progress bars (one per blob, on a terminal only) drawn from the
 * `operation`'s events of `events`, removed when it ends, whether it succeeded or not.
 * @internal
 */
export async function withProgress<T>(
  context: CommandContext,
  events: ClientEvents,
  operation: 'images.push' | 'images.pull' | 'images.copy',
  run: () => Promise<T>,
): Promise<T> {
  const display = showProgress(context, events, { operations: [operation] });
  try {
    return await run();
  } finally {
    display.stop();
  }
}
