import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { buildImageManifest } from '@ghcr/manifest';
import { digestOf, type GhcrError, MediaType, NotFoundError } from '@ghcr/oci-types';
import { describeWithBinaries, useDockerRegistry } from '@ghcr/test-support/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGhcrClient } from './client.js';
import type { ClientEventMap } from './events.js';
import { fileSource } from './registry/blob-source.js';
import { createRequestLog, type LoggedRequest } from './testing/request-log.js';
import { startTcpProxy } from './testing/tcp-proxy.js';

const MiB = 1024 * 1024;

function clientFor(host: string, extra: Parameters<typeof createGhcrClient>[0] = {}) {
  const log = createRequestLog();
  const client = createGhcrClient({
    registry: host,
    transportOptions: { middleware: [log.middleware], retry: { baseDelayMs: 10, maxDelayMs: 50 } },
    resumeDelayMs: 10,
    ...extra,
  });
  return { client, log: log.entries };
}

async function sha256Of(stream: AsyncIterable<Uint8Array>): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

async function writeRandomFile(
  dir: string,
  name: string,
  size: number,
): Promise<{ path: string; digest: string }> {
  const path = join(dir, name);
  const hash = createHash('sha256');
  async function* pieces() {
    for (let at = 0; at < size; at += MiB) {
      const piece = randomBytes(Math.min(MiB, size - at));
      hash.update(piece);
      yield piece;
    }
  }
  await pipeline(pieces(), createWriteStream(path));
  return { path, digest: `sha256:${hash.digest('hex')}` };
}

const patches = (log: readonly LoggedRequest[]) => log.filter((entry) => entry.method === 'PATCH');

