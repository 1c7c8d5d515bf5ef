import { randomBytes } from 'node:crypto';
import { staticCredentials } from '@ghcr/auth';
import { DigestMismatchError, systemClock } from '@ghcr/oci-types';
import { type SimulationServer, startSimulationServer } from '@ghcr/simulation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGhcrClient } from '../client.js';

// A blob source read as a stream on the transport's own connections (no dispatcher: the client
// reaches the simulation's loopback server as it would a registry), by a consumer that allows a
// ring (`recycleAfter`), as an upload does: the reads are copied into a few reused buffers.

const MiB = 1024 * 1024;

describe('a blob source read on the own connections with recycleAfter', () => {
  let server: SimulationServer;
  let token: string;
  beforeAll(async () => {
    server = await startSimulationServer({
      host: '127.0.0.1',
      port: 0,
      simulationOptions: { profile: 'distribution', clock: systemClock },
    });
    server.simulation.createUser('octocat');
    token = server.simulation.createToken({ user: 'octocat', scopes: ['read:packages', 'write:packages'] });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function pushed(size: number) {
    const client = createGhcrClient({
      registry: new URL(server.url).host,
      credentials: staticCredentials({ username: 'octocat', password: token }),
      resumeDelayMs: 1,
    });
    const bytes = randomBytes(size);
    const { descriptor } = await client.blobs.upload('octocat/app', bytes);
    server.simulation.log.clear();
    return { client, bytes, descriptor };
  }

  /**
   * Reads `stream` holding each chunk until it takes the next (a consumer of `recycleAfter: 1`),
   * checking as it takes a chunk that the one before it is still intact. Returns the bytes and the
   * distinct buffers the chunks were views of.
   */
  async function readHoldingOne(stream: AsyncIterable<Uint8Array>, expected: Buffer) {
    const copies: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let previous: { chunk: Uint8Array; at: number } | undefined;
    let at = 0;
    let intact = true;
    for await (const chunk of stream) {
      if (previous !== undefined) {
        const want = expected.subarray(previous.at, previous.at + previous.chunk.byteLength);
        if (Buffer.compare(Buffer.from(previous.chunk), want) !== 0) intact = false;
      }
      copies.push(Buffer.from(chunk));
      buffers.add(chunk.buffer);
      previous = { chunk, at };
      at += chunk.byteLength;
    }
    return { bytes: Buffer.concat(copies), buffers: buffers.size, intact };
  }

  it('hands on every byte in order from a few reused buffers, never one the consumer still holds', async () => {
    const { client, bytes, descriptor } = await pushed(12 * MiB + 333);
    const stream = client.blobs.source('octocat/app', descriptor).open(0, undefined, { recycleAfter: 1 });
    const read = await readHoldingOne(stream as AsyncIterable<Uint8Array>, bytes);
    expect(Buffer.compare(read.bytes, bytes)).toBe(0);
    expect(read.intact).toBe(true);
    // recycleAfter + 2 buffers of 256 KiB for 12 MiB: a new buffer per read would be ~48.
    expect(read.buffers).toBeLessThanOrEqual(3);
    await client.close();
  });

  it('keeps what the ring held across a resumed GET, every byte once', async () => {
    const { client, bytes, descriptor } = await pushed(6 * MiB);
    server.simulation.faults.add({
      operation: 'blob.get',
      nth: 1,
      action: { type: 'reset', afterBytes: 1_000_000 },
    });
    const stream = client.blobs.source('octocat/app', descriptor).open(0, undefined, { recycleAfter: 1 });
    const read = await readHoldingOne(stream as AsyncIterable<Uint8Array>, bytes);
    expect(Buffer.compare(read.bytes, bytes)).toBe(0);
    expect(read.intact).toBe(true);
    const gets = server.simulation.log.byOperation('blob.get');
    expect(gets).toHaveLength(2);
    expect(gets[1]?.requestHeaders.range).toMatch(/^bytes=[1-9]\d*-$/);
    await client.close();
  });

  it('without recycleAfter, every chunk is a buffer of its own', async () => {
    const { client, bytes, descriptor } = await pushed(4 * MiB);
    const stream = client.blobs.source('octocat/app', descriptor).open(0);
    const read = await readHoldingOne(stream as AsyncIterable<Uint8Array>, bytes);
    expect(Buffer.compare(read.bytes, bytes)).toBe(0);
    expect(read.buffers).toBeGreaterThan(3);
    await client.close();
  });

  it('get with recycleAfter verifies as it copies into the ring, from a few reused buffers', async () => {
    const { client, bytes, descriptor } = await pushed(5 * MiB + 17);
    const stream = client.blobs.get('octocat/app', descriptor, { recycleAfter: 1 });
    const read = await readHoldingOne(stream, bytes);
    expect(Buffer.compare(read.bytes, bytes)).toBe(0);
    expect(read.intact).toBe(true);
    expect(read.buffers).toBeLessThanOrEqual(3);
    await client.close();
  });

  it('get with recycleAfter fails a corrupted blob before handing on its last byte', async () => {
    const { client, bytes, descriptor } = await pushed(2 * MiB);
    server.simulation.faults.add({
      operation: 'blob.get',
      count: 1,
      action: { type: 'corrupt', offset: 12345 },
    });
    const stream = client.blobs.get('octocat/app', descriptor, { recycleAfter: 1 });
    let received = 0;
    const error = await (async () => {
      for await (const chunk of stream) received += chunk.byteLength;
    })().catch((caught: unknown) => caught);
    expect(DigestMismatchError.isInstance(error)).toBe(true);
    expect(received).toBeLessThan(bytes.byteLength);
    await client.close();
  });

  it('get with recycleAfter, read with eachView instead, still verifies: a corrupted blob rejects before its last byte is handed on', async () => {
    const { client, descriptor } = await pushed(2 * MiB);
    server.simulation.faults.add({
      operation: 'blob.get',
      count: 1,
      action: { type: 'corrupt', offset: 999 },
    });
    const stream = client.blobs.get('octocat/app', descriptor, { recycleAfter: 1 }) as unknown as {
      eachView(onView: (view: Uint8Array) => Promise<void> | undefined): Promise<void>;
    };
    let views = 0;
    let received = 0;
    const error = await stream
      .eachView((view) => {
        views += 1;
        received += view.byteLength;
        return undefined;
      })
      .catch((caught: unknown) => caught);
    expect(DigestMismatchError.isInstance(error)).toBe(true);
    expect(views).toBeGreaterThan(0);
    // The size is known (the descriptor's): the digest is checked before the view that ends it.
    expect(received).toBeLessThan(2 * MiB);
    await client.close();
  });

  it('get with recycleAfter read with eachView hands on every byte of a good blob, verified once', async () => {
    const { client, bytes, descriptor } = await pushed(3 * MiB + 5);
    const stream = client.blobs.get('octocat/app', descriptor, { recycleAfter: 4 }) as unknown as {
      eachView(onView: (view: Uint8Array) => Promise<void> | undefined): Promise<void>;
    };
    const copies: Buffer[] = [];
    await stream.eachView((view) => {
      copies.push(Buffer.from(view));
      return undefined;
    });
    expect(Buffer.compare(Buffer.concat(copies), bytes)).toBe(0);
    await client.close();
  });
});
