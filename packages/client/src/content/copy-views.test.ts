import { staticCredentials } from '@ghcr/auth';
import { type Clock, DigestMismatchError, digestOf, systemClock } from '@ghcr/oci-types';
import { type SimulationServer, startSimulationServer } from '@ghcr/simulation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGhcrClient, type GhcrClient } from '../client.js';
import { randomImage } from '../testing/images-kit.js';

// A copy between two registries on the transport's own connections (no dispatcher: each client
// reaches a simulation's loopback server as it would a registry): each blob's GET is read view by
// view and written to the upload's socket as it is (`ViewBody`), verified on the way.

const MiB = 1024 * 1024;

describe('a copy to a second registry on the own connections', () => {
  let source: SimulationServer;
  let destination: SimulationServer;
  const tokens = new Map<SimulationServer, string>();
  beforeAll(async () => {
    const start = (): Promise<SimulationServer> =>
      startSimulationServer({
        host: '127.0.0.1',
        port: 0,
        simulationOptions: { profile: 'distribution', clock: systemClock },
      });
    [source, destination] = await Promise.all([start(), start()]);
    for (const server of [source, destination]) {
      server.simulation.createUser('octocat');
      tokens.set(
        server,
        server.simulation.createToken({ user: 'octocat', scopes: ['read:packages', 'write:packages'] }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all([source?.close(), destination?.close()]);
  });

  // Waits between a copy's attempts at a bad blob take no time.
  const clock: Clock = { now: () => Date.now(), sleep: async () => {} };
  /** Each blob PUT's body, by whether it can be read view by view. */
  const putBodies: ('views' | 'other')[] = [];
  const clientOf = (server: SimulationServer): GhcrClient =>
    createGhcrClient({
      registry: new URL(server.url).host,
      credentials: staticCredentials({ username: 'octocat', password: tokens.get(server) as string }),
      resumeDelayMs: 1,
      clock,
      transportOptions: {
        middleware: [
          {
            name: 'put-bodies',
            middleware: (next) => (request, context) => {
              if (request.operation === 'blobs.upload' && request.method === 'PUT') {
                const body = request.body as { eachView?: unknown } | undefined;
                putBodies.push(typeof body?.eachView === 'function' ? 'views' : 'other');
              }
              return next(request, context);
            },
          },
        ],
      },
    });

  /** A random image of `sizes` pushed to the source as `octocat/<name>:v1`. */
  async function seeded(name: string, sizes: readonly number[]) {
    const image = await randomImage(sizes);
    const from = clientOf(source);
    await from.images.push(`octocat/${name}:v1`, { target: image.target, reference: 'v1' });
    return { image, from, to: clientOf(destination) };
  }

  it('moves every blob in one PUT whose body is the GET, and the destination has the bytes exactly', async () => {
    const { image, from, to } = await seeded('views', [5 * MiB + 17, 300 * 1024]);
    destination.simulation.log.clear();
    putBodies.length = 0;
    const result = await from.images.copy('octocat/views:v1', 'octocat/mirror:v1', { destinationClient: to });
    expect(result).toMatchObject({ mounted: 0, bytesTransferred: expect.any(Number) });
    for (const layer of image.layers) {
      const bytes = await to.blobs.getBytes('octocat/mirror', digestOf(layer), { maxBytes: 8 * MiB });
      expect(Buffer.compare(bytes, layer)).toBe(0);
    }
    // Monolithic uploads: a PUT per blob (and the manifest), no PATCH.
    const methods = destination.simulation.log.entries.map((entry) => entry.method);
    expect(methods.filter((method) => method === 'PATCH')).toHaveLength(0);
    expect(methods.filter((method) => method === 'PUT')).toHaveLength(4);
    // The 5 MiB layer's body was the source's views; the small layer and the config (no larger
    // than the 1.5 MiB a ring took) went as before, through a verifying stream.
    expect([...putBodies].sort()).toEqual(['other', 'other', 'views']);
    await Promise.all([from.close(), to.close()]);
  });

  it('fails a blob whose source bytes are corrupt before the upload commits, and the destination has no blob', async () => {
    const { image, from, to } = await seeded('corrupt', [2 * MiB]);
    const layer = digestOf(image.layers[0] as Buffer);
    source.simulation.faults.add({ operation: 'blob.get', action: { type: 'corrupt', offset: 4321 } });
    const error = await from.images
      .copy('octocat/corrupt:v1', 'octocat/corrupt-mirror:v1', { destinationClient: to })
      .catch((caught: unknown) => caught);
    expect(
      DigestMismatchError.isInstance(error) || DigestMismatchError.isInstance((error as Error).cause),
    ).toBe(true);
    expect(await to.blobs.exists('octocat/corrupt-mirror', layer)).toBeUndefined();
    await Promise.all([from.close(), to.close()]);
  });
});
