import { Command } from 'commander';
import { COMMAND_NAMES } from './command-names.js';
import { COMMANDS } from './commands/all.js';
import type { CliRuntime } from './context.js';
import { parseConcurrency } from './global-options.js';
import { cliVersion } from './version.js';

const FOOTER = `
References are [registry/]repository[:tag][@digest]; the registry defaults to ghcr.io.
Plain HTTP is automatic for localhost, 127.0.0.1 and [::1].
Credentials, first found wins: --creds / --username (copy: --src-creds, --dest-creds), then
GHCR_TOKEN / GITHUB_TOKEN / GH_TOKEN (ghcr.io only), DOCKER_AUTH_CONFIG, Docker's config.json and
credential helpers ("ghcr login"), podman's auth.json (REGISTRY_AUTH_FILE), the GitHub CLI.
Docker Hub is docker.io (served from registry-1.docker.io; "alpine" is "library/alpine").

Exit codes: 0 success, 1 the operation failed, 2 usage error, 3 the gate blocked, validate found
broken images, or sync stopped at a rate limit.

Packages API commands (versions, cleanup) use --api-url; a package is [registry/]owner/package,
its registry by default the API's (ghcr.io for api.github.com).`;

/**
 * Builds the commander program of one run: global options, the commands of `src/commands/`,
 * output through the run's streams, and errors thrown (not `process.exit`) so `run()` decides the
 * exit code.
 *
 * Given the run's `argv`, only the command it invokes is added when it names one
 * ({@link invokedCommand}): commander needs no other to parse it, and defining all twenty, with
 * their options and help, took 7-11 ms of every command's start, one 2-3 ms (docs/benchmarks.md,
 * "Issue 18, sixteenth round"). Otherwise (no `argv`, help, `--version`, a name mistyped) every command is
 * added, for the help and the suggestions.
 * @internal
 */
export function createProgram(runtime: CliRuntime, argv?: readonly string[]): Command {
  const io = runtime.io;
  const program = new Command('ghcr');
  program
    .description('GitHub Container Registry and any OCI registry from the command line')
    .version(cliVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--json', 'print one JSON document per command (shapes in the README)')
    .option('--plain-http', 'speak plain HTTP to the registry (automatic for localhost, 127.0.0.1, [::1])')
    .option(
      '--api-url <url>',
      'GitHub REST API base URL (default: $GITHUB_API_URL, else https://api.github.com)',
    )
    .option(
      '--creds <user[:password]>',
      "credentials for the command's registry, ahead of every other source",
    )
    .option(
      '-u, --username <user>',
      "the user name for the command's registry (and for login); the password from --password-stdin",
    )
    .option('--password-stdin', 'read the password or token of --creds / --username (and login) from stdin')
    .option('--concurrency <n>', 'parallel requests of one operation (default: 4)', parseConcurrency)
    .option('--debug', 'print every HTTP request (secrets redacted) and, on failure, the cause chain')
    .option('-q, --quiet', 'print results and errors only: no notes, no progress bars')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // run() prints errors itself, in one format.
      outputError: () => {},
    })
    .showSuggestionAfterError(true)
    .addHelpText('after', FOOTER);
  program.hook('preAction', (_program, action) => {
    runtime.commandName = action.name();
  });
  const invoked = argv === undefined ? undefined : invokedCommand(program, argv);
  for (const { names, register } of COMMANDS) {
    if (invoked === undefined || names.includes(invoked)) register(program, runtime);
  }
  return program;
}

/**
 * The command `argv` invokes, if it is one of `ghcr`'s: its first operand, after the global
 * options of `program` (and the value of each that takes one: `--api-url URL`, `--api-url=URL`,
 * `-u alice`, `-ualice`, `-qu alice`). `undefined` when the first operand is no command (`help`, a
 * name mistyped), or there is none before `--` or the end (`--help`, `--version`).
 * @internal
 */
export function invokedCommand(program: Command, argv: readonly string[]): string | undefined {
  const takesValue = (flag: string): boolean =>
    program.options.some(
      (option) => (option.long === flag || option.short === flag) && (option.required || option.optional),
    );
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] ?? '';
    if (argument === '--') return undefined;
    if (argument.startsWith('--')) {
      if (!argument.includes('=') && takesValue(argument)) index++;
      continue;
    }
    if (argument.startsWith('-') && argument.length > 1) {
      // Short flags, perhaps several in one (`-qu`); the first that takes a value takes the rest
      // of the argument, or the next one.
      for (let at = 1; at < argument.length; at++) {
        if (!takesValue(`-${argument[at]}`)) continue;
        if (at === argument.length - 1) index++;
        break;
      }
      continue;
    }
    return COMMAND_NAMES.includes(argument) ? argument : undefined;
  }
  return undefined;
}
