import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InspectResult } from './commands/inspect.js';
import type { ServeResult } from './commands/serve.js';
import { ghcr, requireBuiltCli, type ServeProcess, startServe } from './testing/spawn.js';

// End to end: the built `ghcr` executable, as separate processes talking over real sockets to a
// `ghcr serve` process.

let directory: string;
let serve: ServeProcess;
let served: ServeResult;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  requireBuiltCli();
  directory = await mkdtemp(join(tmpdir(), 'ghcr-cli-e2e-'));
  env = { HOME: directory, DOCKER_CONFIG: join(directory, 'docker'), PATH: process.env.PATH };
  serve = await startServe(['--port', '0', '--json', '--seed', 'demo'], {
    HOME: directory,
    PATH: process.env.PATH,
  });
  served = JSON.parse(serve.firstLine) as ServeResult;
});

afterAll(async () => {
  if (serve !== undefined && serve.child.exitCode === null) await serve.stop('SIGKILL');
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

describe('ghcr serve as a process', () => {
  it('prints one JSON line: URL, registry, API URL, token, user, seed', () => {
    expect(served).toMatchObject({
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      registry: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      profile: 'ghcr',
      token: expect.stringMatching(/^ghp_\w+$/),
      user: 'octocat',
      seed: 'demo',
      pid: serve.child.pid,
    });
    expect(served.apiUrl).toBe(`${served.url}/api`);
  });

  it('login with the served token writes config.json', async () => {
    const outcome = await ghcr(['login', served.registry, '-u', served.user, '--password-stdin'], {
      env,
      stdin: `${served.token}\n`,
    });
    expect(outcome).toMatchObject({ code: 0 });
    expect(outcome.stdout).toBe(
      `logged in to ${served.registry} as octocat (stored in ${join(directory, 'docker', 'config.json')})\n`,
    );
    const config = JSON.parse(await readFile(join(directory, 'docker', 'config.json'), 'utf8')) as {
      auths: Record<string, { auth: string }>;
    };
    expect(Buffer.from(config.auths[served.registry]?.auth ?? '', 'base64').toString()).toBe(
      `octocat:${served.token}`,
    );
  });

  it('tags lists the demo repository', async () => {
    const outcome = await ghcr(['tags', `${served.registry}/octo-org/app`], { env });
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toBe('');
    const tags = outcome.stdout.trimEnd().split('\n');
    expect(tags).toEqual(expect.arrayContaining(['1.0.0', '1.1.0', 'latest', 'dev']));
  });

  it('inspect --json describes the multi-arch index; --raw gives its exact bytes', async () => {
    const outcome = await ghcr(['inspect', `${served.registry}/octo-org/app:latest`, '--json'], { env });
    expect(outcome.code).toBe(0);
    const result = JSON.parse(outcome.stdout) as InspectResult;
    expect(result).toMatchObject({ kind: 'oci-index', platforms: ['linux/amd64', 'linux/arm64/v8'] });
    const raw = await ghcr(['inspect', `${served.registry}/octo-org/app:latest`, '--raw'], { env });
    expect(`sha256:${createHash('sha256').update(raw.stdout).digest('hex')}`).toBe(result.digest);
    const arm = await ghcr(
      ['inspect', `${served.registry}/octo-org/app:latest`, '--platform', 'linux/arm64', '--json'],
      {
        env,
      },
    );
    expect(JSON.parse(arm.stdout)).toMatchObject({
      kind: 'oci-manifest',
      index: { digest: result.digest },
      config: { platform: 'linux/arm64/v8' },
    });
  });

  it('tag then untag, seen by tags', async () => {
    const tagged = await ghcr(['tag', `${served.registry}/octo-org/app:1.0.0`, 'e2e-a', 'e2e-b', '--json'], {
      env,
    });
    expect(tagged.code).toBe(0);
    const digest = (JSON.parse(tagged.stdout) as { digest: string }).digest;
    const inspect = await ghcr(['inspect', `${served.registry}/octo-org/app:e2e-b`, '--json'], { env });
    expect((JSON.parse(inspect.stdout) as InspectResult).digest).toBe(digest);

    const untagged = await ghcr(['untag', `${served.registry}/octo-org/app:e2e-a`, '--json'], { env });
    expect(untagged.code).toBe(0);
    expect(JSON.parse(untagged.stdout)).toMatchObject({
      tag: 'e2e-a',
      method: 'placeholder',
      previousDigest: digest,
    });
    const after = await ghcr(['inspect', `${served.registry}/octo-org/app:e2e-a`, '--json'], { env });
    expect((JSON.parse(after.stdout) as InspectResult).digest).not.toBe(digest);
  });

  it('a usage error exits 2 and an operation error exits 1, each with one line on stderr', async () => {
    const usage = await ghcr(['untag', `${served.registry}/octo-org/app`], { env });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^error: GHCR_USAGE: untag takes a tag reference like .*\n$/);
    const failed = await ghcr(['inspect', `${served.registry}/octo-org/app:missing`], { env });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toMatch(/^error: MANIFEST_UNKNOWN: [^\n]*\n$/);
  });

  it('stops cleanly on SIGTERM with exit 0', async () => {
    const ended = await serve.stop('SIGTERM');
    expect(ended).toMatchObject({ code: 0, signal: null });
    expect(ended.stderr).toBe('');
  });
});
