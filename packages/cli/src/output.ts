import type { RunIo } from './io.js';

/**
 * How a command prints. Results go to stdout (text lines, or one JSON document with `--json`);
 * notes, warnings and `--debug` lines go to stderr, so a pipe gets nothing but results.
 * @public
 */
export interface Output {
  /** True with `--json`. */
  readonly json: boolean;
  /** True when notes are printed (not `--quiet`, not `--json`). */
  readonly verbose: boolean;
  /**
   * Prints the command's result: `document` as one line of JSON with `--json`, else the text lines.
   * Call it once per command.
   */
  emit(document: unknown, text: () => readonly string[]): void;
  /** Writes bytes to stdout as they are (`inspect --raw`). */
  raw(bytes: Uint8Array): void;
  /** A note for people, on stderr; not printed with `--quiet` or `--json`. */
  note(text: string): void;
  /** A warning on stderr; not printed with `--quiet`. */
  warn(text: string): void;
  /** A `--debug` line on stderr (the caller has redacted it). */
  debug(text: string): void;
}

/**
 * Creates the output of one run.
 * @internal
 */
export function createOutput(
  io: RunIo,
  flags: { readonly json: boolean; readonly quiet: boolean; readonly debug: boolean },
): Output {
  const verbose = !flags.json && !flags.quiet;
  return {
    json: flags.json,
    verbose,
    emit(document, text) {
      if (flags.json) {
        io.stdout.write(`${JSON.stringify(document)}\n`);
        return;
      }
      const lines = text();
      if (lines.length > 0) io.stdout.write(`${lines.join('\n')}\n`);
    },
    raw(bytes) {
      io.stdout.write(bytes);
    },
    note(text) {
      if (verbose) io.stderr.write(`${text}\n`);
    },
    warn(text) {
      if (!flags.quiet) io.stderr.write(`warning: ${text}\n`);
    },
    debug(text) {
      if (flags.debug) io.stderr.write(`debug: ${text}\n`);
    },
  };
}
