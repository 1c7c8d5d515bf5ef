import { describe, expect, it } from 'vitest';
import { instantClock, runCli } from './testing/io.js';
import { cliVersion } from './version.js';

/** The one error line a failed run prints (without --debug). */
function errorLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] ?? '';
}

describe('help and version', () => {
  it('prints help on stdout with exit 0, naming every command of the contract and the exit codes', async () => {
    const outcome = await runCli(['--help']);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain('Usage: ghcr [options] [command]');
    for (const command of [
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
      'login',
      'logout',
      'serve',
    ]) {
      expect(outcome.stdout).toMatch(new RegExp(`\\n  ${command} `));
    }
    expect(outcome.stdout).toContain('Exit codes: 0 success, 1 the operation failed, 2 usage error, 3');
    expect(outcome.stdout).not.toContain('Not available yet');
    expect(outcome.stderr).toBe('');
  });

  it('prints the help of a subcommand group', async () => {
    for (const [argv, usage] of [
      [['index', 'create', '--help'], 'Usage: ghcr index create [options] <ref> <manifest-ref...>'],
      [['versions', 'delete', '--help'], 'Usage: ghcr versions delete [options] <package> <version>'],
    ] as const) {
      const outcome = await runCli(argv);
      expect(outcome.code).toBe(0);
      expect(outcome.stdout).toContain(usage);
    }
  });

  it('prints a command’s help', async () => {
    const outcome = await runCli(['inspect', '--help']);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain('Usage: ghcr inspect [options] <ref>');
    expect(outcome.stdout).toContain('--platform <os/arch[/variant]>');
  });

  it('prints the version', async () => {
    const outcome = await runCli(['--version']);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout.trim()).toBe(cliVersion());
  });

  it('without a command prints help on stderr and exits 2', async () => {
    const outcome = await runCli([]);
    expect(outcome.code).toBe(2);
    expect(outcome.stdout).toBe('');
    expect(outcome.stderr).toContain('Usage: ghcr [options] [command]');
  });
});

describe('usage errors exit 2 with one helpful line', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'an unknown command, with a suggestion',
      ['tagz'],
      /^error: GHCR_USAGE: unknown command 'tagz' \(Did you mean one of tag, tags\?\)\. Run "ghcr --help" for usage\.$/,
    ],
    [
      'a missing argument',
      ['tags'],
      /^error: GHCR_USAGE: missing required argument 'repository'\. Run "ghcr tags --help" for usage\.$/,
    ],
    [
      'an unknown option',
      ['tags', 'ghcr.io/a/b', '--bogus'],
      /^error: GHCR_USAGE: unknown option '--bogus'\. Run "ghcr tags --help" for usage\.$/,
    ],
    [
      'a bad --concurrency',
      ['--concurrency', '0', 'tags', 'ghcr.io/a/b'],
      /^error: GHCR_USAGE: option '--concurrency <n>' argument '0' is invalid\. expected a whole number from 1 to 64, got "0"\. Run "ghcr tags --help" for usage\.$/,
    ],
    [
      'an invalid reference',
      ['tags', 'ghcr.io/Octo/App'],
      /^error: GHCR_INVALID_REFERENCE: invalid reference "ghcr\.io\/Octo\/App": repository "Octo\/App" is invalid at "Octo".*See "ghcr tags --help"\.$/,
    ],
    [
      'an image where a repository is expected',
      ['tags', '127.0.0.1:5000/octo/app:1.0'],
      /^error: GHCR_USAGE: "127\.0\.0\.1:5000\/octo\/app:1\.0" names an image, not a repository; give the repository alone, e\.g\. 127\.0\.0\.1:5000\/octo\/app\. See "ghcr tags --help"\.$/,
    ],
    [
      'a bad tag',
      ['tag', 'ghcr.io/octo/app:1', 'ghcr.io/octo/app:2'],
      /^error: GHCR_USAGE: "ghcr\.io\/octo\/app:2" is not a valid tag \(give the tag alone, not a reference\)/,
    ],
    [
      'untag of a digest',
      ['untag', `ghcr.io/octo/app@sha256:${'a'.repeat(64)}`],
      /^error: GHCR_USAGE: untag takes a tag reference like ghcr\.io\/octo\/app:<tag>/,
    ],
    [
      'a bad platform',
      ['inspect', 'ghcr.io/octo/app', '--platform', 'linux'],
      /^error: GHCR_INVALID_PLATFORM: .*linux.*architecture/,
    ],
    [
      'a bad --api-url',
      ['--api-url', 'not a url', 'tags', 'ghcr.io/a/b'],
      /^error: GHCR_USAGE: --api-url "not a url" is not a URL/,
    ],
    [
      'a bad serve port',
      ['serve', '--port', '70000'],
      /^error: GHCR_USAGE: option '--port <port>' argument '70000' is invalid\. expected a port from 0 to 65535/,
    ],
    [
      'a bad serve profile',
      ['serve', '--profile', 'quay'],
      /^error: GHCR_USAGE: option '--profile <profile>' argument 'quay' is invalid\. Allowed choices are ghcr, distribution, dockerhub\./,
    ],
    [
      'a bad serve user',
      ['serve', '--user', '-x-'],
      /^error: GHCR_USAGE: --user "-x-" is not a GitHub login/,
    ],
    [
      'a registry that is not one',
      ['logout', 'not a host'],
      /^error: GHCR_USAGE: "not a host" is not a registry; give host\[:port\]/,
    ],
    [
      'login without a password source on a pipe',
      ['login', '127.0.0.1:1', '-u', 'octocat'],
      /^error: GHCR_USAGE: pass the password or token on stdin with --password-stdin/,
    ],
    [
      'login without a user name on a pipe',
      ['login', '127.0.0.1:1', '--password-stdin'],
      /^error: GHCR_USAGE: give the user name with -u/,
    ],
  ];
  for (const [name, argv, expected] of cases) {
    it(name, async () => {
      const outcome = await runCli(argv);
      expect(outcome.code).toBe(2);
      expect(outcome.stdout).toBe('');
      expect(errorLine(outcome.stderr)).toMatch(expected);
    });
  }

  it('reads GITHUB_API_URL and refuses a bad one', async () => {
    const outcome = await runCli(['tags', 'ghcr.io/a/b'], { env: { GITHUB_API_URL: 'ftp://example.com' } });
    expect(outcome.code).toBe(2);
    expect(errorLine(outcome.stderr)).toMatch(
      /^error: GHCR_USAGE: GITHUB_API_URL "ftp:\/\/example\.com" is not an http\(s\) URL/,
    );
  });

  it('refuses an empty password on stdin', async () => {
    const outcome = await runCli(['login', '127.0.0.1:1', '-u', 'octocat', '--password-stdin'], {
      stdin: '\n',
    });
    expect(outcome.code).toBe(2);
    expect(errorLine(outcome.stderr)).toMatch(/^error: GHCR_USAGE: stdin was empty/);
  });

  it('with --json prints the error as one JSON line on stderr and nothing on stdout', async () => {
    const outcome = await runCli(['tags', '--json']);
    expect(outcome.code).toBe(2);
    expect(outcome.stdout).toBe('');
    expect(JSON.parse(errorLine(outcome.stderr))).toEqual({
      error: {
        code: 'GHCR_USAGE',
        message: "missing required argument 'repository'",
        hint: 'Run "ghcr tags --help" for usage.',
        exitCode: 2,
      },
    });
  });

  it('accepts global options after the command', async () => {
    const outcome = await runCli(['tags', 'ghcr.io/Bad', '--json']);
    expect(outcome.code).toBe(2);
    expect(JSON.parse(outcome.stderr)).toMatchObject({
      error: { code: 'GHCR_INVALID_REFERENCE', exitCode: 2 },
    });
  });
});

