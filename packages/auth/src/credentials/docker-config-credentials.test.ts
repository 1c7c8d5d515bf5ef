import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuthenticationError, createManualClock, GhcrErrorCode } from '@ghcr/oci-types';
import { rejectionOf } from '@ghcr/test-support';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  envWithPath,
  expectNoSecret,
  makeTempDir,
  removeTempDir,
  SECRETS,
  writeCredentialHelper,
} from '../testing/fixtures.js';
import { dockerConfigCredentials } from './docker-config-credentials.js';

const basic = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

let dir: string;
let binDir: string;
let env: Record<string, string | undefined>;

async function writeConfig(content: unknown, path = join(dir, '.docker', 'config.json')): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

beforeEach(async () => {
  dir = await makeTempDir();
  binDir = join(dir, 'bin');
  await mkdir(binDir);
  await writeCredentialHelper(binDir, 'test');
  env = envWithPath(binDir, { HOME: dir, HELPER_LOG: join(dir, 'helper.log') });
});
afterEach(() => removeTempDir(dir));

describe('dockerConfigCredentials: auths', () => {
  it('decodes an inline auth entry and names the file and key as source', async () => {
    const path = await writeConfig({
      auths: { 'ghcr.io': { auth: basic('octocat', SECRETS.inlinePassword) } },
    });
    const answer = await dockerConfigCredentials({ env }).resolve('ghcr.io');
    expect(answer).toEqual({
      credential: { username: 'octocat', password: SECRETS.inlinePassword },
      source: `docker config ${path} (auths: ghcr.io)`,
    });
    expect(answer?.source).not.toContain(SECRETS.inlinePassword);
  });

  it.each([
    ['https://ghcr.io', 'ghcr.io'],
    ['https://ghcr.io/v2/', 'ghcr.io'],
    ['GHCR.IO/v1/', 'ghcr.io'],
    ['https://index.docker.io/v1/', 'docker.io'],
    ['https://index.docker.io/v1/', 'registry-1.docker.io'],
    ['docker.io', 'index.docker.io'],
    ['localhost:5000', 'localhost:5000'],
  ])('finds key %s for registry %s', async (key, registry) => {
    await writeConfig({ auths: { [key]: { auth: basic('u', SECRETS.inlinePassword) } } });
    const answer = await dockerConfigCredentials({ env }).resolve(registry);
    expect(answer?.credential.password).toBe(SECRETS.inlinePassword);
    expect(answer?.source).toContain(`(auths: ${key})`);
  });

  it('does not match another registry or another port', async () => {
    await writeConfig({
      auths: {
        'localhost:5000': { auth: basic('u', 'p-secret') },
        'ghcr.io/octo': { auth: basic('u', 'p') },
      },
    });
    const provider = dockerConfigCredentials({ env });
    expect(await provider.resolve('localhost:5001')).toBeUndefined();
    expect(await provider.resolve('ghcr.io')).toBeUndefined();
  });

  it('reads identitytoken and registrytoken', async () => {
    await writeConfig({
      auths: {
        'a.example': { identitytoken: SECRETS.identityInline },
        'b.example': { registrytoken: SECRETS.registryToken },
      },
    });
    const provider = dockerConfigCredentials({ env });
    expect((await provider.resolve('a.example'))?.credential).toEqual({
      identityToken: SECRETS.identityInline,
    });
    expect((await provider.resolve('b.example'))?.credential).toEqual({
      registryToken: SECRETS.registryToken,
    });
  });

  it('uses $DOCKER_CONFIG, and an explicit configPath over both', async () => {
    const viaEnv = await writeConfig(
      { auths: { 'ghcr.io': { auth: basic('env', 'x-secret') } } },
      join(dir, 'custom', 'config.json'),
    );
    const explicit = await writeConfig(
      { auths: { 'ghcr.io': { auth: basic('explicit', 'y-secret') } } },
      join(dir, 'other.json'),
    );
    const withEnv = { ...env, DOCKER_CONFIG: join(dir, 'custom') };
    expect((await dockerConfigCredentials({ env: withEnv }).resolve('ghcr.io'))?.source).toContain(viaEnv);
    expect(
      (await dockerConfigCredentials({ env: withEnv, configPath: explicit }).resolve('ghcr.io'))?.credential
        .username,
    ).toBe('explicit');
  });

  it('answers nothing without a file, an entry, or with an empty entry', async () => {
    expect(await dockerConfigCredentials({ env }).resolve('ghcr.io')).toBeUndefined();
    await writeConfig({ auths: { 'ghcr.io': {} } });
    expect(await dockerConfigCredentials({ env }).resolve('ghcr.io')).toBeUndefined();
    expect(await dockerConfigCredentials({ env }).resolve('quay.io')).toBeUndefined();
  });

  it('reports invalid JSON and bad entries without quoting the file', async () => {
    const path = await writeConfig(
      `{"auths": {"ghcr.io": {"auth": "${basic('u', SECRETS.inlinePassword)}"}}, oops`,
    );
    const invalid = await rejectionOf(dockerConfigCredentials({ env }).resolve('ghcr.io'));
    expect((invalid as AuthenticationError).code).toBe(GhcrErrorCode.CREDENTIALS_UNAVAILABLE);
    expect((invalid as Error).message).toContain(`docker config ${path} is not valid JSON`);
    expectNoSecret(invalid);

    await writeConfig({
      auths: { 'ghcr.io': { auth: Buffer.from(SECRETS.inlinePassword).toString('base64') } },
    });
    const noColon = await rejectionOf(dockerConfigCredentials({ env }).resolve('ghcr.io'));
    expect((noColon as Error).message).toMatch(
      /auths\["ghcr.io"\]\.auth is not base64 of "username:password"/,
    );
    expectNoSecret(noColon);

    await writeConfig({ auths: { 'ghcr.io': { auth: 42 } } });
    const wrongType = await rejectionOf(dockerConfigCredentials({ env }).resolve('ghcr.io'));
    expect((wrongType as Error).message).toMatch(/invalid "auths\.ghcr\.io\.auth" field/);
  });
});

