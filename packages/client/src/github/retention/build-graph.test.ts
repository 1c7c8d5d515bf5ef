import type { ParsedManifest } from '@ghcr/manifest';
import { cosignTagsFor, referrersTagFor } from '@ghcr/manifest';
import { ConfigError, type Digest, InternalError, NotFoundError } from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import { ModelRepository } from '../../testing/model-repository.js';
import { buildRegistryGraph } from './build-graph.js';
import { attachmentOf, isAttachmentTag } from './graph-index.js';
import { validateRepository } from './validate.js';

function serve(repo: ModelRepository, counts = new Map<string, number>()) {
  return {
    fetchManifest: async (digest: string): Promise<ParsedManifest> => {
      counts.set(digest, (counts.get(digest) ?? 0) + 1);
      const manifest = repo.manifests.get(digest as Digest);
      if (manifest === undefined) throw new NotFoundError(`manifest ${digest} unknown`);
      return manifest.parsed;
    },
    listTags: async () => [...repo.tags.keys()],
  };
}

describe('buildRegistryGraph', () => {
  it('reads index → children, subject, fallback-tag and cosign referrers, and BuildKit attestations', async () => {
    const repo = new ModelRepository();
    const release = repo.multiArch({ tags: ['v1', 'latest'] });
    const platform = release.images[0] as Digest;
    const bundle = repo.artifact(release.index);
    const fallback = repo.referrersIndex(release.index, [bundle]);
    const sig = repo.cosign(platform, 'sig');
    const graph = await repo.graph();
    expect(graph.nodes[release.index]).toMatchObject({
      kind: 'index',
      tags: ['latest', 'v1'],
      children: [...release.images, ...release.attestations],
      versionId: repo.id(release.index),
    });
    expect(graph.nodes[release.attestations[0] as Digest]?.kind).toBe('artifact');
    expect(graph.nodes[sig]?.kind).toBe('artifact');
    expect(graph.nodes[bundle]).toMatchObject({ kind: 'artifact', subject: release.index });
    expect(graph.nodes[platform]?.kind).toBe('image');
    expect(graph.referrers[release.index]).toEqual(
      expect.arrayContaining([
        { digest: bundle, via: 'subject' },
        { digest: fallback, via: 'referrers-tag', tag: referrersTagFor(release.index) },
        { digest: bundle, via: 'referrers-tag', tag: referrersTagFor(release.index) },
      ]),
    );
    expect(graph.referrers[platform]).toEqual(
      expect.arrayContaining([
        { digest: sig, via: 'cosign-tag', tag: cosignTagsFor(platform).signature },
        { digest: release.attestations[0], via: 'attestation-manifest' },
      ]),
    );
    expect(graph.unreadable).toEqual([]);
    expect(graph.incomplete).toEqual([]);
    expect(validateRepository(graph).ok).toBe(true);
  });

  it('fetches each manifest once and not at all from a warm cache (every GET is a download on GHCR)', async () => {
    const repo = new ModelRepository();
    const shared = repo.image();
    repo.index([shared], { tags: ['a'] });
    repo.index([shared], { tags: ['b'] });
    repo.multiArch({ tags: ['c'] });
    const counts = new Map<string, number>();
    const source = serve(repo, counts);
    const cache = new Map<string, ParsedManifest>();
    const graph = await buildRegistryGraph({
      versions: repo.versionList(),
      ...source,
      cache,
      concurrency: 3,
    });
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    expect(counts.size).toBe(repo.manifests.size);
    expect(graph.stats).toEqual({ manifestsFetched: repo.manifests.size, cacheHits: 0, blobsChecked: 0 });
    const again = await buildRegistryGraph({ versions: repo.versionList(), ...serve(repo), cache });
    expect(again.stats).toMatchObject({ manifestsFetched: 0, cacheHits: repo.manifests.size });
    expect(again.nodes).toEqual(graph.nodes);
  });

  it('confirms missing children with a read (404 → missing) and reports ghost and partial images', async () => {
    const repo = new ModelRepository();
    const release = repo.multiArch({ tags: ['v1'], attestations: false });
    repo.remove(release.images[0] as Digest);
    const graph = await repo.graph();
    expect(graph.missing).toEqual([
      { digest: release.images[0], referencedBy: [{ digest: release.index, relation: 'child' }] },
    ]);
    expect(graph.unreadable).toEqual([]);
    const validation = validateRepository(graph);
    expect(validation.ok).toBe(false);
    expect(validation.partialImages.map((image) => image.digest)).toEqual([release.index]);
    expect(validation.brokenTags).toEqual([
      { tag: 'v1', digest: release.index, missing: [release.images[0]] },
    ]);
  });

  it('reads a manifest a tag points at that no version lists, and keeps what it reaches', async () => {
    const repo = new ModelRepository();
    const child = repo.image({ ageDays: 50 });
    const index = repo.index([child], { tags: ['lagging'], ageDays: 50 });
    repo.image({ tags: ['v1'] });
    const versions = repo.versionList().filter((version) => version.digest !== index);
    const source = serve(repo);
    const withoutResolver = await buildRegistryGraph({ versions, ...source });
    expect(withoutResolver.incomplete).toEqual([expect.stringContaining('"lagging"')]);
    const graph = await buildRegistryGraph({
      versions,
      ...source,
      resolveTag: async (tag) => repo.tags.get(tag),
    });
    expect(graph.incomplete).toEqual([]);
    expect(graph.nodes[index]).toMatchObject({ tags: ['lagging'], children: [child] });
    expect(graph.nodes[index]?.versionId).toBeUndefined();
  });

  it('marks read failures unreadable instead of throwing; a wrong digest too', async () => {
    const repo = new ModelRepository();
    const a = repo.image({ tags: ['a'] });
    const b = repo.image({ tags: ['b'] });
    const c = repo.image({ tags: ['c'] });
    const graph = await buildRegistryGraph({
      versions: repo.versionList(),
      fetchManifest: async (digest) => {
        if (digest === a) throw new InternalError('boom');
        if (digest === b) throw new NotFoundError('gone');
        return (repo.manifests.get(digest === c ? a : (digest as Digest)) as { parsed: ParsedManifest })
          .parsed;
      },
      listTags: async () => ['a', 'b', 'c'],
    });
    expect(graph.unreadable.map((entry) => [entry.digest, entry.code])).toEqual(
      [
        [a, 'GHCR_INTERNAL'],
        [b, 'GHCR_NOT_FOUND'],
        [c, 'GHCR_DIGEST_MISMATCH'],
      ].sort((x, y) => ((x[0] as string) < (y[0] as string) ? -1 : 1)),
    );
    expect(graph.unreadable.find((entry) => entry.digest === b)?.reason).toContain('nothing is deleted');
  });

  it('checks blobs when asked and reports images with missing blobs as partial', async () => {
    const repo = new ModelRepository();
    const image = repo.image({ tags: ['v1'] });
    const lost = repo.manifests.get(image)?.blobs[1] as Digest;
    const graph = await buildRegistryGraph({
      versions: repo.versionList(),
      ...serve(repo),
      blobExists: async (digest) => digest !== lost,
    });
    expect(graph.nodes[image]?.missingBlobs).toEqual([lost]);
    expect(graph.stats.blobsChecked).toBe(2);
    expect(validateRepository(graph).partialImages[0]).toMatchObject({ digest: image, missingBlobs: [lost] });
  });

  it('rejects on abort and on invalid options', async () => {
    const repo = new ModelRepository();
    repo.image({ tags: ['v1'] });
    const controller = new AbortController();
    const pending = buildRegistryGraph({
      versions: repo.versionList(),
      fetchManifest: async () => {
        controller.abort(new Error('stop'));
        throw new InternalError('aborted request');
      },
      listTags: async () => [],
      signal: controller.signal,
    });
    await expect(pending).rejects.toThrow('stop');
    await expect(
      buildRegistryGraph({ versions: [], fetchManifest: 'nope' as never, listTags: async () => [] }),
    ).rejects.toSatisfy((error) => ConfigError.isInstance(error));
    const misspelt = {
      versions: [],
      fetchManifest: async () => ({}),
      listTags: async () => [],
      concurency: 2,
    };
    await expect(buildRegistryGraph(misspelt as never)).rejects.toThrow(
      /unknown buildRegistryGraph option "concurency" \(did you mean "concurrency"\?\)/,
    );
  });

  it('keeps a tag named __proto__ as a tag', async () => {
    const repo = new ModelRepository();
    const image = repo.image({ tags: ['__proto__'] });
    const graph = await repo.graph();
    expect(Object.keys(graph.tags)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(graph.tags, '__proto__')?.value).toBe(image);
    expect(JSON.parse(JSON.stringify(graph)).tags).toEqual({ ['__proto__']: image });
  });

  it('recognises attachment tags strictly (sha256 of the right length only)', () => {
    const hex = 'a'.repeat(64);
    expect(attachmentOf(`sha256-${hex}`)).toEqual({ subject: `sha256:${hex}`, relation: 'referrers-tag' });
    expect(attachmentOf(`sha256-${hex}.att`)).toEqual({ subject: `sha256:${hex}`, relation: 'cosign-tag' });
    for (const tag of ['pr-9', 'v1-amd64', 'build-123', `sha256-${hex.slice(1)}`, `sha256-${hex}.zip`]) {
      expect(isAttachmentTag(tag)).toBe(false);
    }
    expect(isAttachmentTag(`sha512-${hex}`)).toBe(true);
  });
});
