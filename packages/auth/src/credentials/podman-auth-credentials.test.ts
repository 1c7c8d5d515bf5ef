import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  envWithPath,
  makeTempDir,
  removeTempDir,
  SECRETS,
  writeCredentialHelper,
} from '../testing/fixtures.js';
import { podmanAuthCredentials, podmanAuthPaths } from './podman-auth-credentials.js';

const basic = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

let dir: string;

async function write(path: string, content: unknown): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, JSON.stringify(content));
  return path;
}

beforeEach(async () => {
  dir = await makeTempDir();
});
afterEach(() => removeTempDir(dir));

describe('podmanAuthCredentials', () => {
  it('reads $REGISTRY_AUTH_FILE only, when set', async () => {
    const path = await write(join(dir, 'auth.json'), {
      auths: { 'ghcr.io': { auth: basic('pod', SECRETS.inlinePassword) } },
    });
    await write(join(dir, 'run', 'containers', 'auth.json'), {
      auths: { 'quay.io': { auth: basic('q', 'x-secret') } },
    });
    const env = { HOME: dir, REGISTRY_AUTH_FILE: path, XDG_RUNTIME_DIR: join(dir, 'run') };
    expect(podmanAuthPaths({ env })).toEqual([path]);
    const provider = podmanAuthCredentials({ env });
    expect(await provider.resolve('ghcr.io')).toEqual({
      credential: { username: 'pod', password: SECRETS.inlinePassword },
      source: `podman auth file ${path} (auths: ghcr.io)`,
    });
    expect(await provider.resolve('quay.io')).toBeUndefined();
  });

  it('reads $XDG_RUNTIME_DIR/containers/auth.json, then ~/.config/containers/auth.json', async () => {
    const runtime = await write(join(dir, 'run', 'containers', 'auth.json'), {
      auths: { 'ghcr.io': { auth: basic('runtime', 'r-secret') } },
    });
    const config = await write(join(dir, '.config', 'containers', 'auth.json'), {
      auths: {
        'ghcr.io': { auth: basic('config', 'c-secret') },
        'quay.io': { auth: basic('quay', 'q-secret') },
      },
    });
    const env = { HOME: dir, XDG_RUNTIME_DIR: join(dir, 'run') };
    const provider = podmanAuthCredentials({ env });
    expect((await provider.resolve('ghcr.io'))?.source).toBe(`podman auth file ${runtime} (auths: ghcr.io)`);
    expect((await provider.resolve('quay.io'))?.source).toBe(`podman auth file ${config} (auths: quay.io)`);
    expect(
      await podmanAuthCredentials({ env: { HOME: join(dir, 'nowhere') } }).resolve('ghcr.io'),
    ).toBeUndefined();
  });

  it('ignores namespace-scoped keys (ghcr.io/octo-org) for a registry lookup', async () => {
    const path = await write(join(dir, 'auth.json'), {
      auths: { 'ghcr.io/octo-org': { auth: basic('u', 'n-secret') } },
    });
    expect(
      await podmanAuthCredentials({ env: { REGISTRY_AUTH_FILE: path } }).resolve('ghcr.io'),
    ).toBeUndefined();
  });

  it('runs credHelpers like Docker', async () => {
    await writeCredentialHelper(dir, 'test');
    const path = await write(join(dir, 'auth.json'), { credHelpers: { 'ghcr.io': 'test' } });
    const answer = await podmanAuthCredentials({
      env: envWithPath(dir, { REGISTRY_AUTH_FILE: path }),
    }).resolve('ghcr.io');
    expect(answer?.source).toBe(`podman auth file ${path} (credHelpers: test)`);
    expect(answer?.credential.password).toBe(SECRETS.helperSecret);
  });
});
