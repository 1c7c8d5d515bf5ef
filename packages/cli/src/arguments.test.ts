import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CredentialProvider } from '@ghcr/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  packageArgument,
  parseAnnotations,
  parseCount,
  pathArgument,
  platformSelection,
  registryOfApi,
} from './arguments.js';
import { apiCredentialsOf } from './context.js';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ghcr-cli-arguments-'));
  await writeFile(join(directory, 'report.json'), '{}');
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('package arguments', () => {
  it('the registry is the API’s: ghcr.io, containers.<host> on GHES, else the API’s address', () => {
    expect(registryOfApi('https://api.github.com')).toBe('ghcr.io');
    expect(registryOfApi('https://ghe.example.com/api/v3')).toBe('containers.ghe.example.com');
    expect(registryOfApi('http://127.0.0.1:5000/api')).toBe('127.0.0.1:5000');
  });

  it('parses [registry/]owner/package', () => {
    expect(packageArgument('octo-org/team/app', 'https://api.github.com')).toEqual({
      registry: 'ghcr.io',
      repository: 'octo-org/team/app',
      owner: 'octo-org',
      packageName: 'team/app',
    });
    expect(packageArgument('octo-org/app', 'http://127.0.0.1:5000/api')).toMatchObject({
      registry: '127.0.0.1:5000',
      repository: 'octo-org/app',
    });
    expect(packageArgument('127.0.0.1:5000/octo-org/app', 'http://127.0.0.1:5000/api').registry).toBe(
      '127.0.0.1:5000',
    );
    expect(packageArgument('ghcr.io/octo-org/app', 'https://api.github.com').registry).toBe('ghcr.io');
  });

  it('refuses images, single names and a registry the API does not serve', () => {
    expect(() => packageArgument('octo-org/app:1', 'https://api.github.com')).toThrow(/names an image/);
    expect(() => packageArgument('app', 'https://api.github.com')).toThrow(/is not owner\/package/);
    expect(() => packageArgument('127.0.0.1:5000/octo-org/app', 'https://api.github.com')).toThrow(
      /serves the packages of ghcr\.io, not of 127\.0\.0\.1:5000/,
    );
  });
});

describe('options', () => {
  it('annotations are key=value, the last value of a key wins', () => {
    expect(parseAnnotations(undefined)).toBeUndefined();
    expect(parseAnnotations(['a=1', 'b=x=y', 'a=2'])).toEqual({ a: '2', b: 'x=y' });
    expect(() => parseAnnotations(['=v'])).toThrow(/is not key=value/);
  });

  it('counts are whole numbers', () => {
    expect(parseCount('0')).toBe(0);
    expect(parseCount('12')).toBe(12);
    expect(() => parseCount('1.5')).toThrow(/whole number/);
    expect(() => parseCount('-1')).toThrow(/whole number/);
  });

  it('--platform and --all-platforms exclude each other; neither means the whole index', () => {
    expect(platformSelection({})).toEqual({ allPlatforms: true });
    expect(platformSelection({ platform: 'linux/arm64' })).toEqual({ platform: 'linux/arm64' });
    expect(() => platformSelection({ platform: 'linux/arm64', allPlatforms: true })).toThrow(/not both/);
    expect(() => platformSelection({ platform: 'linux' })).toThrow(/names no architecture/);
  });

  it('paths: a file, a file:media-type, a directory:name', async () => {
    const file = join(directory, 'report.json');
    expect(await pathArgument(file)).toEqual({ path: file, kind: 'file' });
    expect(await pathArgument(`${file}:application/sarif+json`)).toEqual({
      path: file,
      kind: 'file',
      suffix: 'application/sarif+json',
    });
    expect(await pathArgument(`${directory}:v1`)).toEqual({
      path: directory,
      kind: 'directory',
      suffix: 'v1',
    });
    await expect(pathArgument(`${file}:notatype`)).rejects.toThrow(/no such file or directory/);
    await expect(pathArgument(join(directory, 'missing'))).rejects.toThrow(/no such file or directory/);
  });
});

describe('Packages API credentials', () => {
  const asked: string[] = [];
  const chain: CredentialProvider = {
    name: 'test',
    async resolve(registry) {
      asked.push(registry);
      return { credential: { username: 'u', password: `secret-of-${registry}` }, source: 'test' };
    },
  };

  it('are the registry’s when the API belongs to it (ghcr serve, GHES), else ghcr.io’s', async () => {
    asked.length = 0;
    await apiCredentialsOf(chain, '127.0.0.1:5000', 'http://127.0.0.1:5000/api').resolve('ghcr.io');
    await apiCredentialsOf(chain, 'containers.ghe.example.com', 'https://ghe.example.com/api/v3').resolve(
      'ghcr.io',
    );
    // A local registry's password never goes to api.github.com.
    await apiCredentialsOf(chain, '127.0.0.1:5000', 'https://api.github.com').resolve('ghcr.io');
    await apiCredentialsOf(chain, 'ghcr.io', 'https://api.github.com').resolve('ghcr.io');
    // Registry requests are not redirected.
    await apiCredentialsOf(chain, '127.0.0.1:5000', 'http://127.0.0.1:5000/api').resolve('127.0.0.1:5000');
    expect(asked).toEqual([
      '127.0.0.1:5000',
      'containers.ghe.example.com',
      'ghcr.io',
      'ghcr.io',
      '127.0.0.1:5000',
    ]);
  });
});
