import { randomBytes } from 'node:crypto';
import {
  AuthenticationError,
  DigestMismatchError,
  digestOf,
  GhcrError,
  GhcrErrorCode,
  NotFoundError,
  UploadError,
} from '@ghcr/oci-types';
import { settle } from '@ghcr/test-support';
import { describe, expect, it } from 'vitest';
import type { ProgressEvent, PushedEvent } from '../events.js';
import { drain, simulatedClient } from '../testing/simulated-client.js';
import type { BlobSource } from './blob-source.js';

const MiB = 1024 * 1024;

/** The Content-Range headers of the PATCHes the simulation received. */
function patchRanges(sim: ReturnType<typeof simulatedClient>['sim']): (string | undefined)[] {
  return sim.log.byOperation('blob.upload.patch').map((entry) => entry.requestHeaders['content-range']);
}

describe('blobs.upload against the ghcr profile', () => {
  it('uploads a large blob in PATCH chunks of at most 4 MiB, then PUT ?digest=', async () => {
    const { sim, client } = simulatedClient();
    const bytes = randomBytes(10 * MiB + 5);
    const result = await client.blobs.upload('octo/app', bytes);
    expect(result).toEqual({
      method: 'uploaded',
      descriptor: { mediaType: 'application/octet-stream', digest: digestOf(bytes), size: bytes.byteLength },
    });
    const patches = sim.log.byOperation('blob.upload.patch');
    expect(patches.map((entry) => entry.requestBytes)).toEqual([4 * MiB, 4 * MiB, 2 * MiB + 5]);
    expect(patches.every((entry) => entry.status === 202)).toBe(true);
    expect(patchRanges(sim)).toEqual([
      `0-${4 * MiB - 1}`,
      `${4 * MiB}-${8 * MiB - 1}`,
      `${8 * MiB}-${10 * MiB + 4}`,
    ]);
    expect(
      patches.every((entry) => entry.requestHeaders['content-type'] === 'application/octet-stream'),
    ).toBe(true);
    const put = sim.log.byOperation('blob.upload.put');
    expect(put).toHaveLength(1);
    expect(put[0]?.url).toContain(`digest=${encodeURIComponent(digestOf(bytes))}`);
    expect(put[0]?.requestBytes).toBe(0);
  });

  it('uploads a small blob with POST + one PUT, and skips a blob the repository has', async () => {
    const { sim, client } = simulatedClient();
    const bytes = Buffer.from('small config');
    expect((await client.blobs.upload('octo/app', bytes)).method).toBe('uploaded');
    expect(sim.log.byOperation('blob.upload.patch')).toHaveLength(0);
    expect(sim.log.byOperation('blob.upload.put').map((entry) => entry.requestBytes)).toEqual([
      bytes.byteLength,
    ]);
    sim.log.clear();
    expect((await client.blobs.upload('octo/app', bytes)).method).toBe('exists');
    expect(sim.log.entries.map((entry) => entry.operation)).toEqual(['blob.head']);
  });

  it('halves the chunk when the registry refuses one as too large (416), instead of failing', async () => {
    // A client that does not know it talks to ghcr.io sends 8 MiB chunks; GHCR answers 416.
    const { sim, client } = simulatedClient({
      client: { flavor: 'distribution', chunkSize: 8 * MiB, monolithicThreshold: 8 * MiB },
    });
    const bytes = randomBytes(9 * MiB);
    expect((await client.blobs.upload('octo/app', bytes)).method).toBe('uploaded');
    const statuses = sim.log.byOperation('blob.upload.patch').map((entry) => entry.status);
    expect(statuses[0]).toBe(416);
    expect(
      sim.log
        .byOperation('blob.upload.patch')
        .slice(1)
        .every((entry) => entry.requestBytes <= 4 * MiB),
    ).toBe(true);
    expect(Buffer.compare((await drain(client.blobs.get('octo/app', digestOf(bytes)))).bytes, bytes)).toBe(0);
  });

  it('halves the chunk when a proxy refuses one as too large (413)', async () => {
    const { sim, client } = simulatedClient({
      client: { flavor: 'distribution', chunkSize: 2 * MiB, monolithicThreshold: 0 },
    });
    sim.faults.add({ operation: 'blob.upload.patch', nth: 1, action: { type: 'status', status: 413 } });
    const bytes = randomBytes(3 * MiB);
    expect((await client.blobs.upload('octo/app', bytes)).method).toBe('uploaded');
    const patches = sim.log.byOperation('blob.upload.patch');
    expect(patches.map((entry) => entry.status)).toEqual([413, 202, 202, 202]);
    expect(patches.slice(1).map((entry) => entry.requestBytes)).toEqual([MiB, MiB, MiB]);
    expect(Buffer.compare((await drain(client.blobs.get('octo/app', digestOf(bytes)))).bytes, bytes)).toBe(0);
  });

  it.each([416, 413])(
    'switches to chunks of at most 4 MiB when a registry refuses a whole blob in one PUT (%i)',
    async (status) => {
      // A distribution-flavoured client sends a 9 MiB blob in one PUT; this registry refuses it.
      const { sim, client } = simulatedClient({ client: { flavor: 'distribution' } });
      sim.faults.add({ operation: 'blob.upload.put', nth: 1, action: { type: 'status', status } });
      const bytes = randomBytes(9 * MiB);
      expect((await client.blobs.upload('octo/app', bytes)).method).toBe('uploaded');
      const puts = sim.log.byOperation('blob.upload.put');
      expect(puts[0]?.status).toBe(status);
      expect(puts[0]?.requestBytes ?? 0).toBeLessThanOrEqual(9 * MiB);
      // The refused session is cancelled, a new one is opened and filled in 4 MiB chunks.
      expect(sim.log.byOperation('blob.upload.cancel').map((entry) => entry.status)).toEqual([204]);
      expect(sim.log.byOperation('blob.upload.patch').map((entry) => entry.requestBytes)).toEqual([
        4 * MiB,
        4 * MiB,
        MiB,
      ]);
      expect(puts.slice(1).map((entry) => [entry.status, entry.requestBytes])).toEqual([[201, 0]]);
      expect(Buffer.compare((await drain(client.blobs.get('octo/app', digestOf(bytes)))).bytes, bytes)).toBe(
        0,
      );
    },
  );

  it('resumes from the session Range after a 500 on PATCH, without starting over', async () => {
    const { sim, client } = simulatedClient();
    sim.faults.add({ operation: 'blob.upload.patch', nth: 2, action: { type: 'status', status: 500 } });
    const bytes = randomBytes(12 * MiB);
    expect((await client.blobs.upload('octo/app', bytes)).method).toBe('uploaded');
    const operations = sim.log.entries
      .map((entry) => `${entry.operation} ${entry.status}`)
      .filter((line) => line.startsWith('blob.upload'));
    expect(operations).toEqual([
      'blob.upload.start 202',
      'blob.upload.patch 202',
      'blob.upload.patch 500',
      'blob.upload.status 204',
      'blob.upload.patch 202',
      'blob.upload.patch 202',
      'blob.upload.put 201',
    ]);
    expect(patchRanges(sim)).toEqual([
      `0-${4 * MiB - 1}`,
      `${4 * MiB}-${8 * MiB - 1}`,
      `${4 * MiB}-${8 * MiB - 1}`,
      `${8 * MiB}-${12 * MiB - 1}`,
    ]);
  });

  it('resumes from the exact byte the session holds after a connection reset mid-PATCH', async () => {
    const { sim, client } = simulatedClient();
    sim.faults.add({
      operation: 'blob.upload.patch',
      nth: 2,
      action: { type: 'reset', phase: 'request', afterBytes: 1_000_000 },
    });
    const bytes = randomBytes(9 * MiB);
    const seen: ProgressEvent[] = [];
    client.events.on('progress', (event) => seen.push(event));
    expect((await client.blobs.upload('octo/app', bytes)).method).toBe('uploaded');
    const status = sim.log.byOperation('blob.upload.status');
    expect(status).toHaveLength(1);
    const ranges = patchRanges(sim);
    // The session kept the bytes that arrived before the reset: the next chunk starts there.
    const resumedAt = Number(ranges[2]?.split('-')[0]);
    expect(resumedAt).toBeGreaterThan(4 * MiB);
    expect(resumedAt).toBeLessThan(8 * MiB);
    expect(sim.log.byOperation('blob.upload.start')).toHaveLength(1);
    expect(seen.at(-1)).toMatchObject({ operation: 'blobs.upload', bytesDone: 9 * MiB, bytesTotal: 9 * MiB });
    // Progress went back to what the session confirmed, then forward again.
    const done = seen.map((event) => event.bytesDone);
    expect(done.some((value, index) => index > 0 && value < (done[index - 1] ?? 0))).toBe(true);
    expect(Buffer.compare((await drain(client.blobs.get('octo/app', digestOf(bytes)))).bytes, bytes)).toBe(0);
  });

  it('starts a new session when the registry lost the old one', async () => {
    const { sim, client } = simulatedClient();
    sim.faults.add({ operation: 'blob.upload.patch', nth: 2, action: { type: 'status', status: 503 } });
    sim.faults.add({ operation: 'blob.upload.status', action: { type: 'status', status: 404 }, count: 1 });
    const bytes = randomBytes(9 * MiB);
    expect((await client.blobs.upload('octo/app', bytes)).method).toBe('uploaded');
    expect(sim.log.byOperation('blob.upload.start')).toHaveLength(2);
    expect(patchRanges(sim).slice(2)).toEqual([
      `0-${4 * MiB - 1}`,
      `${4 * MiB}-${8 * MiB - 1}`,
      `${8 * MiB}-${9 * MiB - 1}`,
    ]);
  });

  it('gives up after maxResumeAttempts consecutive failures with an UploadError carrying the offset', async () => {
    const { sim, client, clock, sleeps } = simulatedClient({
      client: { maxResumeAttempts: 2, resumeDelayMs: 100 },
    });
    sim.faults.add({
      operation: 'blob.upload.patch',
      nth: 2,
      count: 10,
      action: { type: 'status', status: 502 },
    });
    const error = await settle(
      client.blobs.upload('octo/app', randomBytes(9 * MiB)).catch((caught: unknown) => caught),
      clock,
    );
    // First resume at once, the second after resumeDelayMs.
    expect(sleeps).toEqual([100]);
    expect(UploadError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: GhcrErrorCode.CHUNK_FAILED, offset: 4 * MiB });
    expect((error as Error).message).toMatch(/failed at byte 4194304 of 9437184 after 3 attempts/);
    expect(sim.log.byOperation('blob.upload.cancel')).toHaveLength(1);
  });

  it('streams from a re-readable source and re-opens it at the offset to resume', async () => {
    const { sim, client } = simulatedClient();
    sim.faults.add({ operation: 'blob.upload.patch', nth: 2, action: { type: 'status', status: 500 } });
    const bytes = randomBytes(9 * MiB);
    const opened: number[] = [];
    const source: BlobSource = {
      size: bytes.byteLength,
      open(offset) {
        opened.push(offset);
        return (async function* () {
          for (let at = offset; at < bytes.byteLength; at += 64 * 1024)
            yield bytes.subarray(at, at + 64 * 1024);
        })();
      },
    };
    await client.blobs.upload('octo/app', source, { digest: digestOf(bytes) });
    expect(opened).toEqual([0, 4 * MiB]);
  });

  it('computes the digest with a first pass when none is given, and refuses a wrong one', async () => {
    const { client } = simulatedClient();
    const bytes = Buffer.from('content');
    const source: BlobSource = {
      open: () =>
        (async function* () {
          yield bytes;
        })(),
    };
    const result = await client.blobs.upload('octo/app', source);
    expect(result.descriptor).toMatchObject({ digest: digestOf(bytes), size: bytes.byteLength });
    const wrong = await client.blobs
      .upload('octo/app', source, { digest: digestOf('other') })
      .catch((error: unknown) => error);
    expect(DigestMismatchError.isInstance(wrong)).toBe(true);
  });

  it('mounts from another repository (201) and emits a pushed event saying so', async () => {
    const { sim, client } = simulatedClient();
    const bytes = randomBytes(1000);
    await client.blobs.upload('octo/source', bytes);
    const events: PushedEvent[] = [];
    client.events.on('pushed', (event) => events.push(event));
    sim.log.clear();
    const result = await client.blobs.upload('octo/target', bytes, { mountFrom: 'octo/source' });
    expect(result.method).toBe('mounted');
    expect(sim.log.entries.map((entry) => `${entry.operation} ${entry.status}`)).toEqual([
      'blob.head 404',
      'blob.upload.start 201',
    ]);
    expect(events).toEqual([
      expect.objectContaining({ kind: 'blob', repository: 'octo/target', method: 'mounted', size: 1000 }),
    ]);
  });

  it('continues the upload a refused mount opened (202)', async () => {
    const { sim, client } = simulatedClient();
    const bytes = randomBytes(1000);
    const result = await client.blobs.upload('octo/target', bytes, { mountFrom: 'octo/nothing-here' });
    expect(result.method).toBe('uploaded');
    expect(sim.log.byOperation('blob.upload.start')).toHaveLength(1);
    expect(sim.log.byOperation('blob.upload.put')[0]?.status).toBe(201);
  });

  it('stops at once when aborted', async () => {
    const { client } = simulatedClient();
    const controller = new AbortController();
    controller.abort();
    const error = await client.blobs
      .upload('octo/app', randomBytes(10), { signal: controller.signal, digest: digestOf('x'), size: 10 })
      .catch((caught: unknown) => caught);
    expect(GhcrError.isInstance(error)).toBe(true);
    expect((error as GhcrError).code).toBe(GhcrErrorCode.ABORTED);
  });
});

