import { ConfigError, createManualClock } from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import { createGhcrClient } from './client.js';
import {
  DEFAULT_CHUNK_BYTES,
  DEFAULT_MONOLITHIC_BYTES,
  GHCR_MAX_CHUNK_BYTES,
  resolveClientSettings,
} from './options.js';

const dispatcher = { dispatch: () => true } as never;

describe('client options', () => {
  it('defaults to ghcr.io over HTTPS with 4 MiB chunks', () => {
    const settings = resolveClientSettings({ dispatcher });
    expect(settings).toMatchObject({
      host: 'ghcr.io',
      baseUrl: 'https://ghcr.io',
      flavor: 'ghcr',
      chunkSize: GHCR_MAX_CHUNK_BYTES,
      monolithicThreshold: GHCR_MAX_CHUNK_BYTES,
    });
    expect(settings.options.concurrency).toBe(4);
  });

  it.each([
    ['localhost:5000', 'http://localhost:5000'],
    ['127.0.0.1:5000', 'http://127.0.0.1:5000'],
    ['[::1]:5000', 'http://[::1]:5000'],
    ['registry.example.com', 'https://registry.example.com'],
    ['http://10.0.0.5:5000', 'http://10.0.0.5:5000'],
    ['https://localhost:5443/', 'https://localhost:5443'],
  ])('chooses the scheme for %s', (registry, baseUrl) => {
    expect(resolveClientSettings({ registry }).baseUrl).toBe(baseUrl);
  });

  it('sends blobs up to 1 GiB in one PUT to other registries, and honours explicit choices', () => {
    expect(resolveClientSettings({ registry: 'localhost:5000' })).toMatchObject({
      flavor: 'distribution',
      chunkSize: 64 * 1024 * 1024,
      monolithicThreshold: 1024 * 1024 * 1024,
    });
    expect(DEFAULT_CHUNK_BYTES).toBe(64 * 1024 * 1024);
    expect(DEFAULT_MONOLITHIC_BYTES).toBe(1024 * 1024 * 1024);
    // A chunk size above the default threshold raises the threshold with it.
    expect(
      resolveClientSettings({ registry: 'localhost:5000', chunkSize: 1024 * 1024 * 1024 })
        .monolithicThreshold,
    ).toBe(1024 * 1024 * 1024);
    // Forcing the ghcr flavor keeps the 4 MiB single-request cap.
    expect(resolveClientSettings({ registry: 'mirror.local', flavor: 'ghcr' }).monolithicThreshold).toBe(
      GHCR_MAX_CHUNK_BYTES,
    );
    expect(
      resolveClientSettings({
        registry: 'localhost:5000',
        plainHttp: false,
        chunkSize: 1024,
        monolithicThreshold: 0,
      }),
    ).toMatchObject({ baseUrl: 'https://localhost:5000', chunkSize: 1024, monolithicThreshold: 0 });
    expect(resolveClientSettings({ registry: 'mirror.local', flavor: 'ghcr' }).chunkSize).toBe(
      GHCR_MAX_CHUNK_BYTES,
    );
  });

  it.each([
    [{ chunkSize: 8 * 1024 * 1024 }, 'chunkSize', /4 MiB request-body cap/],
    [{ chunkSize: -1 }, 'chunkSize', /chunkSize/],
    [{ registry: 'ghcr.io/octo' }, 'registry', /host\[:port\]/],
    [{ concurrency: 0 }, 'concurrency', /concurrency/],
    [{ flavor: 'quay' }, 'flavor', /flavor/],
    [{ clock: { now: () => 0 } }, 'clock', /must be a Clock/],
    [{ transport: {} }, 'transport', /must be a Transport/],
    [{ registry: 'https://x.test', plainHttp: true }, 'plainHttp', /https:\/\/ URL/],
  ])('refuses %o with a ConfigError naming %s', (options, field, message) => {
    let caught: unknown;
    try {
      createGhcrClient(options as never);
    } catch (error) {
      caught = error;
    }
    expect(ConfigError.isInstance(caught)).toBe(true);
    expect(caught).toMatchObject({ field });
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).toContain(`"${field}"`);
  });

  it('uses a given transport as is and leaves closing it to its owner', async () => {
    let closed = false;
    const transport = {
      send: async () => {
        throw new Error('unused');
      },
      close: async () => {
        closed = true;
      },
    } as never;
    const client = createGhcrClient({ transport, clock: createManualClock() });
    expect(client.transport).toBe(transport);
    await client.close();
    expect(closed).toBe(false);
  });
});

describe('unknown options', () => {
  it('refuses a misspelled option by name, listing the real ones', () => {
    let caught: unknown;
    try {
      resolveClientSettings({ registy: 'quay.io' } as never);
    } catch (error) {
      caught = error;
    }
    expect(ConfigError.isInstance(caught)).toBe(true);
    expect((caught as ConfigError).message).toMatch(
      /^unknown client option "registy": the options are registry, /,
    );
    expect((caught as ConfigError).field).toBe('registy');
  });
});
