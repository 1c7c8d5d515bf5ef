import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuthenticationError, GhcrErrorCode } from '@ghcr/oci-types';
import { rejectionOf } from '@ghcr/test-support';
import { describe, expect, it, vi } from 'vitest';
import { envWithPath, expectNoSecret, makeTempDir, removeTempDir, SECRETS } from '../testing/fixtures.js';
import { anonymousCredentials } from './anonymous-credentials.js';
import { chainCredentials } from './chain-credentials.js';
import type { CredentialProvider } from './credential.js';
import { defaultCredentialChain } from './default-credential-chain.js';
import { environmentCredentials } from './environment-credentials.js';
import { normalizeRegistryHost } from './registry-host.js';
import { staticCredentials } from './static-credentials.js';

describe('environmentCredentials', () => {
  it('takes GHCR_TOKEN first, then GITHUB_TOKEN, then GH_TOKEN, for ghcr.io', async () => {
    const all = { GHCR_TOKEN: SECRETS.envToken, GITHUB_TOKEN: 'second-secret', GH_TOKEN: 'third-secret' };
    expect(await environmentCredentials({ env: all }).resolve('ghcr.io')).toEqual({
      credential: { password: SECRETS.envToken },
      source: 'env GHCR_TOKEN',
    });
    expect(
      (await environmentCredentials({ env: { ...all, GHCR_TOKEN: ' ' } }).resolve('ghcr.io'))?.source,
    ).toBe('env GITHUB_TOKEN');
    expect(
      (await environmentCredentials({ env: { GH_TOKEN: 'third-secret' } }).resolve('GHCR.IO'))?.source,
    ).toBe('env GH_TOKEN');
  });

  it('takes the username from GHCR_USERNAME, else GITHUB_ACTOR', async () => {
    const env = { GITHUB_TOKEN: SECRETS.envToken, GITHUB_ACTOR: 'actor', GHCR_USERNAME: 'explicit' };
    expect(await environmentCredentials({ env }).resolve('ghcr.io')).toEqual({
      credential: { username: 'explicit', password: SECRETS.envToken },
      source: 'env GITHUB_TOKEN (username from GHCR_USERNAME)',
    });
    const answer = await environmentCredentials({ env: { ...env, GHCR_USERNAME: undefined } }).resolve(
      'ghcr.io',
    );
    expect(answer?.credential.username).toBe('actor');
    expect(answer?.source).not.toContain(SECRETS.envToken);
  });

  it('applies to ghcr.io only unless configured', async () => {
    const env = { GHCR_TOKEN: SECRETS.envToken };
    expect(await environmentCredentials({ env }).resolve('docker.io')).toBeUndefined();
    expect(await environmentCredentials({ env }).resolve('localhost:5000')).toBeUndefined();
    const configured = environmentCredentials({ env, registries: ['localhost:5000'] });
    expect((await configured.resolve('localhost:5000'))?.credential.password).toBe(SECRETS.envToken);
    expect(await configured.resolve('ghcr.io')).toBeUndefined();
    expect(await environmentCredentials({ env: {} }).resolve('ghcr.io')).toBeUndefined();
  });
});

describe('staticCredentials / anonymousCredentials', () => {
  it('answers for every registry, or the listed ones', async () => {
    const credential = { username: 'u', password: SECRETS.inlinePassword };
    expect(await staticCredentials(credential).resolve('anything.example')).toEqual({
      credential,
      source: 'static credentials',
    });
    const limited = staticCredentials(credential, {
      registries: ['https://ghcr.io/'],
      source: 'flag --token',
    });
    expect((await limited.resolve('ghcr.io'))?.source).toBe('flag --token');
    expect(await limited.resolve('quay.io')).toBeUndefined();
    expect(await staticCredentials({}).resolve('ghcr.io')).toBeUndefined();
  });

  it('anonymous always answers with no credential', async () => {
    expect(await anonymousCredentials().resolve('ghcr.io')).toEqual({ credential: {}, source: 'anonymous' });
  });
});

