import { buildImageManifest } from '@ghcr/manifest';
import { EMPTY_JSON_DIGEST, MediaType, NotFoundError } from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import type { GhcrClient } from '../client.js';
import type { DeletedEvent, TaggedEvent } from '../events.js';
import { simulatedClient } from '../testing/simulated-client.js';
import { isUntagPlaceholder, UNTAG_PLACEHOLDER_ANNOTATION } from './placeholder.js';

async function pushImage(client: GhcrClient, repository: string, tags: string[]) {
  const config = (
    await client.blobs.upload(repository, Buffer.from('{"os":"linux","architecture":"amd64"}'), {
      mediaType: MediaType.OciConfig,
    })
  ).descriptor;
  const manifest = buildImageManifest({ config, layers: [] });
  await client.manifests.put(repository, manifest, { tags });
  return manifest;
}

describe('tags against the ghcr profile', () => {
  it('lists every tag across pages by following Link', async () => {
    const { sim, client } = simulatedClient();
    const tags = Array.from({ length: 230 }, (_, index) => `t${String(index).padStart(3, '0')}`);
    await pushImage(client, 'octo/app', tags);
    sim.log.clear();
    expect(await client.tags.list('octo/app')).toEqual(tags);
    const pages = sim.log.byOperation('tags.list');
    expect(pages).toHaveLength(3);
    expect(pages[1]?.url).toContain('last=t099');
    const sized: string[][] = [];
    for await (const page of client.tags.pages('octo/app', { pageSize: 100, last: 't199' })) sized.push(page);
    expect(sized).toEqual([tags.slice(200)]);
    expect(await client.tags.list('octo/app', { pageSize: 50, limit: 120 })).toEqual(tags.slice(0, 120));
  });

  it('tags by putting the same bytes under new tags, in parallel', async () => {
    const { sim, client } = simulatedClient({ client: { concurrency: 2 } });
    const manifest = await pushImage(client, 'octo/app', ['v1']);
    const events: TaggedEvent[] = [];
    client.events.on('tagged', (event) => events.push(event));
    sim.log.clear();
    const descriptor = await client.tags.tag('octo/app', 'v1', ['v1.0', 'v1.0.0', 'stable']);
    expect(descriptor.digest).toBe(manifest.digest);
    expect(sim.log.byOperation('manifest.get')).toHaveLength(1);
    expect(sim.log.byOperation('manifest.put')).toHaveLength(3);
    for (const tag of ['v1.0', 'v1.0.0', 'stable']) {
      expect((await client.manifests.head('octo/app', tag))?.digest).toBe(manifest.digest);
    }
    expect(events).toEqual([
      expect.objectContaining({
        repository: 'octo/app',
        digest: manifest.digest,
        tags: ['v1.0', 'v1.0.0', 'stable'],
      }),
    ]);
  });

  it('untags on ghcr.io with a unique placeholder manifest and no DELETE', async () => {
    const ids = ['first-id', 'second-id'];
    const { sim, client } = simulatedClient({ client: { randomId: () => ids.shift() ?? 'x' } });
    const manifest = await pushImage(client, 'octo/app', ['v1', 'v2', 'keep']);
    const events: DeletedEvent[] = [];
    client.events.on('deleted', (event) => events.push(event));
    const first = await client.tags.untag('octo/app', 'v1');
    const second = await client.tags.untag('octo/app', 'v2');
    expect(first).toMatchObject({ method: 'placeholder', tag: 'v1', previousDigest: manifest.digest });
    if (first.method === 'deleted' || second.method === 'deleted') throw new Error('unexpected');
    expect(first.placeholderDigest).not.toBe(second.placeholderDigest);
    const placeholder = await client.manifests.get('octo/app', 'v1');
    expect(placeholder.digest).toBe(first.placeholderDigest);
    expect(isUntagPlaceholder(placeholder)).toBe(true);
    if (placeholder.kind !== 'oci-manifest') throw new Error('expected an OCI manifest');
    expect(placeholder.manifest.config.digest).toBe(EMPTY_JSON_DIGEST);
    expect(placeholder.manifest.layers).toEqual([]);
    expect(placeholder.manifest.annotations).toEqual({
      'org.opencontainers.image.created': '2026-01-01T00:00:00.000Z',
      [UNTAG_PLACEHOLDER_ANNOTATION]: 'first-id',
    });
    expect((await client.manifests.head('octo/app', 'keep'))?.digest).toBe(manifest.digest);
    expect(sim.log.filter((entry) => entry.method === 'DELETE')).toHaveLength(0);
    expect(events[0]).toEqual({
      kind: 'tag',
      registry: 'ghcr.io',
      repository: 'octo/app',
      digest: manifest.digest,
      tags: ['v1'],
      placeholderDigest: first.placeholderDigest,
    });
  });

  it('refuses to untag a tag that does not exist', async () => {
    const { client } = simulatedClient();
    await pushImage(client, 'octo/app', ['v1']);
    const error = await client.tags.untag('octo/app', 'v9').catch((caught: unknown) => caught);
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/octo\/app:v9: the tag does not exist/);
  });
});

describe('tags against the distribution profile', () => {
  it('untags with DELETE when the registry deletes tags', async () => {
    const { sim, client } = simulatedClient({ profile: 'distribution' });
    const manifest = await pushImage(client, 'octo/app', ['v1', 'v2']);
    const result = await client.tags.untag('octo/app', 'v1');
    expect(result).toEqual({ method: 'deleted', tag: 'v1', previousDigest: manifest.digest });
    expect(await client.tags.list('octo/app')).toEqual(['v2']);
    // No placeholder was needed: only the two PUTs of the push.
    expect(sim.log.byOperation('manifest.put')).toHaveLength(2);
  });

  it('falls back to a placeholder deleted by digest when tag DELETE is refused', async () => {
    const { sim, client } = simulatedClient({ profile: 'distribution' });
    const manifest = await pushImage(client, 'octo/app', ['v1', 'v2']);
    // distribution deletes manifests by digest only: a tag DELETE is a 400.
    sim.faults.add({ operation: 'manifest.delete', count: 1, action: { type: 'status', status: 400 } });
    const result = await client.tags.untag('octo/app', 'v1');
    expect(result).toMatchObject({
      method: 'placeholder-deleted',
      tag: 'v1',
      previousDigest: manifest.digest,
    });
    expect(await client.tags.list('octo/app')).toEqual(['v2']);
    expect((await client.manifests.head('octo/app', manifest.digest))?.digest).toBe(manifest.digest);
  });
});
