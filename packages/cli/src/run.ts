import { definedProps } from '@ghcr/oci-types';
import { CommanderError } from 'commander';
import { COMMAND_NAMES } from './command-names.js';
import { CliRuntime } from './context.js';
import { causeChainLines, describeError, formatErrorLine } from './errors.js';
import { ExitCode } from './exit-codes.js';
import type { RunIo } from './io.js';
import { createProgram } from './program.js';

/** Commander's "help or version was printed" outcomes: not errors. */
const PRINTED_HELP = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

/**
 * Runs the `ghcr` command with `argv` (the arguments after `ghcr`) in this process and resolves
 * its exit code: 0 success, 1 the operation failed, 2 usage error, 3 the gate blocked or validate
 * found broken images. Nothing calls `process.exit`; everything goes through `io`.
 *
 * ```ts
 * const code = await run(['tags', '127.0.0.1:5000/octo-org/app', '--json'], {
 *   stdout, stderr, stdin, env: process.env, isTTY: false,
 * });
 * ```
 * @public
 */
export async function run(argv: readonly string[], io: RunIo): Promise<number> {
  const runtime = new CliRuntime(io);
  const program = createProgram(runtime, argv);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return runtime.exitCode ?? ExitCode.Success;
  } catch (error) {
    return report(runtime, COMMAND_NAMES, argv, error);
  } finally {
    await runtime.close();
  }
}

function report(
  runtime: CliRuntime,
  commandNames: readonly string[],
  argv: readonly string[],
  error: unknown,
): number {
  if (error instanceof CommanderError && PRINTED_HELP.has(error.code)) {
    // Help was printed (to stderr with exit 1 when no command was given: that is a usage error).
    return error.exitCode === 0 ? ExitCode.Success : ExitCode.Usage;
  }
  const command = runtime.commandName ?? argv.find((argument) => commandNames.includes(argument));
  const described = describeError(error, {
    secrets: runtime.secrets,
    ...definedProps({ command }),
  });
  // Flags come from the resolved options, or from argv when parsing failed before a command ran.
  const json = runtime.options?.json ?? argv.includes('--json');
  const debug = runtime.options?.debug ?? argv.includes('--debug');
  const stderr = runtime.io.stderr;
  if (json) {
    stderr.write(`${JSON.stringify({ error: described })}\n`);
  } else {
    stderr.write(`${formatErrorLine(described)}\n`);
  }
  if (debug) for (const line of causeChainLines(error, runtime.secrets)) stderr.write(`${line}\n`);
  return described.exitCode;
}
