/**
 * The names of `ghcr`'s commands: which argument names the command a run invokes (program.ts,
 * run.ts), and, before the program is loaded, which code cache the executable keeps (bin.ts). A
 * test checks them against what `COMMANDS` (commands/all.ts) adds.
 * @internal
 */
export const COMMAND_NAMES: readonly string[] = [
  'push',
  'pull',
  'copy',
  'sync',
  'inspect',
  'tags',
  'tag',
  'untag',
  'delete',
  'index',
  'referrers',
  'attach',
  'versions',
  'cleanup',
  'gate',
  'verify',
  'attestations',
  'sign',
  'login',
  'logout',
  'serve',
];

/** The first argument of `argv` that names a command, if any: the key of its code cache. @internal */
export function cacheCommandOf(argv: readonly string[]): string | undefined {
  return argv.find((argument) => COMMAND_NAMES.includes(argument));
}