describe('operation failures exit 1', () => {
  it('reports an unreachable registry in one line, after the transport’s retries', async () => {
    const outcome = await runCli(['tags', '127.0.0.1:1/octo/app'], { clock: instantClock() });
    expect(outcome.code).toBe(1);
    expect(outcome.stdout).toBe('');
    expect(errorLine(outcome.stderr)).toMatch(
      /^error: GHCR_CONNECTION_FAILED: GET "http:\/\/127\.0\.0\.1:1\/v2\/octo\/app\/tags\/list": connection failed: .*ECONNREFUSED.*; the registry never answered: check that it is running and the address \(and port\) is right$/,
    );
  });

  it('delete on ghcr.io explains the Packages API route without sending a request', async () => {
    const digest = `sha256:${'c'.repeat(64)}`;
    const outcome = await runCli(['--debug', 'delete', `ghcr.io/octo-org/app@${digest}`]);
    expect(outcome.code).toBe(1);
    const lines = outcome.stderr.trimEnd().split('\n');
    expect(lines.filter((line) => line.startsWith('debug: GET') || line.startsWith('debug: DELETE'))).toEqual(
      [],
    );
    expect(lines.find((line) => line.startsWith('error: '))).toBe(
      `error: UNSUPPORTED: cannot delete ghcr.io/octo-org/app@${digest}: ghcr.io has no registry delete; images are deleted as package versions through the GitHub Packages API. Run: ghcr versions delete octo-org/app ${digest}`,
    );
  });

  it('with --debug adds the request log and the cause chain', async () => {
    const outcome = await runCli(['--debug', 'tags', '127.0.0.1:1/octo/app'], { clock: instantClock() });
    expect(outcome.code).toBe(1);
    const lines = outcome.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('debug: credentials for 127.0.0.1:1: none found (anonymous)');
    const requests = lines.filter((line) => line.startsWith('debug: GET '));
    // The first attempt and the transport's three retries, each on the wire.
    expect(requests).toHaveLength(4);
    for (const line of requests) {
      expect(line).toMatch(
        /^debug: GET http:\/\/127\.0\.0\.1:1\/v2\/octo\/app\/tags\/list → failed GHCR_CONNECTION_FAILED \(\d+ ms\) tags\.list$/,
      );
    }
    expect(lines.some((line) => line.startsWith('error: GHCR_CONNECTION_FAILED: '))).toBe(true);
    expect(lines).toContain('debug: caused by: Error ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1');
  });
});
