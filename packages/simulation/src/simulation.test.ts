import { ConfigError } from '@ghcr/oci-types';
import { setupServer } from 'msw/node';
import { describe, expect, it } from 'vitest';
import { pushImage } from './scenarios/push.js';
import { createSimulation } from './simulation.js';

describe('createSimulation', () => {
  it('applies the documented defaults', () => {
    const simulation = createSimulation();
    expect(simulation.options).toMatchObject({
      profile: 'ghcr',
      registryUrl: 'https://ghcr.io',
      blobUrl: 'https://pkg-containers.githubusercontent.com',
      apiUrl: 'https://api.github.com',
      store: { kind: 'memory' },
      apiRateLimit: { limit: 5000 },
      apiWritePointsPerMinute: 900,
      tokenTtlSeconds: 300,
      maxManifestBytes: 4 * 1024 * 1024,
      maxUploadChunkBytes: 4 * 1024 * 1024,
      anonymousPull: true,
    });
    expect(simulation.options.registryRequestsPerMinute).toBeUndefined();
    expect(simulation.clock.now()).toBe(Date.UTC(2026, 0, 1));
    expect(createSimulation({ apiUrl: 'http://127.0.0.1:5000/api/' }).options.apiUrl).toBe(
      'http://127.0.0.1:5000/api',
    );
  });

  it('refuses invalid options with a ConfigError naming the field', () => {
    const attempt = () => createSimulation({ profile: 'quay' as 'ghcr' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/"profile"/);
    expect(() => createSimulation({ registryUrl: 'not a url' })).toThrow(/"registryUrl"/);
    expect(() => createSimulation({ maxManifestBytes: -1 })).toThrow(/"maxManifestBytes"/);
  });

  it('exposes its handlers for msw setupServer, so code using global fetch sees the same registry', async () => {
    const simulation = createSimulation();
    const pat = simulation.createToken({ user: 'octocat', scopes: ['read:packages'] });
    const image = await pushImage(simulation, 'octocat/app', { tag: 'latest' });
    const server = setupServer(...simulation.handlers);
    server.listen({ onUnhandledRequest: 'error' });
    try {
      const challenge = await fetch('https://ghcr.io/v2/');
      expect(challenge.status).toBe(401);
      const manifest = await fetch('https://ghcr.io/v2/octocat/app/manifests/latest', {
        headers: {
          authorization: `Bearer ${Buffer.from(pat).toString('base64')}`,
          accept: image.parsed.mediaType,
        },
      });
      expect(manifest.status).toBe(200);
      expect(manifest.headers.get('docker-content-digest')).toBe(image.digest);
    } finally {
      server.close();
    }
  });
});
