import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerConfigCredentials } from '@ghcr/auth';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dockerConfigFile, eraseCredentials, serverAddressOf, storeCredentials } from './docker-config.js';
import { installTestCredentialHelper, readHelperStore } from './testing/credential-helper.js';

let directory: string;
let env: Record<string, string | undefined>;
let configPath: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ghcr-cli-docker-config-'));
  env = { HOME: directory, DOCKER_CONFIG: join(directory, 'docker'), PATH: process.env.PATH };
  configPath = join(directory, 'docker', 'config.json');
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const readConfig = async (): Promise<Record<string, unknown>> =>
  JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;

describe('where config.json is', () => {
  it('is $DOCKER_CONFIG/config.json, else ~/.docker/config.json', () => {
    expect(dockerConfigFile({ DOCKER_CONFIG: '/d', HOME: '/h' })).toBe('/d/config.json');
    expect(dockerConfigFile({ HOME: '/h' })).toBe('/h/.docker/config.json');
  });

  it('stores Docker Hub under its legacy key and others under host[:port]', () => {
    expect(serverAddressOf('https://GHCR.io/v2/')).toBe('ghcr.io');
    expect(serverAddressOf('localhost:5000')).toBe('localhost:5000');
    expect(serverAddressOf('index.docker.io')).toBe('https://index.docker.io/v1/');
  });
});

describe('storeCredentials / eraseCredentials in the file', () => {
  it('writes auths[registry].auth = base64(user:password), owner-only, readable by the auth package', async () => {
    const outcome = await storeCredentials(
      '127.0.0.1:5000',
      { username: 'octocat', secret: 'pat-1' },
      { env },
    );
    expect(outcome).toEqual({ configPath, serverAddress: '127.0.0.1:5000' });
    expect(await readConfig()).toEqual({
      auths: { '127.0.0.1:5000': { auth: Buffer.from('octocat:pat-1').toString('base64') } },
    });
    expect((await stat(configPath)).mode & 0o777).toBe(0o600);
    const resolved = await dockerConfigCredentials({ env }).resolve('127.0.0.1:5000');
    expect(resolved?.credential).toEqual({ username: 'octocat', password: 'pat-1' });
  });

  it('keeps every other setting, replaces a previous login', async () => {
    await mkdir(join(directory, 'docker'));
    await writeFile(
      configPath,
      JSON.stringify({
        auths: { 'ghcr.io': { auth: 'b2xkOm9sZA==' }, 'quay.io': { auth: 'cTpx' } },
        detachKeys: 'ctrl-e',
      }),
    );
    await storeCredentials('ghcr.io', { username: 'octocat', secret: 'new' }, { env });
    expect(await readConfig()).toEqual({
      auths: {
        'ghcr.io': { auth: Buffer.from('octocat:new').toString('base64') },
        'quay.io': { auth: 'cTpx' },
      },
      detachKeys: 'ctrl-e',
    });
  });

  it('logout removes every key naming the registry and says whether anything was there', async () => {
    await mkdir(join(directory, 'docker'));
    await writeFile(
      configPath,
      JSON.stringify({
        auths: { 'https://ghcr.io': { auth: 'eDp5' }, 'ghcr.io/octo-org': { auth: 'eDp6' }, 'quay.io': {} },
      }),
    );
    expect(await eraseCredentials('ghcr.io', { env })).toEqual({
      configPath,
      serverAddress: 'ghcr.io',
      removed: true,
    });
    // A per-namespace key (podman style) is not this registry's login.
    expect(await readConfig()).toEqual({ auths: { 'ghcr.io/octo-org': { auth: 'eDp6' }, 'quay.io': {} } });
    expect((await eraseCredentials('ghcr.io', { env })).removed).toBe(false);
  });

  it('refuses to touch a file that is not valid JSON', async () => {
    await mkdir(join(directory, 'docker'));
    await writeFile(configPath, '{ "auths": ');
    await expect(storeCredentials('ghcr.io', { username: 'u', secret: 's' }, { env })).rejects.toMatchObject({
      code: 'GHCR_CREDENTIALS_UNAVAILABLE',
      message: `${configPath} is not valid JSON; fix or remove it (nothing was changed)`,
    });
    expect(await readFile(configPath, 'utf8')).toBe('{ "auths": ');
  });
});

describe('with a credential helper', { timeout: 30_000 }, () => {
  it('credsStore: the helper gets the secret, the file an empty entry; erase removes both', async () => {
    const helper = await installTestCredentialHelper(directory);
    const helperEnv = { ...env, PATH: `${helper.bin}:${process.env.PATH}`, TEST_HELPER_STORE: helper.store };
    await mkdir(join(directory, 'docker'));
    await writeFile(configPath, JSON.stringify({ credsStore: 'test' }));
    const stored = await storeCredentials(
      '127.0.0.1:5000',
      { username: 'octocat', secret: 'pat-2' },
      { env: helperEnv },
    );
    expect(stored).toEqual({ configPath, serverAddress: '127.0.0.1:5000', helper: 'test' });
    expect(await readHelperStore(helper.store)).toEqual({
      '127.0.0.1:5000': { Username: 'octocat', Secret: 'pat-2' },
    });
    expect(await readConfig()).toEqual({ credsStore: 'test', auths: { '127.0.0.1:5000': {} } });
    expect(await readFile(configPath, 'utf8')).not.toContain('pat-2');
    const resolved = await dockerConfigCredentials({ env: helperEnv }).resolve('127.0.0.1:5000');
    expect(resolved?.credential).toEqual({ username: 'octocat', password: 'pat-2' });

    expect(await eraseCredentials('127.0.0.1:5000', { env: helperEnv })).toEqual({
      configPath,
      serverAddress: '127.0.0.1:5000',
      removed: true,
      helper: 'test',
    });
    expect(await readHelperStore(helper.store)).toEqual({});
    expect(await readConfig()).toEqual({ credsStore: 'test', auths: {} });
    expect((await eraseCredentials('127.0.0.1:5000', { env: helperEnv })).removed).toBe(false);
  });

  it('credHelpers for the registry wins over credsStore; a missing helper is an error naming it', async () => {
    await mkdir(join(directory, 'docker'));
    await writeFile(configPath, JSON.stringify({ credsStore: 'test', credHelpers: { 'ghcr.io': 'absent' } }));
    await expect(
      storeCredentials('ghcr.io', { username: 'u', secret: 'sekrit-value' }, { env }),
    ).rejects.toMatchObject({
      code: 'GHCR_CREDENTIAL_HELPER_FAILED',
      message: `credential helper "docker-credential-absent" is not on PATH (credHelpers in ${configPath}); install it, or remove that setting to store the credentials in the file itself`,
    });
    expect(await readConfig()).toEqual({ credsStore: 'test', credHelpers: { 'ghcr.io': 'absent' } });
  });
});
