import type { Command } from 'commander';
import type { CliRuntime, CommandContext } from './context.js';

/**
 * Adds one command to the program. Each command lives in its own file in `src/commands/`.
 * @internal
 */
export type CommandRegistrar = (program: Command, runtime: CliRuntime) => void;

/**
 * The context of the running command, from its options and its parents' (the global options).
 * @internal
 */
export function contextOf(runtime: CliRuntime, command: Command): CommandContext {
  return runtime.context(command.optsWithGlobals());
}
