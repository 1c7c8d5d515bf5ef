import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeResult } from './commands/serve.js';
import { installTestCredentialHelper, readHelperStore } from './testing/credential-helper.js';
import { ghcr, requireBuiltCli, type ServeProcess, startServe } from './testing/spawn.js';

// `ghcr login` / `logout` as processes, with a temporary DOCKER_CONFIG and a real
// `docker-credential-test` helper on a temporary PATH, against a `ghcr serve` process.

let directory: string;
let serve: ServeProcess;
let served: ServeResult;

beforeAll(async () => {
  requireBuiltCli();
  directory = await mkdtemp(join(tmpdir(), 'ghcr-cli-login-'));
  serve = await startServe(
    ['--port', '0', '--json', '--seed', 'demo', '--token', 'ghp_e2eloginhelpertoken000000000000000'],
    {
      HOME: directory,
      PATH: process.env.PATH,
    },
  );
  served = JSON.parse(serve.firstLine) as ServeResult;
});

afterAll(async () => {
  if (serve !== undefined && serve.child.exitCode === null) await serve.stop();
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

describe('ghcr login / logout through a credential helper', () => {
  it('stores through docker-credential-test, reads back through it, erases on logout', async () => {
    const helper = await installTestCredentialHelper(directory);
    const dockerConfig = join(directory, 'docker');
    await mkdir(dockerConfig, { recursive: true });
    await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ credsStore: 'test' }));
    const env = {
      HOME: directory,
      DOCKER_CONFIG: dockerConfig,
      PATH: `${helper.bin}:${process.env.PATH}`,
      TEST_HELPER_STORE: helper.store,
    };

    const login = await ghcr(['login', served.registry, '-u', 'octocat', '--password-stdin', '--json'], {
      env,
      stdin: served.token,
    });
    expect(login.code).toBe(0);
    expect(JSON.parse(login.stdout)).toEqual({
      registry: served.registry,
      username: 'octocat',
      configPath: join(dockerConfig, 'config.json'),
      helper: 'test',
      verified: true,
    });
    expect(await readHelperStore(helper.store)).toEqual({
      [served.registry]: { Username: 'octocat', Secret: served.token },
    });
    const configText = await readFile(join(dockerConfig, 'config.json'), 'utf8');
    expect(configText).not.toContain(served.token);
    expect(JSON.parse(configText)).toEqual({ credsStore: 'test', auths: { [served.registry]: {} } });

    const tags = await ghcr(['--debug', 'tags', `${served.registry}/octo-org/app`], { env });
    expect(tags.code).toBe(0);
    expect(tags.stderr).toContain(
      `debug: credentials for ${served.registry}: docker config ${join(dockerConfig, 'config.json')} (credsStore: test)`,
    );
    expect(tags.stderr).not.toContain(served.token);

    const logout = await ghcr(['logout', served.registry], { env });
    expect(logout.code).toBe(0);
    expect(logout.stdout).toBe(`logged out of ${served.registry}\n`);
    expect(await readHelperStore(helper.store)).toEqual({});
    const anonymous = await ghcr(['tags', `${served.registry}/octo-org/app`], { env });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/^error: UNAUTHORIZED: /);
  });

  it('stores inline without a helper, and refuses a wrong token without writing', async () => {
    const dockerConfig = join(directory, 'docker-inline');
    const env = { HOME: directory, DOCKER_CONFIG: dockerConfig, PATH: process.env.PATH };
    const wrong = await ghcr(['login', served.registry, '-u', 'octocat', '--password-stdin'], {
      env,
      stdin: 'ghp_notarealtoken000000000000000000000',
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error: GHCR_AUTH_FAILED: .* nothing was stored\./);
    expect(wrong.stderr).not.toContain('ghp_notarealtoken000000000000000000000');
    await expect(readFile(join(dockerConfig, 'config.json'), 'utf8')).rejects.toMatchObject({
      code: 'ENOENT',
    });

    const right = await ghcr(['login', served.registry, '-u', 'octocat', '--password-stdin'], {
      env,
      stdin: served.token,
    });
    expect(right.code).toBe(0);
    const config = JSON.parse(await readFile(join(dockerConfig, 'config.json'), 'utf8')) as {
      auths: Record<string, { auth: string }>;
    };
    expect(config.auths[served.registry]?.auth).toBe(
      Buffer.from(`octocat:${served.token}`).toString('base64'),
    );
    const logout = await ghcr(['logout', served.registry, '--json'], { env });
    expect(JSON.parse(logout.stdout)).toEqual({
      registry: served.registry,
      removed: true,
      configPath: join(dockerConfig, 'config.json'),
    });
  });

  it('serve stops on SIGINT too, with exit 0', async () => {
    const ended = await serve.stop('SIGINT');
    expect(ended).toMatchObject({ code: 0, signal: null });
  });
});
