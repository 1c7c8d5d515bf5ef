import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@ghcr/oci-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerRegistryConfig, startDockerRegistry } from './docker-registry.js';

describe('dockerRegistryConfig', () => {
  it('listens on loopback with deletes on, the access log off and no auth by default', () => {
    const yaml = dockerRegistryConfig({ port: 5123, rootDirectory: '/tmp/r/data', accessLog: false });
    expect(yaml).toContain('  addr: 127.0.0.1:5123\n');
    expect(yaml).toContain('    rootdirectory: /tmp/r/data\n');
    expect(yaml).toContain('  delete:\n    enabled: true\n');
    expect(yaml).toContain('  accesslog:\n    disabled: true\n');
    expect(yaml).not.toContain('auth:');
  });

  it('keeps the access log on and writes the token auth section when asked', () => {
    const yaml = dockerRegistryConfig({
      port: 5123,
      rootDirectory: '/tmp/r/data',
      accessLog: true,
      tokenAuth: {
        realm: 'http://127.0.0.1:9/token',
        service: 'svc',
        issuer: 'iss',
        rootCertBundle: '/tmp/cert.pem',
      },
    });
    expect(yaml).not.toContain('accesslog');
    expect(yaml).toContain(
      'auth:\n  token:\n    realm: http://127.0.0.1:9/token\n    service: svc\n    issuer: iss\n    rootcertbundle: /tmp/cert.pem\n',
    );
  });
});

describe('startDockerRegistry failures', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ghcr-test-support-fake-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('refuses a missing program with the install command, starting nothing', async () => {
    const error = await startDockerRegistry({ binary: 'no-such-registry-binary' }).catch((e: unknown) => e);
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('no-such-registry-binary not found on PATH');
    expect((error as Error).message).toContain('apt-get install -y no-such-registry-binary');
  });

  it('gives up after the attempts with the last output, and removes its directory', async () => {
    // A stand-in that records each start and exits at once, as a registry that cannot bind would.
    const binary = join(directory, 'exits-at-once');
    const starts = join(directory, 'starts');
    await writeFile(binary, `#!/bin/sh\necho start >> ${starts}\necho "cannot serve $2" >&2\nexit 3\n`);
    await chmod(binary, 0o755);
    const storage = join(directory, 'storage');
    const error = await startDockerRegistry({ binary, attempts: 2, directory: storage }).catch(
      (e: unknown) => e,
    );
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('did not answer on /v2/ (2 attempt(s)');
    expect((error as Error).message).toContain(`cannot serve ${join(storage, 'config.yml')}`);
    expect((await readFile(starts, 'utf8')).split('\n').filter(Boolean)).toHaveLength(2);
    await expect(readFile(join(storage, 'config.yml'))).rejects.toThrow(/ENOENT/);
  });
});
