import { buildImageManifest, buildIndex } from '@ghcr/manifest';
import {
  DigestMismatchError,
  digestOf,
  GhcrErrorCode,
  InvalidInputError,
  MANIFEST_ACCEPT_HEADER,
  MediaType,
  NotFoundError,
  ProtocolError,
} from '@ghcr/oci-types';
import { settle } from '@ghcr/test-support';
import { describe, expect, it } from 'vitest';
import type { GhcrClient } from '../client.js';
import type { DeletedEvent, PushedEvent, RetryEvent } from '../events.js';
import { simulatedClient } from '../testing/simulated-client.js';

async function pushImage(client: GhcrClient, repository: string, label: string, tags: string[] = []) {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', label }));
  const layer = Buffer.from(`layer of ${label}`);
  const configDescriptor = (await client.blobs.upload(repository, config, { mediaType: MediaType.OciConfig }))
    .descriptor;
  const layerDescriptor = (
    await client.blobs.upload(repository, layer, { mediaType: MediaType.OciLayerGzip })
  ).descriptor;
  const manifest = buildImageManifest({ config: configDescriptor, layers: [layerDescriptor] });
  await client.manifests.put(repository, manifest, { tags });
  return manifest;
}

describe('manifests against the ghcr profile', () => {
  it('puts under several tags and gets the exact bytes back by tag and by digest', async () => {
    const { sim, client } = simulatedClient();
    const events: PushedEvent[] = [];
    client.events.on('pushed', (event) => events.push(event));
    const manifest = await pushImage(client, 'octo/app', 'one', ['v1', 'latest']);
    const puts = sim.log.byOperation('manifest.put');
    expect(puts.map((entry) => entry.path).sort()).toEqual([
      '/v2/octo/app/manifests/latest',
      '/v2/octo/app/manifests/v1',
    ]);
    expect(puts.every((entry) => entry.requestHeaders['content-type'] === MediaType.OciManifest)).toBe(true);
    expect(events.filter((event) => event.kind === 'manifest')).toEqual([
      {
        kind: 'manifest',
        registry: 'ghcr.io',
        repository: 'octo/app',
        digest: manifest.digest,
        size: manifest.size,
        mediaType: MediaType.OciManifest,
        tags: ['v1', 'latest'],
      },
    ]);
    const byTag = await client.manifests.get('octo/app', 'v1');
    expect(Buffer.from(byTag.bytes).equals(Buffer.from(manifest.bytes))).toBe(true);
    expect(byTag.digest).toBe(manifest.digest);
    expect(sim.log.byOperation('manifest.get')[0]?.requestHeaders.accept).toBe(MANIFEST_ACCEPT_HEADER);
    const byDigest = await client.manifests.get('octo/app', manifest.digest);
    expect(byDigest.kind).toBe('oci-manifest');
    expect(await client.manifests.head('octo/app', 'latest')).toEqual({
      mediaType: MediaType.OciManifest,
      digest: manifest.digest,
      size: manifest.size,
    });
    expect(await client.manifests.head('octo/app', 'missing')).toBeUndefined();
  });

  it('pushes by digest when no tag is given, and pushes an index after its children', async () => {
    const { sim, client } = simulatedClient();
    const child = await pushImage(client, 'octo/app', 'child');
    expect(sim.log.byOperation('manifest.put').map((entry) => entry.path)).toEqual([
      `/v2/octo/app/manifests/${child.digest}`,
    ]);
    const index = buildIndex({
      manifests: [
        {
          mediaType: child.mediaType,
          digest: child.digest,
          size: child.size,
          platform: { os: 'linux', architecture: 'amd64' },
        },
      ],
    });
    const descriptor = await client.manifests.put('octo/app', index, { tags: ['multi'] });
    expect(descriptor).toMatchObject({ mediaType: MediaType.OciIndex, digest: index.digest });
    expect((await client.manifests.get('octo/app', 'multi')).kind).toBe('oci-index');
  });

  it('checks the bytes fetched by tag against Docker-Content-Digest (three reads, then it fails)', async () => {
    const { sim, client, clock } = simulatedClient();
    await pushImage(client, 'octo/app', 'x', ['v1']);
    sim.faults.add({ operation: 'manifest.get', action: { type: 'corrupt', offset: 30 } });
    sim.log.clear();
    const error = await settle(
      client.manifests.get('octo/app', 'v1').catch((caught: unknown) => caught),
      clock,
    );
    expect(DigestMismatchError.isInstance(error)).toBe(true);
    expect(sim.log.byOperation('manifest.get')).toHaveLength(3);
  });

  it('checks the bytes fetched by digest against that digest', async () => {
    const { sim, client, clock } = simulatedClient();
    const manifest = await pushImage(client, 'octo/app', 'x');
    sim.faults.add({ operation: 'manifest.get', action: { type: 'corrupt', offset: 30 } });
    const error = await settle(
      client.manifests.get('octo/app', manifest.digest).catch((caught: unknown) => caught),
      clock,
    );
    expect(DigestMismatchError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ expected: manifest.digest });
  });

  it('reads a manifest again after a flipped byte, and announces it', async () => {
    const { sim, client, sleeps } = simulatedClient();
    const manifest = await pushImage(client, 'octo/app', 'x', ['v1']);
    sim.faults.add({ operation: 'manifest.get', count: 1, action: { type: 'corrupt', offset: 30 } });
    const retries: RetryEvent[] = [];
    client.events.on('retry', (event) => retries.push(event));
    sim.log.clear();
    expect((await client.manifests.get('octo/app', manifest.digest)).digest).toBe(manifest.digest);
    expect(sim.log.byOperation('manifest.get').map((entry) => entry.status)).toEqual([200, 200]);
    expect(retries).toMatchObject([
      { operation: 'manifests.get', action: 'refetch', attempt: 2, digest: manifest.digest },
    ]);
    // The first re-read is immediate; backoff starts with the second.
    expect(sleeps).toEqual([]);
  });

  it('retries a manifest body cut off mid-stream as a transport error, not a connection failure to advise on', async () => {
    const { sim, client, clock } = simulatedClient();
    await pushImage(client, 'octo/app', 'x', ['v1']);
    sim.faults.add({ operation: 'manifest.get', count: 2, action: { type: 'reset', afterBytes: 100 } });
    sim.log.clear();
    const parsed = await settle(client.manifests.get('octo/app', 'v1'), clock);
    expect(parsed.kind).toBe('oci-manifest');
    expect(sim.log.byOperation('manifest.get')).toHaveLength(3);
  });

  it('says the registry was reached when every read of a manifest breaks off', async () => {
    const { sim, client, clock } = simulatedClient();
    await pushImage(client, 'octo/app', 'x', ['v1']);
    sim.faults.add({ operation: 'manifest.get', action: { type: 'reset', afterBytes: 100 } });
    const error = await settle(
      client.manifests.get('octo/app', 'v1').catch((caught: unknown) => caught),
      clock,
    );
    expect(error).toMatchObject({
      code: GhcrErrorCode.CONNECTION_FAILED,
      connected: true,
      isRetryable: true,
    });
    expect((error as Error).message).toMatch(
      /sent 100 of \d+ bytes, then the body broke off.*; retry, and if it keeps happening, check a proxy in between$/,
    );
  });

  it('says an HTML page is not a manifest, and what to check (not retried)', async () => {
    const { sim, client } = simulatedClient();
    await pushImage(client, 'octo/app', 'x', ['v1']);
    sim.faults.add({
      operation: 'manifest.get',
      action: {
        type: 'status',
        status: 200,
        body: '<html><body>Sign in to the network</body></html>',
        headers: { 'content-type': 'text/html; charset=utf-8' },
      },
    });
    sim.log.clear();
    const error = await client.manifests.get('octo/app', 'v1').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: GhcrErrorCode.UNSUPPORTED_MEDIA_TYPE, mediaType: 'text/html' });
    expect((error as Error).message).toMatch(
      /answered 200 with an HTML page, not a manifest .*check the registry address .*then retry$/,
    );
    expect(sim.log.byOperation('manifest.get')).toHaveLength(1);
  });

  it('reads a tag list page again when it arrives cut short', async () => {
    const { sim, client } = simulatedClient();
    await pushImage(client, 'octo/app', 'x', ['v1', 'v2']);
    sim.faults.add({ operation: 'tags.list', count: 1, action: { type: 'truncate', afterBytes: 10 } });
    sim.log.clear();
    expect(await client.tags.list('octo/app')).toEqual(['v1', 'v2']);
    expect(sim.log.byOperation('tags.list')).toHaveLength(2);
  });

  it('refuses a manifest whose Content-Length is over the cap', async () => {
    const { client } = simulatedClient();
    const manifest = await pushImage(client, 'octo/app', 'x', ['v1']);
    const error = await client.manifests
      .get('octo/app', 'v1', { maxBytes: manifest.size - 1 })
      .catch((caught: unknown) => caught);
    expect(ProtocolError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: GhcrErrorCode.MANIFEST_TOO_LARGE });
  });

  it('refuses to read past the cap when the length is not declared', async () => {
    const { sim, client } = simulatedClient();
    await pushImage(client, 'octo/app', 'x', ['v1']);
    // truncate drops Content-Length; the body itself stays longer than the cap.
    sim.faults.add({
      operation: 'manifest.get',
      count: 1,
      action: { type: 'truncate', afterBytes: 1_000_000 },
    });
    const error = await client.manifests
      .get('octo/app', 'v1', { maxBytes: 50 })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: GhcrErrorCode.MANIFEST_TOO_LARGE });
  });

  it('answers delete with an error that points at the Packages API (ghcr has no DELETE)', async () => {
    const { sim, client } = simulatedClient();
    const manifest = await pushImage(client, 'octo/app', 'x', ['v1']);
    const error = await client.manifests
      .delete('octo/app', manifest.digest)
      .catch((caught: unknown) => caught);
    expect(ProtocolError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'UNSUPPORTED', http: { status: 405 } });
    expect((error as Error).message).toMatch(/Packages API \(client\.versions\)/);
    expect(sim.log.byOperation('manifest.delete')[0]?.status).toBe(405);
  });

  it('refuses a tag where delete needs a digest', async () => {
    const { client } = simulatedClient();
    const error = await client.manifests.delete('octo/app', 'latest').catch((caught: unknown) => caught);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/tags\.untag/);
  });

  it('maps an unknown manifest to NotFoundError with the spec code', async () => {
    const { client } = simulatedClient();
    await pushImage(client, 'octo/app', 'x', ['v1']);
    const error = await client.manifests.get('octo/app', 'nope').catch((caught: unknown) => caught);
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'MANIFEST_UNKNOWN' });
  });

  it('refuses invalid repository names and references before sending anything', async () => {
    const { sim, client } = simulatedClient();
    await expect(client.manifests.get('Octo/App', 'v1')).rejects.toThrow(/invalid repository "Octo\/App"/);
    await expect(client.manifests.get('octo/app', '-bad')).rejects.toThrow(/invalid tag "-bad"/);
    await expect(client.manifests.get('octo/app', 'sha256:abc')).rejects.toThrow(/invalid digest/);
    expect(sim.log.entries).toHaveLength(0);
  });
});

describe('manifests against the distribution profile', () => {
  it('deletes by digest and emits a deleted event', async () => {
    const { client } = simulatedClient({ profile: 'distribution' });
    expect(client.flavor).toBe('distribution');
    const manifest = await pushImage(client, 'octo/app', 'x', ['v1']);
    const events: DeletedEvent[] = [];
    client.events.on('deleted', (event) => events.push(event));
    await client.manifests.delete('octo/app', manifest.digest);
    expect(await client.manifests.head('octo/app', manifest.digest)).toBeUndefined();
    expect(events).toEqual([
      {
        kind: 'manifest',
        registry: 'registry.test',
        repository: 'octo/app',
        digest: manifest.digest,
        tags: [],
      },
    ]);
    expect(digestOf(manifest.bytes)).toBe(manifest.digest);
  });
});
