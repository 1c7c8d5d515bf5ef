/**
 * The names of `ghcr`'s commands, for code that runs before the program is loaded: the executable
 * keeps a code cache per command (bin.ts). A test checks them against `COMMANDS`
 * (commands/all.ts).
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
