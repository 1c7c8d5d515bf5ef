import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@ghcr/oci-types';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startDockerRegistry } from './docker-registry.js';
import { createDockerRegistryGroup } from './registry-group.js';
import { createTokenSigningKey } from './token-signing-key.js';
import { describeWithBinaries, useDockerRegistry } from './vitest.js';

describeWithBinaries(['docker-registry'], 'the docker-registry harness', () => {
  const registry = useDockerRegistry({ accessLog: true });
  let earlyRead: unknown;
  try {
    void registry.host;
  } catch (error) {
    earlyRead = error;
  }

  it('refuses to be read before its beforeAll started it', () => {
    expect(ConfigError.isInstance(earlyRead)).toBe(true);
    expect((earlyRead as Error).message).toContain('read it inside a test or a later hook');
  });

  it('serves /v2/ on loopback and counts the requests in its access log', async () => {
    expect(registry.host).toBe(`127.0.0.1:${registry.port}`);
    expect(registry.url).toBe(`http://${registry.host}`);
    const before = (await registry.accessLog()).length;
    expect((await fetch(`${registry.url}/v2/`)).status).toBe(200);
    expect((await fetch(`${registry.url}/v2/a/manifests/missing`)).status).toBe(404);
    // The process writes an access-log line after its response: wait for the lines to land.
    const entries = await vi.waitFor(
      async () => {
        const lines = await registry.accessLog();
        expect(lines.length).toBeGreaterThanOrEqual(before + 2);
        return lines;
      },
      { timeout: 5000, interval: 20 },
    );
    expect(entries.slice(before)).toEqual([
      { method: 'GET', path: '/v2/', status: 200, bytes: 2 },
      expect.objectContaining({ method: 'GET', path: '/v2/a/manifests/missing', status: 404 }),
    ]);
    expect(await registry.cpuTimeMs()).toEqual(expect.any(Number));
  });

  it('stops and removes its directory, or keeps it when asked; stopping twice is harmless', async () => {
    const removed = await startDockerRegistry();
    await removed.stop();
    await removed.stop();
    expect(existsSync(removed.storageDir)).toBe(false);
    expect(await fetch(`${removed.url}/v2/`).catch(() => 'refused')).toBe('refused');

    const kept = await startDockerRegistry();
    await kept.stop({ keepStorage: true });
    expect(existsSync(join(kept.storageDir, 'config.yml'))).toBe(true);
    await rm(kept.storageDir, { recursive: true, force: true });
  });

  it('a group stops every registry still running', async () => {
    const group = createDockerRegistryGroup();
    const [first, second] = await Promise.all([group.start(), group.start()]);
    expect(group.running).toHaveLength(2);
    await first?.stop();
    expect(group.running).toEqual([second]);
    await group.stopAll();
    expect(group.running).toEqual([]);
    expect(existsSync(second?.storageDir ?? '')).toBe(false);
  });
});

describeWithBinaries(['docker-registry', 'openssl'], 'docker-registry with token auth', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ghcr-test-support-token-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('is ready when /v2/ challenges, and sends clients to the realm', async () => {
    const key = await createTokenSigningKey({ directory, issuer: 'test-issuer' });
    expect(key.privateKeyPem).toContain('BEGIN PRIVATE KEY');
    const registry = await startDockerRegistry({
      tokenAuth: {
        realm: 'http://127.0.0.1:9/token',
        service: 'test-service',
        issuer: 'test-issuer',
        rootCertBundle: key.certificatePath,
      },
    });
    try {
      const response = await fetch(`${registry.url}/v2/`);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(
        'Bearer realm="http://127.0.0.1:9/token",service="test-service"',
      );
    } finally {
      await registry.stop();
    }
  });
});