describe('blobs.uploadStream against the ghcr profile', () => {
  async function* piecesOf(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
    for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size);
  }

  it('sends a stream of unknown digest in one PATCH with no declared length, then PUT ?digest= of what was sent', async () => {
    const { sim, client } = simulatedClient();
    const pushed: PushedEvent[] = [];
    client.events.on('pushed', (event) => pushed.push(event));
    // Over GHCR's 4 MiB cap on a body with a declared length: a streamed body has none.
    const bytes = randomBytes(10 * MiB + 3);
    const result = await client.blobs.uploadStream('octo/app', piecesOf(bytes, MiB), {
      mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
    });
    expect(result).toEqual({
      method: 'uploaded',
      descriptor: {
        mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
        digest: digestOf(bytes),
        size: bytes.byteLength,
      },
    });
    expect(
      sim.log.entries
        .map((entry) => `${entry.operation} ${entry.status}`)
        .filter((line) => line.startsWith('blob')),
    ).toEqual(['blob.upload.start 202', 'blob.upload.patch 202', 'blob.upload.put 201']);
    const [patch] = sim.log.byOperation('blob.upload.patch');
    expect(patch?.requestBytes).toBe(bytes.byteLength);
    expect(patch?.requestHeaders['content-length']).toBeUndefined();
    expect(patch?.requestHeaders['content-range']).toBeUndefined();
    const [put] = sim.log.byOperation('blob.upload.put');
    expect(put?.url).toContain(`digest=${encodeURIComponent(digestOf(bytes))}`);
    expect(put?.requestBytes).toBe(0);
    expect(
      (await client.blobs.getBytes('octo/app', digestOf(bytes), { maxBytes: 16 * MiB })).equals(bytes),
    ).toBe(true);
    expect(pushed.map((event) => [event.kind, event.digest, event.method])).toEqual([
      ['blob', digestOf(bytes), 'uploaded'],
    ]);
  });

  it('cancels the session and rejects when the PATCH fails: nothing is committed, nothing resent', async () => {
    const { sim, client } = simulatedClient();
    sim.faults.add({ operation: 'blob.upload.patch', nth: 1, action: { type: 'status', status: 500 } });
    const bytes = randomBytes(2 * MiB);
    await expect(client.blobs.uploadStream('octo/app', piecesOf(bytes, MiB))).rejects.toBeInstanceOf(
      GhcrError,
    );
    expect(
      sim.log.entries.map((entry) => entry.operation).filter((operation) => operation?.startsWith('blob')),
    ).toEqual(['blob.upload.start', 'blob.upload.patch', 'blob.upload.cancel']);
    expect(await client.blobs.exists('octo/app', digestOf(bytes))).toBeUndefined();
  });

  it('stops when aborted mid-stream: the session is cancelled, nothing committed', async () => {
    const { sim, client } = simulatedClient();
    const controller = new AbortController();
    async function* slowToEnd(): AsyncGenerator<Buffer> {
      yield randomBytes(MiB);
      controller.abort();
      yield randomBytes(MiB);
    }
    const error = await client.blobs
      .uploadStream('octo/app', slowToEnd(), { signal: controller.signal })
      .catch((caught: unknown) => caught);
    expect((error as GhcrError).code).toBe(GhcrErrorCode.ABORTED);
    expect(sim.log.byOperation('blob.upload.put')).toHaveLength(0);
    expect(sim.log.byOperation('blob.upload.cancel')).toHaveLength(1);
  });

  it('cancels the session when the stream itself fails, with the stream’s error', async () => {
    const { sim, client } = simulatedClient();
    async function* broken(): AsyncGenerator<Buffer> {
      yield randomBytes(MiB);
      throw new Error('the compressor broke');
    }
    await expect(client.blobs.uploadStream('octo/app', broken())).rejects.toThrow('the compressor broke');
    expect(sim.log.byOperation('blob.upload.put')).toHaveLength(0);
    expect(sim.log.byOperation('blob.upload.cancel')).toHaveLength(1);
  });
});

