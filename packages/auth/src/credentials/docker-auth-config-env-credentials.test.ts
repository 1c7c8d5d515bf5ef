import { AuthenticationError } from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import { defaultCredentialChain } from './default-credential-chain.js';
import { dockerAuthConfigEnvCredentials } from './docker-auth-config-env-credentials.js';

const basic = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

describe('dockerAuthConfigEnvCredentials (DOCKER_AUTH_CONFIG)', () => {
  const env = {
    DOCKER_AUTH_CONFIG: JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: basic('hubuser', 'hub-secret') },
        'quay.io': { auth: basic('robot', 'quay-secret') },
      },
    }),
  };

  it("finds Docker Hub under Docker's legacy key, whatever name the registry is asked by", async () => {
    const provider = dockerAuthConfigEnvCredentials({ env });
    for (const name of ['docker.io', 'registry-1.docker.io', 'index.docker.io']) {
      const resolved = await provider.resolve(name);
      expect(resolved?.credential).toEqual({ username: 'hubuser', password: 'hub-secret' });
      expect(resolved?.source).toBe('DOCKER_AUTH_CONFIG (auths: https://index.docker.io/v1/)');
    }
    expect((await provider.resolve('quay.io'))?.credential.password).toBe('quay-secret');
    expect(await provider.resolve('ghcr.io')).toBeUndefined();
  });

  it('answers nothing when unset or blank', async () => {
    expect(await dockerAuthConfigEnvCredentials({ env: {} }).resolve('docker.io')).toBeUndefined();
    expect(
      await dockerAuthConfigEnvCredentials({ env: { DOCKER_AUTH_CONFIG: ' ' } }).resolve('docker.io'),
    ).toBeUndefined();
  });

  it('names the variable, not its content, when it is not JSON', async () => {
    const provider = dockerAuthConfigEnvCredentials({
      env: { DOCKER_AUTH_CONFIG: '{"auths": secret-value' },
    });
    const error = await provider.resolve('docker.io').catch((caught: unknown) => caught);
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('DOCKER_AUTH_CONFIG is not valid JSON');
    expect((error as Error).message).not.toContain('secret-value');
  });

  it('is part of the default chain, after the GitHub token variables', async () => {
    const chain = defaultCredentialChain({ env: { ...env, GITHUB_TOKEN: 'ghp_x' }, home: '/nonexistent' });
    expect((await chain.resolve('docker.io'))?.source).toBe(
      'DOCKER_AUTH_CONFIG (auths: https://index.docker.io/v1/)',
    );
    expect((await chain.resolve('ghcr.io'))?.credential.password).toBe('ghp_x');
  });
});
