import { isIndex, type ParsedManifest } from '@ghcr/manifest';
import { createManualClock } from '@ghcr/oci-types';
import { createSimulation } from '@ghcr/simulation';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupVersions, pushReleases } from './cleanup-versions.js';
import { connect, type ExampleTarget } from './connect.js';

let target: ExampleTarget | undefined;
afterEach(async () => {
  await target?.close();
});

/** Pulls a tag completely: every manifest below it and every blob, read to the end (verified). */
async function pullCompletely(t: ExampleTarget, repository: string, reference: string): Promise<number> {
  let blobs = 0;
  const walk = async (manifest: ParsedManifest): Promise<void> => {
    if (isIndex(manifest)) {
      for (const entry of manifest.manifest.manifests)
        await walk(await t.client.manifests.get(repository, entry.digest));
      return;
    }
    for (const descriptor of [manifest.manifest.config, ...manifest.manifest.layers]) {
      for await (const _chunk of t.client.blobs.get(repository, descriptor)) {
        // read to the end: a missing or corrupt blob throws
      }
      blobs += 1;
    }
  };
  await walk(await t.client.manifests.get(repository, reference));
  return blobs;
}

describe('cleanup-versions (seed §7.2) against the GHCR simulation', () => {
  it('keeps the newest N and the tags matching the patterns; plans, prints, then applies', async () => {
    target = connect({}, createSimulation({ profile: 'ghcr', clock: createManualClock() }));
    const t = target;
    const repository = `${t.owner}/cleanup-demo`;
    const releases = await pushReleases(t, repository);
    const before = await t.client.versions.list(repository);
    expect(before).toHaveLength(5 * 3); // five indexes, each with two platform manifests

    // Dry run: the plan is printed and reported; nothing is deleted.
    const lines: string[] = [];
    const dry = await cleanupVersions(t, repository, 1, ['latest', /^\d+\.2\.\d+$/], {
      print: (line) => lines.push(line),
    });
    expect(await t.client.versions.list(repository)).toHaveLength(before.length);
    expect(dry.report.deleted.every((entry) => entry.outcome === 'dry-run')).toBe(true);
    // 1.2.0/latest matches the patterns, pr-8 is the newest other tagged image; 1.0.0, 1.1.0 and
    // pr-7 go, each index with its two platform manifests.
    const deletedTags = dry.report.deleted.flatMap((entry) => entry.tags).sort();
    expect(deletedTags).toEqual(['1.0.0', '1.1.0', 'pr-7']);
    expect(dry.report.deleted).toHaveLength(9);
    expect(dry.report.deleted.filter((entry) => entry.kind === 'image')).toHaveLength(6);
    expect(lines[0]).toBe(`${repository}: keep 6, delete 9 of 15 versions`);
    expect(lines).toContain('dry run: nothing was deleted (pass --apply to delete)');
    expect(lines.some((line) => /^ {2}delete .* index \(1\.0\.0\): /.test(line))).toBe(true);
    expect(lines.some((line) => /^ {2}keep {3}.* index \(1\.2\.0, latest\): /.test(line))).toBe(true);

    // Apply: exactly the planned versions go.
    const applied = await cleanupVersions(t, repository, 1, ['latest', /^\d+\.2\.\d+$/], {
      apply: true,
      print: () => {},
    });
    expect(applied.report.summary).toMatchObject({ deleted: 9, failed: 0, skipped: 0, kept: 6 });
    expect(applied.report.deleted.map((entry) => entry.id).sort()).toEqual(
      dry.report.deleted.map((entry) => entry.id).sort(),
    );
    const remaining = await t.client.versions.list(repository);
    expect(remaining.map((version) => version.id).sort()).toEqual(
      applied.report.kept.map((entry) => entry.id).sort(),
    );
    const tags = (await t.client.tags.list(repository)).sort();
    expect(tags).toEqual(['1.2.0', 'latest', 'pr-8']);
    for (const tag of tags) expect(await pullCompletely(t, repository, tag)).toBe(4);
    expect((await t.client.manifests.head(repository, 'latest'))?.digest).toBe(releases.latest);
  });
});