describe('blobs.get against the ghcr profile', () => {
  async function pushed(size: number) {
    const context = simulatedClient();
    const bytes = randomBytes(size);
    const { descriptor } = await context.client.blobs.upload('octo/app', bytes);
    context.sim.log.clear();
    return { ...context, bytes, descriptor };
  }

  it('follows the 307 to the blob host without the Authorization header', async () => {
    const { sim, client, bytes, descriptor } = await pushed(100_000);
    const { bytes: received, error } = await drain(client.blobs.get('octo/app', descriptor));
    expect(error).toBeUndefined();
    expect(Buffer.compare(received, bytes)).toBe(0);
    const [registry, blobHost] = sim.log.entries;
    expect(registry).toMatchObject({
      operation: 'blob.get',
      status: 307,
      hadAuthorization: true,
      host: 'ghcr.io',
    });
    expect(blobHost).toMatchObject({
      operation: 'blobhost.get',
      status: 200,
      hadAuthorization: false,
      host: 'pkg-containers.githubusercontent.com',
    });
  });

  it('resumes with Range after the connection resets mid-body and verifies the whole', async () => {
    const { sim, client, bytes, descriptor } = await pushed(3 * MiB);
    sim.faults.add({ operation: 'blobhost.get', nth: 1, action: { type: 'reset', afterBytes: 1_000_000 } });
    const { bytes: received, error } = await drain(client.blobs.get('octo/app', descriptor));
    expect(error).toBeUndefined();
    expect(Buffer.compare(received, bytes)).toBe(0);
    const hostGets = sim.log.byOperation('blobhost.get');
    expect(hostGets).toHaveLength(2);
    expect(hostGets[1]?.requestHeaders.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/bytes=(\d+)-/.exec(hostGets[1]?.requestHeaders.range ?? '')?.[1])).toBeGreaterThan(0);
    expect(hostGets[1]?.status).toBe(206);
    expect(hostGets.every((entry) => !entry.hadAuthorization)).toBe(true);
  });

  it('errors with DigestMismatchError on a corrupted body before handing on the last byte', async () => {
    const { sim, client, bytes, descriptor } = await pushed(2 * MiB);
    sim.faults.add({ operation: 'blobhost.get', action: { type: 'corrupt', offset: 12345 } });
    const { bytes: received, error } = await drain(client.blobs.get('octo/app', descriptor));
    expect(DigestMismatchError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ expected: descriptor.digest });
    expect(received.byteLength).toBeLessThan(bytes.byteLength);
  });

  it('refuses a body longer than the descriptor says', async () => {
    const { client, descriptor } = await pushed(1000);
    const { error } = await drain(client.blobs.get('octo/app', { digest: descriptor.digest, size: 999 }));
    expect(error).toMatchObject({ code: GhcrErrorCode.SIZE_MISMATCH });
  });

  it('reports an unknown blob as NotFoundError through the stream', async () => {
    const { client } = await pushed(10);
    const { bytes: received, error } = await drain(client.blobs.get('octo/app', digestOf('never pushed')));
    expect(received.byteLength).toBe(0);
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'BLOB_UNKNOWN' });
  });

  it('exists answers the descriptor, or undefined', async () => {
    const { client, descriptor } = await pushed(1234);
    expect(await client.blobs.exists('octo/app', descriptor.digest)).toEqual(descriptor);
    expect(await client.blobs.exists('octo/app', digestOf('nope'))).toBeUndefined();
  });

  it('getBytes refuses a blob over its cap, and source() reads from an offset', async () => {
    const { client, bytes, descriptor } = await pushed(5000);
    await expect(client.blobs.getBytes('octo/app', descriptor, { maxBytes: 100 })).rejects.toThrow(
      /over the 100-byte limit/,
    );
    expect(Buffer.compare(await client.blobs.getBytes('octo/app', descriptor), bytes)).toBe(0);
    const tail = await drain(client.blobs.source('octo/app', descriptor).open(4000));
    expect(Buffer.compare(tail.bytes, bytes.subarray(4000))).toBe(0);
  });

  it('emits progress for a download', async () => {
    const { client, descriptor } = await pushed(3 * MiB);
    const seen: ProgressEvent[] = [];
    client.events.on('progress', (event) => seen.push(event));
    await drain(client.blobs.get('octo/app', descriptor));
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.at(-1)).toMatchObject({ operation: 'blobs.get', bytesDone: 3 * MiB, bytesTotal: 3 * MiB });
  });
});