describeWithBinaries(['docker-registry'], 'docker-registry integration', () => {
  const registry = useDockerRegistry();
  let workDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'ghcr-client-integ-'));
  });
  afterAll(async () => {
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  it('plain HTTP is chosen for loopback and the flavor is distribution', () => {
    const { client } = clientFor(registry.host);
    expect(client.baseUrl).toBe(registry.url);
    expect(client.flavor).toBe('distribution');
  });

  it('pushes a small blob monolithically, skips it the second time, and reads it back verified', async () => {
    const { client, log } = clientFor(registry.host);
    const bytes = randomBytes(100_000);
    const first = await client.blobs.upload('integ/mono', bytes);
    expect(first.method).toBe('uploaded');
    expect(first.descriptor).toEqual({
      mediaType: 'application/octet-stream',
      digest: digestOf(bytes),
      size: bytes.byteLength,
    });
    expect(log.filter((e) => e.method === 'PUT')).toHaveLength(1);
    expect(patches(log)).toHaveLength(0);
    const again = await client.blobs.upload('integ/mono', bytes);
    expect(again.method).toBe('exists');
    expect(await client.blobs.exists('integ/mono', digestOf(bytes))).toEqual(first.descriptor);
    expect(await client.blobs.exists('integ/mono', digestOf(Buffer.from('absent')))).toBeUndefined();
    const read = await sha256Of(client.blobs.get('integ/mono', first.descriptor));
    expect(read).toEqual({ digest: digestOf(bytes), size: bytes.byteLength });
    expect(Buffer.compare(await client.blobs.getBytes('integ/mono', first.descriptor), bytes)).toBe(0);
  });

  it('pushes a 24 MiB file in one PUT read through a ring of reused buffers, whole', async () => {
    // The upload reads a file into 5 buffers used in turn (recycleAfter): a buffer refilled before
    // the socket had sent it would change the bytes, and the registry would refuse the digest.
    const { client, log } = clientFor(registry.host);
    const file = await writeRandomFile(workDir, 'ring.bin', 24 * MiB + 7);
    const result = await client.blobs.upload('integ/ring', await fileSource(file.path), {
      digest: file.digest,
    });
    expect(result).toMatchObject({ method: 'uploaded', descriptor: { digest: file.digest } });
    expect(log.filter((entry) => entry.method === 'PUT')).toHaveLength(1);
    const read = await sha256Of(client.blobs.get('integ/ring', result.descriptor));
    expect(read).toEqual({ digest: file.digest, size: 24 * MiB + 7 });
  });

  it('pushes a file in PATCH chunks that cut across the ring buffers, whole', async () => {
    // Chunks of 700 KiB + 3 over 1 MiB read buffers: a buffer's rest goes in the next request.
    const { client, log } = clientFor(registry.host, {
      chunkSize: 700 * 1024 + 3,
      monolithicThreshold: MiB,
    });
    const file = await writeRandomFile(workDir, 'ring-chunks.bin', 6 * MiB + 5);
    const result = await client.blobs.upload('integ/ring-chunks', await fileSource(file.path), {
      digest: file.digest,
    });
    expect(result).toMatchObject({ method: 'uploaded', descriptor: { digest: file.digest } });
    expect(patches(log)).toHaveLength(9);
    const read = await sha256Of(client.blobs.get('integ/ring-chunks', result.descriptor));
    expect(read).toEqual({ digest: file.digest, size: 6 * MiB + 5 });
  });

  it('pushes a large file in chunks with Content-Range and a Location carrying ?_state=', async () => {
    const { client, log } = clientFor(registry.host, { chunkSize: MiB, monolithicThreshold: MiB });
    const file = await writeRandomFile(workDir, 'chunked.bin', 5 * MiB + 123);
    const progress: ClientEventMap['progress'][] = [];
    client.events.on('progress', (event) => progress.push(event));
    const result = await client.blobs.upload('integ/chunked', await fileSource(file.path));
    expect(result).toMatchObject({
      method: 'uploaded',
      descriptor: { digest: file.digest, size: 5 * MiB + 123 },
    });
    const ranges = patches(log).map((entry) => entry.contentRange);
    expect(ranges).toEqual([
      `0-${MiB - 1}`,
      `${MiB}-${2 * MiB - 1}`,
      `${2 * MiB}-${3 * MiB - 1}`,
      `${3 * MiB}-${4 * MiB - 1}`,
      `${4 * MiB}-${5 * MiB - 1}`,
      `${5 * MiB}-${5 * MiB + 122}`,
    ]);
    const put = log.find((entry) => entry.method === 'PUT');
    expect(put?.url).toMatch(/\?_state=[^&]+&digest=sha256%3A[0-9a-f]{64}$/);
    expect(progress.at(-1)).toMatchObject({ bytesDone: 5 * MiB + 123, bytesTotal: 5 * MiB + 123 });
    const read = await sha256Of(client.blobs.get('integ/chunked', result.descriptor));
    expect(read.digest).toBe(file.digest);
  });

  it('mounts a blob from another repository (201) and uploads when the source lacks it (202)', async () => {
    const { client, log } = clientFor(registry.host);
    const bytes = randomBytes(50_000);
    await client.blobs.upload('integ/mount-source', bytes);
    const mounted = await client.blobs.upload('integ/mount-target', bytes, {
      mountFrom: 'integ/mount-source',
    });
    expect(mounted.method).toBe('mounted');
    expect(log.filter((e) => e.method === 'PUT' && e.url.includes('mount-target'))).toHaveLength(0);
    expect(await client.blobs.exists('integ/mount-target', mounted.descriptor.digest)).toBeDefined();

    const other = randomBytes(40_000);
    const fallback = await client.blobs.upload('integ/mount-target', other, {
      mountFrom: 'integ/empty-source',
    });
    expect(fallback.method).toBe('uploaded');
    // The 202 session the mount opened was used: one POST (the mount), no second one.
    const posts = log.filter((e) => e.method === 'POST' && e.url.includes('mount-target'));
    expect(posts.filter((e) => !e.url.includes('mount='))).toHaveLength(0);
    const read = await sha256Of(client.blobs.get('integ/mount-target', fallback.descriptor));
    expect(read.digest).toBe(digestOf(other));
  });

  it('resumes a chunked upload from the session offset when the connection drops before a PATCH reaches the registry', async () => {
    const proxy = await startTcpProxy(registry.port, {
      kind: 'on-request',
      requestLine: /^PATCH /,
      occurrence: 3,
    });
    try {
      const { client, log } = clientFor(proxy.host, { chunkSize: MiB, monolithicThreshold: MiB });
      const file = await writeRandomFile(workDir, 'resume-offset.bin', 4 * MiB + 10);
      const result = await client.blobs.upload('integ/resume-offset', await fileSource(file.path));
      expect(proxy.cuts).toBe(1);
      expect(result.method).toBe('uploaded');
      const failed = patches(log).findIndex((entry) => entry.error !== undefined);
      expect(failed).toBe(2);
      // After the drop: the session's status, then the same chunk again from byte 2 MiB, one session only.
      const status = log.find((entry) => entry.operation === 'blobs.upload-status');
      expect(status?.status).toBe(204);
      expect(patches(log)[3]?.contentRange).toBe(`${2 * MiB}-${3 * MiB - 1}`);
      expect(log.filter((entry) => entry.method === 'POST')).toHaveLength(1);
      const read = await sha256Of(client.blobs.get('integ/resume-offset', result.descriptor));
      expect(read.digest).toBe(file.digest);
    } finally {
      await proxy.close();
    }
  });

  it('recovers from a connection cut in the middle of a PATCH body (distribution then restarts the session)', async () => {
    // Cut 2.5 MiB into the request stream: inside the third chunk's body.
    const proxy = await startTcpProxy(registry.port, { kind: 'after-bytes', bytes: 2.5 * MiB });
    try {
      const { client, log } = clientFor(proxy.host, { chunkSize: MiB, monolithicThreshold: MiB });
      const file = await writeRandomFile(workDir, 'resume-cut.bin', 4 * MiB);
      const result = await client.blobs.upload('integ/resume-cut', await fileSource(file.path));
      expect(proxy.cuts).toBe(1);
      expect(result.method).toBe('uploaded');
      expect(patches(log).some((entry) => entry.error !== undefined)).toBe(true);
      // distribution's signed `_state` no longer matches the partly written session: status 404
      // BLOB_UPLOAD_INVALID, and the client starts a new session from byte 0.
      const status = log.find((entry) => entry.operation === 'blobs.upload-status');
      expect(status?.status).toBe(404);
      expect(log.filter((entry) => entry.method === 'POST')).toHaveLength(2);
      const read = await sha256Of(client.blobs.get('integ/resume-cut', result.descriptor));
      expect(read.digest).toBe(file.digest);
    } finally {
      await proxy.close();
    }
  });

  it('resumes a download with Range after the connection drops mid-body, and verifies it', async () => {
    const { client: direct } = clientFor(registry.host);
    const bytes = randomBytes(3 * MiB);
    const pushed = await direct.blobs.upload('integ/download', bytes);
    const proxy = await startTcpProxy(registry.port, { kind: 'after-response-bytes', bytes: MiB + 777 });
    try {
      const { client, log } = clientFor(proxy.host);
      const read = await sha256Of(client.blobs.get('integ/download', pushed.descriptor));
      expect(read).toEqual({ digest: digestOf(bytes), size: bytes.byteLength });
      expect(proxy.cuts).toBe(1);
      const gets = log.filter((entry) => entry.operation === 'blobs.get');
      expect(gets).toHaveLength(2);
      expect(gets[1]?.range).toMatch(/^bytes=\d+-$/);
      expect(gets[1]?.status).toBe(206);
    } finally {
      await proxy.close();
    }
  });

  it('puts, gets, heads and deletes manifests with exact bytes', async () => {
    const { client } = clientFor(registry.host);
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
    );
    const layer = randomBytes(2048);
    const configDescriptor = (
      await client.blobs.upload('integ/manifests', config, { mediaType: MediaType.OciConfig })
    ).descriptor;
    const layerDescriptor = (
      await client.blobs.upload('integ/manifests', layer, { mediaType: MediaType.OciLayerGzip })
    ).descriptor;
    const manifest = buildImageManifest({ config: configDescriptor, layers: [layerDescriptor] });
    const events: ClientEventMap['pushed'][] = [];
    client.events.on('pushed', (event) => events.push(event));
    const descriptor = await client.manifests.put('integ/manifests', manifest, { tags: ['v1', 'latest'] });
    expect(descriptor).toEqual({
      mediaType: MediaType.OciManifest,
      digest: manifest.digest,
      size: manifest.size,
    });
    expect(events).toEqual([
      expect.objectContaining({ kind: 'manifest', digest: manifest.digest, tags: ['v1', 'latest'] }),
    ]);
    const byTag = await client.manifests.get('integ/manifests', 'v1');
    expect(Buffer.compare(Buffer.from(byTag.bytes), Buffer.from(manifest.bytes))).toBe(0);
    expect(byTag.digest).toBe(manifest.digest);
    const byDigest = await client.manifests.get('integ/manifests', manifest.digest);
    expect(byDigest.kind).toBe('oci-manifest');
    expect(await client.manifests.head('integ/manifests', 'latest')).toEqual({
      mediaType: MediaType.OciManifest,
      digest: manifest.digest,
      size: manifest.size,
    });
    expect(await client.manifests.head('integ/manifests', 'nope')).toBeUndefined();
    await client.manifests.delete('integ/manifests', manifest.digest);
    const error = await client.manifests
      .get('integ/manifests', manifest.digest)
      .catch((caught: unknown) => caught);
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect((error as GhcrError).code).toBe('MANIFEST_UNKNOWN');
  });

  it('lists, tags and untags: the tag goes, the image stays', async () => {
    const { client } = clientFor(registry.host);
    const config = Buffer.from('{"architecture":"arm64","os":"linux"}');
    const configDescriptor = (
      await client.blobs.upload('integ/tags', config, { mediaType: MediaType.OciConfig })
    ).descriptor;
    const manifest = buildImageManifest({ config: configDescriptor, layers: [], annotations: { n: '1' } });
    await client.manifests.put('integ/tags', manifest, { tags: ['a'] });
    const tagged: ClientEventMap['tagged'][] = [];
    client.events.on('tagged', (event) => tagged.push(event));
    await client.tags.tag('integ/tags', 'a', ['b', 'c', 'd', 'e']);
    expect(tagged[0]).toMatchObject({ digest: manifest.digest, tags: ['b', 'c', 'd', 'e'] });
    expect((await client.tags.list('integ/tags')).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await client.tags.list('integ/tags', { limit: 2 })).toHaveLength(2);

    const deleted: ClientEventMap['deleted'][] = [];
    client.events.on('deleted', (event) => deleted.push(event));
    const result = await client.tags.untag('integ/tags', 'c');
    expect(result).toMatchObject({
      tag: 'c',
      previousDigest: manifest.digest,
      method: 'placeholder-deleted',
    });
    expect((await client.tags.list('integ/tags')).sort()).toEqual(['a', 'b', 'd', 'e']);
    expect((await client.manifests.head('integ/tags', 'a'))?.digest).toBe(manifest.digest);
    expect(deleted[0]).toMatchObject({ kind: 'tag', tags: ['c'], digest: manifest.digest });

    const missing = await client.tags.untag('integ/tags', 'zzz').catch((caught: unknown) => caught);
    expect(NotFoundError.isInstance(missing)).toBe(true);
  });
});
