import type { Clock } from '@ghcr/oci-types';

/**
 * What a run of the `ghcr` command reads from and writes to. `start.ts` passes the process's own
 * streams; tests pass in-memory ones and run commands in-process.
 */

/**
 * The streams, environment and terminal facts a run uses.
 * @public
 */
export interface RunIo {
  /** Results: text lines, or one JSON document with `--json`. */
  readonly stdout: NodeJS.WritableStream;
  /** Errors, notes, `--debug` output and progress bars. */
  readonly stderr: NodeJS.WritableStream;
  /** Read by `login --password-stdin` (and the password prompt on a terminal). */
  readonly stdin: NodeJS.ReadableStream;
  /** The environment (`GITHUB_API_URL`, `DOCKER_CONFIG`, `HOME`, `PATH`, `GHCR_TOKEN`, …). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** True when stdout is a terminal: progress bars and notes are for people, not pipes. */
  readonly isTTY: boolean;
  /** True when stdin is a terminal (`login` may then prompt). If omitted, false. */
  readonly stdinIsTTY?: boolean;
  /**
   * Ends long-running commands (`serve`) cleanly when aborted. If omitted, `serve` stops on the
   * process's SIGINT or SIGTERM.
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * Time for retry backoff and rate-limit waits, request durations, progress rates and helper
   * timeouts. If omitted, the system clock.
   */
  readonly clock?: Clock;
}