describe('a blob source read with eachView (how a pull writes files)', () => {
  type ViewReader = { eachView(onView: (view: Uint8Array) => Promise<void> | undefined): Promise<void> };

  async function pushed(size: number, options: Parameters<typeof simulatedClient>[0] = {}) {
    const context = simulatedClient(options);
    const bytes = randomBytes(size);
    const { descriptor } = await context.client.blobs.upload('octo/app', bytes);
    context.sim.log.clear();
    return { ...context, bytes, descriptor };
  }

  it('hands on every byte once, in order, resuming with Range after a reset mid-body', async () => {
    const { sim, client, bytes, descriptor } = await pushed(3 * MiB);
    sim.faults.add({ operation: 'blobhost.get', nth: 1, action: { type: 'reset', afterBytes: 1_000_000 } });
    const stream = client.blobs.source('octo/app', descriptor).open(0) as unknown as ViewReader;
    const pieces: Buffer[] = [];
    await stream.eachView((view) => {
      pieces.push(Buffer.from(view));
      // Every other piece makes the source wait, as a busy disk does.
      return pieces.length % 2 === 0 ? new Promise((resolve) => setImmediate(resolve)) : undefined;
    });
    expect(Buffer.compare(Buffer.concat(pieces), bytes)).toBe(0);
    const hostGets = sim.log.byOperation('blobhost.get');
    expect(hostGets).toHaveLength(2);
    expect(hostGets[1]?.status).toBe(206);
  });

  it('does not fetch again when the consumer fails: its error is the answer', async () => {
    const { sim, client, descriptor } = await pushed(2 * MiB);
    const stream = client.blobs.source('octo/app', descriptor).open(0) as unknown as ViewReader;
    const failure = new Error('disk full');
    let calls = 0;
    const error = await stream
      .eachView(() => {
        calls += 1;
        return calls === 3 ? Promise.reject(failure) : undefined;
      })
      .catch((caught: unknown) => caught);
    expect(error).toBe(failure);
    expect(sim.log.byOperation('blobhost.get')).toHaveLength(1);
  });

  it('skips what already arrived when a resumed GET restarts from byte 0 (200 to a Range)', async () => {
    const { sim, client, bytes, descriptor } = await pushed(2 * MiB, {
      profile: 'distribution',
      client: {
        transportOptions: {
          middleware: [
            {
              name: 'ignore-range',
              middleware: (next) => (request, context) => {
                const { range: _dropped, ...headers } = request.headers ?? {};
                return next({ ...request, headers }, context);
              },
            },
          ],
        },
      },
    });
    sim.faults.add({ operation: 'blob.get', nth: 1, action: { type: 'reset', afterBytes: 700_000 } });
    const stream = client.blobs.source('octo/app', descriptor).open(0) as unknown as ViewReader;
    const pieces: Buffer[] = [];
    await stream.eachView((view) => {
      pieces.push(Buffer.from(view));
      return undefined;
    });
    expect(Buffer.compare(Buffer.concat(pieces), bytes)).toBe(0);
    expect(sim.log.byOperation('blob.get').map((entry) => entry.status)).toEqual([200, 200]);
  });
});

