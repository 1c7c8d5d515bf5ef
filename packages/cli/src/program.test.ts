import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES, cacheCommandOf } from './command-names.js';
import { COMMANDS } from './commands/all.js';
import { CliRuntime } from './context.js';
import { createProgram, invokedCommand } from './program.js';
import { runCli, testIo } from './testing/io.js';

const ALL = COMMANDS.flatMap(({ names }) => names);

function program(argv?: readonly string[]) {
  return createProgram(new CliRuntime(testIo().io), argv);
}

describe('createProgram', () => {
  it('names each command as its registrar adds it', () => {
    for (const { names, register } of COMMANDS) {
      const alone = new Command('ghcr');
      register(alone, new CliRuntime(testIo().io));
      expect(alone.commands.map((command) => command.name())).toEqual(names);
    }
  });

  it('adds only the command argv invokes, and every command when it invokes none', () => {
    expect(program(['tags', 'ghcr.io/octo-org/app']).commands.map((command) => command.name())).toEqual([
      'tags',
    ]);
    expect(program(['--json', 'copy', 'a', 'b']).commands.map((command) => command.name())).toEqual(['copy']);
    // One registrar adds two commands: both come with either.
    expect(program(['attestations', 'x']).commands.map((command) => command.name())).toEqual([
      'verify',
      'attestations',
    ]);
    for (const argv of [
      undefined,
      [],
      ['--help'],
      ['--version'],
      ['help', 'tags'],
      ['tagz'],
      ['--', 'tags'],
    ]) {
      expect(program(argv).commands.map((command) => command.name())).toEqual(ALL);
    }
  });
});

describe('invokedCommand', () => {
  const globals = program([]);
  it('finds the first operand after the global options and their values', () => {
    expect(invokedCommand(globals, ['tags', 'x'])).toBe('tags');
    expect(invokedCommand(globals, ['--json', '--plain-http', 'inspect', 'x'])).toBe('inspect');
    // A value of a global option is not the command, whatever it says.
    expect(invokedCommand(globals, ['--api-url', 'tags', 'push', 'x', 'y'])).toBe('push');
    expect(invokedCommand(globals, ['--api-url=https://ghe.example/api/v3', 'versions', 'list'])).toBe(
      'versions',
    );
    expect(invokedCommand(globals, ['--concurrency', '8', 'copy', 'a', 'b'])).toBe('copy');
    expect(invokedCommand(globals, ['-u', 'tags', 'login'])).toBe('login');
    expect(invokedCommand(globals, ['-utags', 'login'])).toBe('login');
    expect(invokedCommand(globals, ['-qu', 'tags', 'login'])).toBe('login');
    expect(invokedCommand(globals, ['-q', 'pull', 'a', 'b'])).toBe('pull');
  });

  it('finds none where the first operand is no command, or there is none', () => {
    expect(invokedCommand(globals, [])).toBeUndefined();
    expect(invokedCommand(globals, ['--help'])).toBeUndefined();
    expect(invokedCommand(globals, ['help', 'tags'])).toBeUndefined();
    expect(invokedCommand(globals, ['tagz', 'x'])).toBeUndefined();
    expect(invokedCommand(globals, ['--', 'tags'])).toBeUndefined();
    expect(invokedCommand(globals, ['--api-url', 'tags'])).toBeUndefined();
  });
});

describe('a run with one command added', () => {
  it('still reports what the full program would: usage errors of the command, of global options, and help', async () => {
    const missing = await runCli(['tags']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing required argument 'repository'/);
    const unknownOption = await runCli(['tags', 'x', '--no-such-flag']);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toMatch(/unknown option '--no-such-flag'/);
    const help = await runCli(['tags', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: ghcr tags [options] <repository>');
    const badConcurrency = await runCli(['--concurrency', '0', 'tags', 'x']);
    expect(badConcurrency.code).toBe(2);
    expect(badConcurrency.stderr).toMatch(/--concurrency/);
  });
});

describe('COMMAND_NAMES', () => {
  it('are the names the commands are added by, and a command in argv keys its code cache', () => {
    expect([...COMMAND_NAMES].sort()).toEqual([...ALL].sort());
    expect(cacheCommandOf(['--json', 'tags', 'x'])).toBe('tags');
    expect(cacheCommandOf(['--version'])).toBeUndefined();
  });
});
