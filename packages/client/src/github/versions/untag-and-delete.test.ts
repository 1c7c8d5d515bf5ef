import { staticCredentials } from '@ghcr/auth';
import { AuthorizationError, GhcrErrorCode, NotFoundError } from '@ghcr/oci-types';
import { pushImage as seedImage } from '@ghcr/simulation';
import { settle } from '@ghcr/test-support';
import { describe, expect, it } from 'vitest';
import { createGhcrClient } from '../../client.js';
import { versionsBed, versionsFor } from '../../testing/versions-bed.js';
import { packageVersionTags } from './versions.js';

const ADMIN_MESSAGE = 'You must have admin permissions on this package to delete or restore it.';

/** An image tagged v1, v2 and latest in octo/app. */
async function taggedImage(bed: ReturnType<typeof versionsBed>) {
  const image = await seedImage(bed.sim, 'octo/app', { tag: 'v1', layers: ['one', 'two'] });
  await bed.client.tags.tag('octo/app', 'v1', ['v2', 'latest']);
  bed.sim.log.clear();
  return image;
}

describe('untagAndDelete on ghcr.io', () => {
  it("removes one tag and deletes the placeholder's version, leaving the image and its other tags", async () => {
    const bed = versionsBed();
    const image = await taggedImage(bed);

    const result = await bed.versions.untagAndDelete('octo/app', 'v1');

    const placeholder = (await bed.versions.list('octo/app', { state: 'deleted' }))[0];
    expect(placeholder).toBeDefined();
    expect(result).toEqual({
      tag: 'v1',
      untag: 'placeholder',
      previousDigest: image.digest,
      placeholderDigest: placeholder?.name,
      deletedVersionId: placeholder?.id,
    });
    expect((await bed.client.tags.list('octo/app')).sort()).toEqual(['latest', 'v2']);
    expect(await bed.client.manifests.head('octo/app', 'v1')).toBeUndefined();
    // The other tags still pull completely: the manifest, its config and every layer.
    const pulled = await bed.client.manifests.get('octo/app', 'v2');
    expect(pulled.digest).toBe(image.digest);
    if (pulled.kind !== 'oci-manifest') throw new Error('expected an OCI image manifest');
    for (const descriptor of [pulled.manifest.config, ...pulled.manifest.layers]) {
      const bytes = await bed.client.blobs.getBytes('octo/app', descriptor);
      expect(bytes.byteLength).toBe(descriptor.size);
    }
    const active = await bed.versions.list('octo/app');
    expect(active.map((version) => version.name)).toEqual([image.digest]);
    expect(active[0] && packageVersionTags(active[0])).toEqual(['latest', 'v2']);
    // One placeholder put, one version DELETE through the API, no registry DELETE (ghcr has none).
    expect(bed.sim.log.byOperation('manifest.put')).toHaveLength(1);
    expect(bed.sim.log.byOperation('api.versions.delete')).toHaveLength(1);
    expect(bed.sim.log.byOperation('manifest.delete')).toHaveLength(0);
  });

  it('checks the token before moving the tag: without delete:packages nothing changes', async () => {
    const bed = versionsBed();
    const image = await taggedImage(bed);
    const { client } = bed;
    const token = bed.sim.createToken({ user: 'octo', scopes: ['read:packages', 'write:packages'] });
    const limited = versionsFor({
      sim: bed.sim,
      client: createGhcrClient({
        dispatcher: bed.sim.dispatcher(),
        credentials: staticCredentials({ username: 'octo', password: token }),
        clock: bed.clock,
      }),
    }).versions;
    const error = await limited.untagAndDelete('octo/app', 'v1').catch((caught: unknown) => caught);
    expect(AuthorizationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /needs the delete:packages scope, and this token has only read:packages, write:packages.*the tag was not touched/,
    );
    expect((await client.manifests.head('octo/app', 'v1'))?.digest).toBe(image.digest);
    expect(bed.sim.log.byOperation('manifest.put')).toHaveLength(0);
  });

  it('says what was left behind when the deletion fails, and finishes the job when called again', async () => {
    const bed = versionsBed();
    const image = await taggedImage(bed);
    bed.sim.faults.add({
      operation: 'api.versions.delete',
      count: 1,
      action: {
        type: 'status',
        status: 403,
        body: JSON.stringify({ message: ADMIN_MESSAGE, documentation_url: 'https://docs.github.com/rest' }),
      },
    });
    const error = await bed.versions.untagAndDelete('octo/app', 'v1').catch((caught: unknown) => caught);
    expect(AuthorizationError.isInstance(error)).toBe(true);
    const onTag = await bed.client.manifests.head('octo/app', 'v1');
    expect(onTag?.digest).not.toBe(image.digest);
    expect((error as Error).message).toContain(
      `The tag "v1" now points at the untag placeholder ${onTag?.digest} (the image ${image.digest} is untouched and keeps its other tags); once the cause is fixed, call untagAndDelete("octo/app", "v1") again`,
    );

    const again = await bed.versions.untagAndDelete('octo/app', 'v1');
    expect(again).toMatchObject({ tag: 'v1', untag: 'resumed', placeholderDigest: onTag?.digest });
    expect(again.previousDigest).toBeUndefined();
    expect((await bed.client.tags.list('octo/app')).sort()).toEqual(['latest', 'v2']);
    expect((await bed.client.manifests.get('octo/app', 'latest')).digest).toBe(image.digest);
    // No second placeholder: the one on the tag was reused.
    expect(bed.sim.log.byOperation('manifest.put')).toHaveLength(1);
    expect((await bed.versions.list('octo/app')).map((version) => version.name)).toEqual([image.digest]);
  });

  it("waits for GitHub to list the placeholder's version, and gives up with the state explained", async () => {
    const bed = versionsBed();
    await taggedImage(bed);
    const empty = { type: 'status', status: 200, body: '[]' } as const;
    bed.sim.faults.add({ operation: 'api.versions.list', count: 1, action: empty });
    const result = await settle(bed.versions.untagAndDelete('octo/app', 'v1'), bed.clock);
    expect(result.untag).toBe('placeholder');
    expect(bed.sleeps).toContain(1000);
    expect(bed.sim.log.byOperation('api.versions.list')).toHaveLength(2);

    bed.sleeps.length = 0;
    bed.sim.faults.add({ operation: 'api.versions.list', count: 3, action: empty });
    const error = await settle(bed.versions.untagAndDelete('octo/app', 'v2'), bed.clock).catch(
      (caught: unknown) => caught,
    );
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /lists no version for the placeholder sha256:[0-9a-f]{64} after 3 lookups/,
    );
    expect((error as Error).message).toMatch(/call untagAndDelete\("octo\/app", "v2"\) again/);
    expect(bed.sleeps.filter((ms) => ms >= 1000)).toEqual([1000, 2000]);
  });

  it('reports the last-tagged-version rule with what the tag points at now', async () => {
    const bed = versionsBed();
    await seedImage(bed.sim, 'octo/solo', { tag: 'only' });
    const error = await bed.versions.untagAndDelete('octo/solo', 'only').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: GhcrErrorCode.LAST_VERSION });
    expect((error as Error).message).toMatch(
      /last tagged version.*Delete the whole package instead.*now points at the untag placeholder/,
    );
  });

  it('fails on a tag that does not exist, touching nothing', async () => {
    const bed = versionsBed();
    await taggedImage(bed);
    await expect(bed.versions.untagAndDelete('octo/app', 'v9')).rejects.toThrow(/the tag does not exist/);
    expect(bed.sim.log.byOperation('manifest.put')).toHaveLength(0);
  });
});

describe('untagAndDelete elsewhere', () => {
  it("uses the registry's own untag on a distribution registry, with no Packages API call", async () => {
    const bed = versionsBed({ profile: 'distribution' });
    const image = await seedImage(bed.sim, 'octo/app', { tag: 'v1' });
    await bed.client.tags.tag('octo/app', 'v1', ['v2']);
    const result = await bed.versions.untagAndDelete('octo/app', 'v1');
    expect(result).toEqual({ tag: 'v1', untag: 'deleted', previousDigest: image.digest });
    expect(await bed.client.tags.list('octo/app')).toEqual(['v2']);
    expect(bed.sim.log.filter((entry) => entry.host === 'api.github.com')).toHaveLength(0);
  });
});
