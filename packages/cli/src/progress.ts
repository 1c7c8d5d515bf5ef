import type { ClientEvents, ProgressEvent } from '@ghcr/client';
import cliProgress from 'cli-progress';
import type { CommandContext } from './context.js';
import { formatBytes } from './format.js';

/**
 * Progress bars of one operation; `stop()` removes them (call it when the operation ends, whether
 * it succeeded or not).
 * @internal
 */
export interface ProgressDisplay {
  /** True when bars are drawn (a terminal, without `--quiet` or `--json`). */
  readonly active: boolean;
  stop(): void;
}

interface BlobBar {
  readonly bar: cliProgress.SingleBar;
  readonly startedAt: number;
}

/**
 * True when progress bars are for this run: stdout is a terminal, the bars' stream (stderr) is one
 * too, and neither `--quiet` nor `--json` was given.
 * @internal
 */
export function wantsProgress(context: CommandContext): boolean {
  const stream = context.io.stderr as { isTTY?: boolean };
  return context.io.isTTY && stream.isTTY === true && !context.options.quiet && !context.options.json;
}

/**
 * Options of {@link showProgress}.
 * @internal
 */
export interface ShowProgressOptions {
  /**
   * Only events of these operations (`images.push`): an image operation reports each blob as an
   * item of the image and the blob capability reports it again, so push, pull and copy pick the
   * image operation's events to draw one bar per blob. If omitted, every event.
   */
  readonly operations?: readonly string[];
}

const OPERATION_LABELS: Readonly<Record<string, string>> = {
  'blobs.upload': 'push',
  'blobs.get': 'pull',
  'images.push': 'push',
  'images.pull': 'pull',
  'images.copy': 'copy',
};

/**
 * Draws one bar per blob (bytes done of its size, rate) from a client's `progress` events, on
 * stderr, for push, pull and copy. A no-op display when {@link wantsProgress} says no.
 * @internal
 */
export function showProgress(
  context: CommandContext,
  events: ClientEvents,
  options: ShowProgressOptions = {},
): ProgressDisplay {
  if (!wantsProgress(context)) return { active: false, stop() {} };
  const operations = options.operations === undefined ? undefined : new Set(options.operations);
  const clock = context.clock;
  const multibar = new cliProgress.MultiBar(
    {
      stream: context.io.stderr,
      format: ' {label} [{bar}] {percentage}% | {done}/{size} | {rate}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      autopadding: true,
      barsize: 24,
      gracefulExit: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, BlobBar>();
  const payloadOf = (event: ProgressEvent, startedAt: number) => {
    const seconds = Math.max((clock.now() - startedAt) / 1000, 0.001);
    return {
      // A docker-archive's layer being read (compressed, sent) is named by its diff_id.
      label: `${event.source === 'archive-layer' ? 'layer' : (OPERATION_LABELS[event.operation] ?? event.operation)} ${event.digest.slice(7, 19)}`,
      done: formatBytes(event.bytesDone),
      size: event.bytesTotal === undefined ? '?' : formatBytes(event.bytesTotal),
      rate: `${formatBytes(Math.round(event.bytesDone / seconds))}/s`,
    };
  };
  const onProgress = (event: ProgressEvent): void => {
    if (operations !== undefined && !operations.has(event.operation)) return;
    const key = `${event.operation} ${event.source ?? 'blob'} ${event.digest}`;
    const total = Math.max(event.bytesTotal ?? event.bytesDone, 1);
    const existing = bars.get(key);
    if (existing === undefined) {
      const startedAt = clock.now();
      const bar = multibar.create(total, event.bytesDone, payloadOf(event, startedAt));
      bars.set(key, { bar, startedAt });
      return;
    }
    existing.bar.setTotal(total);
    existing.bar.update(event.bytesDone, payloadOf(event, existing.startedAt));
  };
  const unsubscribe = events.on('progress', onProgress);
  return {
    active: true,
    stop() {
      unsubscribe();
      multibar.stop();
    },
  };
}
