// How "ours" is run: the CLI (`node packages/cli/dist/bin.cjs push|pull|copy`) when it has the
// command, else bench/ghcr-lib.mjs, which does the same through the library. GHCR_BENCH_IMPL=cli
// or =lib forces one.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setting } from './env.mjs';
import { run } from './process.mjs';

const CLI = fileURLToPath(new URL('../../packages/cli/dist/bin.cjs', import.meta.url));
const LIB = fileURLToPath(new URL('../ghcr-lib.mjs', import.meta.url));
const CLIENT_DIST = fileURLToPath(new URL('../../packages/client/dist/index.js', import.meta.url));
export const OPERATIONS = ['push', 'pull', 'copy'];

/** The CLI commands `ghcr --help` lists. */
async function cliCommands() {
  if (!existsSync(CLI)) return new Set();
  const help = await run(process.execPath, [CLI, '--help'], { allowFailure: true, measureRss: false });
  const commands = new Set();
  let inCommands = false;
  for (const line of help.stdout.split('\n')) {
    if (/^Commands:/.test(line)) inCommands = true;
    else if (inCommands && /^\S/.test(line)) inCommands = false;
    else if (inCommands) {
      const match = /^ {2}([a-z][\w-]*)\b/.exec(line);
      if (match !== null) commands.add(match[1]);
    }
  }
  return commands;
}

/**
 * Decides per operation: `{ push: 'cli' | 'lib', pull, copy, notes: string[] }`. Throws when
 * neither the CLI nor the client package is built.
 */
export async function chooseImplementation(forced = setting('GHCR_BENCH_IMPL')) {
  const commands = await cliCommands();
  const notes = [];
  const choice = {};
  for (const operation of OPERATIONS) {
    if (forced === 'lib') choice[operation] = 'lib';
    else if (forced === 'cli') {
      if (!commands.has(operation)) {
        throw new Error(
          `GHCR_BENCH_IMPL=cli but \`ghcr --help\` lists no "${operation}" command; build the CLI (pnpm build)`,
        );
      }
      choice[operation] = 'cli';
    } else choice[operation] = commands.has(operation) ? 'cli' : 'lib';
  }
  if (Object.values(choice).includes('lib') && !existsSync(CLIENT_DIST)) {
    throw new Error(`${CLIENT_DIST} is missing: run \`pnpm build\` first`);
  }
  for (const operation of OPERATIONS) {
    if (choice[operation] === 'lib' && forced !== 'lib') {
      notes.push(
        `the CLI has no \`${operation}\` command yet: timed bench/ghcr-lib.mjs (client.images.${operation}) instead`,
      );
    }
  }
  return { ...choice, notes };
}

/**
 * Whether the CLI is built (the commands that move no blobs, `tags` and `inspect`, are timed only
 * through it).
 */
export const cliBuilt = () => existsSync(CLI);

/** A CLI command the library stand-in does not have: `ghcr --quiet <args…>`. */
export function oursCli(...args) {
  return [process.execPath, [CLI, '--quiet', ...args]];
}

/** The command line of one operation: push <ref> <layout>, pull <ref> <dir>, copy <ref> <ref>. */
export function oursCommand(implementation, operation, first, second) {
  if (implementation[operation] === 'cli') {
    return [process.execPath, [CLI, '--quiet', operation, first, second]];
  }
  return [process.execPath, [LIB, operation, first, second]];
}