describe('blobs against the distribution profile', () => {
  it('appends digest to the absolute ?_state= Location and reads the blob without a redirect', async () => {
    const { sim, client } = simulatedClient({
      profile: 'distribution',
      client: { chunkSize: MiB, monolithicThreshold: MiB },
    });
    const bytes = randomBytes(3 * MiB);
    await client.blobs.upload('octo/app', bytes);
    const put = sim.log.byOperation('blob.upload.put')[0];
    expect(put?.url).toMatch(/\?_state=[^&]+&digest=sha256%3A[0-9a-f]{64}$/);
    expect(sim.log.byOperation('blob.upload.patch')).toHaveLength(3);
    sim.log.clear();
    expect(Buffer.compare((await drain(client.blobs.get('octo/app', digestOf(bytes)))).bytes, bytes)).toBe(0);
    expect(sim.log.entries.map((entry) => `${entry.operation} ${entry.status}`)).toEqual(['blob.get 200']);
  });

  it('restarts a download cleanly when the registry answers a Range request with 200', async () => {
    // A registry (or proxy) that ignores Range: the header never reaches the simulation.
    const { sim, client } = simulatedClient({
      profile: 'distribution',
      client: {
        transportOptions: {
          retry: { random: () => 0 },
          middleware: [
            {
              name: 'ignore-range',
              middleware: (next) => (request, context) => {
                const { range: _dropped, ...headers } = request.headers ?? {};
                return next({ ...request, headers }, context);
              },
            },
          ],
        },
      },
    });
    const bytes = randomBytes(2 * MiB);
    await client.blobs.upload('octo/app', bytes);
    sim.log.clear();
    sim.faults.add({ operation: 'blob.get', nth: 1, action: { type: 'reset', afterBytes: 700_000 } });
    const { bytes: received, error } = await drain(
      client.blobs.get('octo/app', { digest: digestOf(bytes), size: bytes.byteLength }),
    );
    expect(error).toBeUndefined();
    expect(Buffer.compare(received, bytes)).toBe(0);
    expect(sim.log.byOperation('blob.get').map((entry) => entry.status)).toEqual([200, 200]);
  });
});

describe('anonymous access', () => {
  it('pulls a public image with no credentials (anonymous token)', async () => {
    const owner = simulatedClient();
    const bytes = Buffer.from('public layer');
    await owner.client.blobs.upload('octo/public', bytes);
    owner.sim.setVisibility('octo', 'public', 'public');
    const { createGhcrClient } = await import('../client.js');
    const anonymous = createGhcrClient({ dispatcher: owner.sim.dispatcher(), clock: owner.clock });
    expect(Buffer.compare(await anonymous.blobs.getBytes('octo/public', digestOf(bytes)), bytes)).toBe(0);
    const denied = await anonymous.blobs
      .upload('octo/public', Buffer.from('x'))
      .catch((caught: unknown) => caught);
    // Refused at once (no resume loop): the credentials, not the connection, are the problem.
    expect(AuthenticationError.isInstance(denied)).toBe(true);
    expect(
      owner.sim.log.byOperation('blob.upload.start').filter((entry) => entry.status === 401),
    ).toHaveLength(1);
  });
});