describe('chainCredentials', () => {
  const failing = (name: string, message: string): CredentialProvider => ({
    name,
    resolve: () =>
      Promise.reject(new AuthenticationError(message, { code: GhcrErrorCode.CREDENTIALS_UNAVAILABLE })),
  });
  const nothing: CredentialProvider = { name: 'nothing', resolve: () => Promise.resolve(undefined) };

  it('returns the first answer and does not ask later providers', async () => {
    const later = { name: 'later', resolve: vi.fn(() => Promise.resolve(undefined)) };
    const chain = chainCredentials([
      nothing,
      staticCredentials({ password: 'p-secret' }, { source: 'first' }),
      later,
    ]);
    expect(chain.name).toBe('chain(nothing, static, later)');
    expect((await chain.resolve('ghcr.io'))?.source).toBe('first');
    expect(later.resolve).not.toHaveBeenCalled();
  });

  it('skips a failing provider when a later one answers, and reports the skipped error', async () => {
    const onProviderError = vi.fn();
    const chain = chainCredentials(
      [failing('broken', 'helper exploded'), staticCredentials({ password: 'p-secret' })],
      {
        onProviderError,
      },
    );
    expect((await chain.resolve('ghcr.io'))?.source).toBe('static credentials');
    expect(onProviderError).toHaveBeenCalledTimes(1);
    expect(onProviderError.mock.calls[0]?.[1]).toMatchObject({ name: 'broken' });
  });

  it('throws every failure when no provider answers', async () => {
    const chain = chainCredentials([failing('a', 'first failure'), nothing, failing('b', 'second failure')]);
    const error = await rejectionOf(chain.resolve('ghcr.io'));
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect((error as AuthenticationError).code).toBe(GhcrErrorCode.CREDENTIALS_UNAVAILABLE);
    expect((error as Error).message).toBe(
      'no credentials for ghcr.io: 2 credential sources failed and no other answered (a: first failure; b: second failure)',
    );
    expect((error as Error).cause).toBeInstanceOf(AggregateError);
  });

  it('answers undefined when nobody answers and nobody failed', async () => {
    expect(await chainCredentials([nothing, nothing]).resolve('ghcr.io')).toBeUndefined();
  });

  it('rethrows an abort at once', async () => {
    const controller = new AbortController();
    const reason = new DOMException('aborted', 'AbortError');
    const aborting: CredentialProvider = {
      name: 'aborting',
      resolve: () => {
        controller.abort(reason);
        return Promise.reject(reason);
      },
    };
    const later = { name: 'later', resolve: vi.fn(() => Promise.resolve(undefined)) };
    await expect(
      chainCredentials([aborting, later]).resolve('ghcr.io', { signal: controller.signal }),
    ).rejects.toBe(reason);
    expect(later.resolve).not.toHaveBeenCalled();
  });
});

describe('defaultCredentialChain', () => {
  it('asks env, then docker config, then podman, then gh', async () => {
    const dir = await makeTempDir();
    try {
      await mkdir(join(dir, '.docker'), { recursive: true });
      await writeFile(
        join(dir, '.docker', 'config.json'),
        JSON.stringify({
          auths: { 'quay.io': { auth: Buffer.from(`q:${SECRETS.inlinePassword}`).toString('base64') } },
        }),
      );
      await mkdir(join(dir, '.config', 'gh'), { recursive: true });
      await writeFile(
        join(dir, '.config', 'gh', 'hosts.yml'),
        `github.com:\n  oauth_token: ${SECRETS.ghToken}\n`,
      );
      const env = envWithPath(dir, { HOME: dir });
      expect(await defaultCredentialChain({ env }).resolve('quay.io')).toMatchObject({
        source: expect.stringContaining('docker config'),
      });
      expect(await defaultCredentialChain({ env }).resolve('ghcr.io')).toMatchObject({
        source: expect.stringContaining('gh hosts.yml'),
      });
      expect(
        await defaultCredentialChain({ env: { ...env, GITHUB_TOKEN: SECRETS.envToken } }).resolve('ghcr.io'),
      ).toMatchObject({ source: 'env GITHUB_TOKEN' });
      expect(await defaultCredentialChain({ env }).resolve('unknown.example')).toBeUndefined();

      await writeFile(join(dir, '.docker', 'config.json'), JSON.stringify({ credsStore: 'desktop' }));
      const error = await rejectionOf(defaultCredentialChain({ env }).resolve('unknown.example'));
      expect((error as Error).message).toMatch(
        /docker-config: docker credential helper "docker-credential-desktop" was not found/,
      );
      expectNoSecret(error);
    } finally {
      await removeTempDir(dir);
    }
  });
});

describe('normalizeRegistryHost', () => {
  it.each([
    ['ghcr.io', 'ghcr.io'],
    ['https://ghcr.io/v2/', 'ghcr.io'],
    ['http://LOCALHOST:5000/', 'localhost:5000'],
    ['https://ghcr.io:443', 'ghcr.io'],
    ['https://index.docker.io/v1/', 'docker.io'],
    ['registry.hub.docker.com', 'docker.io'],
    ['https://user@quay.io/path', 'quay.io'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeRegistryHost(input)).toBe(expected);
  });
});