describe('dockerConfigCredentials: credential helpers (real docker-credential-test on PATH)', () => {
  it('runs the credHelpers entry of the registry', async () => {
    const path = await writeConfig({ credHelpers: { 'https://ghcr.io': 'test' } });
    const answer = await dockerConfigCredentials({ env }).resolve('ghcr.io');
    expect(answer).toEqual({
      credential: { username: 'helper-user', password: SECRETS.helperSecret },
      source: `docker config ${path} (credHelpers: test)`,
    });
    expect(await readFile(join(dir, 'helper.log'), 'utf8')).toBe('get ghcr.io\n');
  });

  it('runs credsStore for registries without a credHelpers entry, with Docker Hub under its legacy key', async () => {
    const path = await writeConfig({ credsStore: 'test', credHelpers: { 'other.example': 'missing' } });
    const answer = await dockerConfigCredentials({ env }).resolve('docker.io');
    expect(answer?.source).toBe(`docker config ${path} (credsStore: test)`);
    expect(answer?.credential.username).toBe('hub-user');
    expect(await readFile(join(dir, 'helper.log'), 'utf8')).toBe('get https://index.docker.io/v1/\n');
  });

  it('maps a <token> username to an identity token', async () => {
    await writeConfig({ credsStore: 'test' });
    expect((await dockerConfigCredentials({ env }).resolve('token.example'))?.credential).toEqual({
      identityToken: SECRETS.helperIdentity,
    });
  });

  it('falls back to the inline auths entry when the helper has none ("credentials not found" is no error)', async () => {
    const path = await writeConfig({
      credsStore: 'test',
      auths: { 'quay.io': { auth: basic('q', SECRETS.inlinePassword) } },
    });
    const answer = await dockerConfigCredentials({ env }).resolve('quay.io');
    expect(answer?.source).toBe(`docker config ${path} (auths: quay.io)`);
    expect(await dockerConfigCredentials({ env }).resolve('nothing.example')).toBeUndefined();
  });

  it('throws a clear error when the helper binary is missing', async () => {
    const path = await writeConfig({ credsStore: 'desktop', auths: { 'ghcr.io': {} } });
    const error = await rejectionOf(dockerConfigCredentials({ env }).resolve('ghcr.io'));
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('"docker-credential-desktop" was not found on PATH');
    expect((error as Error).message).toContain(`credsStore in ${path}`);
  });

  it('throws with exit code and stderr when the helper fails', async () => {
    await writeConfig({ credHelpers: { 'fail.example': 'test' } });
    const error = await rejectionOf(dockerConfigCredentials({ env }).resolve('fail.example'));
    expect((error as Error).message).toMatch(
      /"docker-credential-test" \(configured by credHelpers in .*\) exited with code 3: keychain is locked/,
    );
  });

  it('times out a helper that hangs (configurable timeout, injected clock)', async () => {
    await writeConfig({ credHelpers: { 'slow.example': 'test' } });
    const clock = createManualClock();
    const outcome = rejectionOf(
      dockerConfigCredentials({ env, clock, helperTimeoutMs: 2_000 }).resolve('slow.example'),
    );
    // Let the provider read the file and start the helper (its timer registers) before time moves.
    for (let i = 0; i < 10_000 && clock.pendingSleeps === 0; i++)
      await new Promise((resolve) => setImmediate(resolve));
    expect(clock.pendingSleeps).toBe(1);
    await clock.advance(2_000);
    const error = await outcome;
    expect((error as Error).message).toMatch(/did not answer within 2000 ms/);
  });

  it('never puts a helper secret in an error', async () => {
    await writeConfig({ credHelpers: { 'garbage.example': 'test' } });
    expectNoSecret(await rejectionOf(dockerConfigCredentials({ env }).resolve('garbage.example')));
  });
});
