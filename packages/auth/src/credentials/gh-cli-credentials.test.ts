import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuthenticationError, GhcrErrorCode } from '@ghcr/oci-types';
import { rejectionOf } from '@ghcr/test-support';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectNoSecret, makeTempDir, removeTempDir, SECRETS } from '../testing/fixtures.js';
import { ghCliCredentials, ghHostsPath } from './gh-cli-credentials.js';

let dir: string;

async function writeHosts(path: string, yaml: string): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, yaml);
  return path;
}

beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(() => removeTempDir(dir));

describe('ghCliCredentials', () => {
  it('reads github.com oauth_token and user from $GH_CONFIG_DIR/hosts.yml, for ghcr.io only', async () => {
    const path = await writeHosts(
      join(dir, 'gh', 'hosts.yml'),
      `github.com:\n    oauth_token: ${SECRETS.ghToken}\n    user: octocat\n    git_protocol: https\n`,
    );
    const provider = ghCliCredentials({ env: { GH_CONFIG_DIR: join(dir, 'gh') } });
    expect(await provider.resolve('ghcr.io')).toEqual({
      credential: { username: 'octocat', password: SECRETS.ghToken },
      source: `gh hosts.yml ${path} (github.com, user octocat)`,
    });
    expect(await provider.resolve('quay.io')).toBeUndefined();
  });

  it('reads the active user under users:, from ~/.config/gh by default', async () => {
    const path = await writeHosts(
      join(dir, '.config', 'gh', 'hosts.yml'),
      `github.com:\n  user: hubot\n  users:\n    hubot:\n      oauth_token: ${SECRETS.ghToken}\n    other:\n      oauth_token: nope\n`,
    );
    expect(ghHostsPath({ env: { HOME: dir } })).toBe(path);
    const answer = await ghCliCredentials({ env: { HOME: dir } }).resolve('ghcr.io');
    expect(answer?.credential).toEqual({ username: 'hubot', password: SECRETS.ghToken });
  });

  it('answers nothing when the token lives in the keyring, or without a file', async () => {
    await writeHosts(join(dir, 'gh', 'hosts.yml'), 'github.com:\n  user: octocat\n  git_protocol: ssh\n');
    expect(
      await ghCliCredentials({ env: { GH_CONFIG_DIR: join(dir, 'gh') } }).resolve('ghcr.io'),
    ).toBeUndefined();
    expect(
      await ghCliCredentials({ env: { GH_CONFIG_DIR: join(dir, 'none') } }).resolve('ghcr.io'),
    ).toBeUndefined();
  });

  it('maps other registries to gh hosts when configured (GitHub Enterprise)', async () => {
    await writeHosts(join(dir, 'gh', 'hosts.yml'), `ghe.example.com:\n  oauth_token: ${SECRETS.ghToken}\n`);
    const provider = ghCliCredentials({
      env: { GH_CONFIG_DIR: join(dir, 'gh') },
      hosts: { 'containers.ghe.example.com': 'ghe.example.com' },
    });
    expect((await provider.resolve('containers.ghe.example.com'))?.credential).toEqual({
      password: SECRETS.ghToken,
    });
    expect(await provider.resolve('ghcr.io')).toBeUndefined();
  });

  it('reports invalid YAML by line, without quoting it', async () => {
    const path = await writeHosts(
      join(dir, 'gh', 'hosts.yml'),
      `github.com:\n  oauth_token: "${SECRETS.ghToken}\n  user: [x\n`,
    );
    const error = await rejectionOf(
      ghCliCredentials({ env: { GH_CONFIG_DIR: join(dir, 'gh') } }).resolve('ghcr.io'),
    );
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect((error as AuthenticationError).code).toBe(GhcrErrorCode.CREDENTIALS_UNAVAILABLE);
    expect((error as Error).message).toContain(`gh hosts.yml ${path} is not valid YAML`);
    expectNoSecret(error);
  });
});
