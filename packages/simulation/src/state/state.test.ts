import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManualClock, digestOf } from '@ghcr/oci-types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pushImage } from '../scenarios/push.js';
import { createSimulation } from '../simulation.js';
import { createTestBed, uploadBlob } from '../testing/test-bed.js';
import type { BlobStore } from './blob-store.js';
import { createDiskBlobStore } from './disk-store.js';
import { createMemoryBlobStore } from './memory-store.js';
import { RESTORE_WINDOW_MS } from './simulation-state.js';

async function readAll(
  store: BlobStore,
  digest: `${string}:${string}`,
  range?: { start: number; end: number },
): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of store.read(digest, range)) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

describe.each([
  ['memory', () => createMemoryBlobStore()],
  ['disk', () => createDiskBlobStore(mkdtempSync(join(tmpdir(), 'ghcr-sim-store-')))],
] as const)('%s blob store', (_kind, make) => {
  it('streams writes while hashing, commits under the digest, serves ranges', async () => {
    const store = make();
    const writer = store.createWriter();
    await writer.write(Buffer.from('hello '));
    await writer.write(Buffer.from('world'));
    expect(writer.size).toBe(11);
    expect(store.sizeOf(digestOf('hello world'))).toBeUndefined();
    const wrong = await writer.commit(digestOf('nope'));
    expect(wrong).toEqual({ ok: false, actual: digestOf('hello world'), size: 11 });
    const result = await writer.commit(digestOf('hello world'));
    expect(result).toEqual({ ok: true, digest: digestOf('hello world'), size: 11 });
    expect(store.sizeOf(digestOf('hello world'))).toBe(11);
    expect(await readAll(store, digestOf('hello world'))).toBe('hello world');
    expect(await readAll(store, digestOf('hello world'), { start: 3, end: 7 })).toBe('lo wo');
    const sha512 = store.createWriter();
    await sha512.write(Buffer.from('x'));
    const long = digestOf('x', 'sha512');
    expect(await sha512.commit(long)).toMatchObject({ ok: true, digest: long });
    expect(store.digests()).toHaveLength(2);
    await store.delete(digestOf('hello world'));
    expect(store.sizeOf(digestOf('hello world'))).toBeUndefined();
    const aborted = store.createWriter();
    await aborted.write(Buffer.from('gone'));
    await aborted.abort();
    expect(store.sizeOf(digestOf('gone'))).toBeUndefined();
  });
});

describe('disk store', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'ghcr-sim-disk-'));
  });
  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('survives a restart: a new simulation over the same directory sees blobs, manifests, tags, packages and tokens', async () => {
    const clock = createManualClock();
    const first = createSimulation({ clock, store: { kind: 'disk', directory } });
    const pat = first.createToken({ user: 'octocat', scopes: ['read:packages', 'write:packages'] });
    first.createOrganization('acme', { admins: ['octocat'] });
    const image = await pushImage(first, 'acme/app', { tag: 'v1', layers: ['persisted layer'] });
    first.setVisibility('acme', 'app', 'public');
    const repository = first.state.getRepository('acme/app');
    if (repository === undefined) throw new Error('missing repository');
    first.state.recordDownload(image.record);
    first.state.flush();
    expect(readdirSync(join(directory, 'blobs', 'sha256')).length).toBe(2);

    const second = createSimulation({ clock, store: { kind: 'disk', directory } });
    const bed = { sim: second };
    expect(bed.sim.state.getPat(pat)?.user).toBe('octocat');
    expect(bed.sim.state.getOwner('acme')).toMatchObject({ type: 'Organization', admins: ['octocat'] });
    const reopened = second.state.getRepository('acme/app');
    expect(reopened?.package).toMatchObject({ visibility: 'public', name: 'app' });
    expect(reopened?.tags.get('v1')).toBe(image.digest);
    const manifest = reopened === undefined ? undefined : second.state.resolveManifest(reopened, 'v1');
    expect(manifest?.versionId).toBe(image.record.versionId);
    expect(manifest?.downloadCount).toBe(1);
    expect(Buffer.from(manifest?.bytes ?? []).equals(Buffer.from(image.parsed.bytes))).toBe(true);
    const layer = image.layers[0]?.digest;
    if (layer === undefined) throw new Error('no layer');
    expect(second.state.hasBlob(reopened ?? repository, layer)).toBe(true);

    // Through HTTP, with the PAT created before the restart; new versions continue the id sequence.
    const test = createTestBed({ store: { kind: 'disk', directory } });
    const pulled = await test.call('GET', '/v2/acme/app/manifests/v1', { pat });
    expect(pulled.status).toBe(200);
    const next = await pushImage(test.sim, 'acme/app', { tag: 'v2', seed: 'second' });
    expect(next.record.versionId).toBeGreaterThan(image.record.versionId);
  });

  it('writes uploads as they stream (no whole blob in memory) and renames them into place', async () => {
    const bed = createTestBed({ store: { kind: 'disk', directory } });
    const pat = bed.sim.createToken({ user: 'octocat', scopes: ['write:packages'] });
    const started = await bed.call('POST', '/v2/octocat/app/blobs/uploads/', { pat });
    const location = started.header('location') ?? '';
    await bed.call('PATCH', location, { pat, body: Buffer.alloc(1024, 1) });
    expect(readdirSync(join(directory, 'tmp')).length).toBe(1);
    const data = Buffer.alloc(1024, 1);
    const put = await bed.call('PUT', `${location}?digest=${digestOf(data)}`, { pat });
    expect(put.status).toBe(201);
    expect(readdirSync(join(directory, 'tmp')).length).toBe(0);
    expect(bed.sim.state.store.sizeOf(digestOf(data))).toBe(1024);
  });
});

describe('concurrency', () => {
  it('keeps concurrent uploads to one repository apart', async () => {
    const bed = createTestBed();
    const pat = bed.sim.createToken({ user: 'octocat', scopes: ['read:packages', 'write:packages'] });
    const blobs = Array.from({ length: 12 }, (_, i) => Buffer.alloc(64 * 1024 + i, i));
    const digests = await Promise.all(
      blobs.map(async (data) => {
        const started = await bed.call('POST', '/v2/octocat/app/blobs/uploads/', { pat });
        let location = started.header('location') ?? '';
        for (let offset = 0; offset < data.byteLength; offset += 16 * 1024) {
          const chunk = data.subarray(offset, offset + 16 * 1024);
          const patched = await bed.call('PATCH', location, {
            pat,
            body: chunk,
            headers: { 'content-range': `${offset}-${offset + chunk.byteLength - 1}` },
          });
          expect(patched.status).toBe(202);
          location = patched.header('location') ?? '';
        }
        const put = await bed.call('PUT', `${location}?digest=${digestOf(data)}`, { pat });
        expect(put.status).toBe(201);
        return digestOf(data);
      }),
    );
    for (const [i, digest] of digests.entries()) {
      const get = await bed.call('HEAD', `/v2/octocat/app/blobs/${digest}`, { pat });
      expect(get.header('content-length')).toBe(String(blobs[i]?.byteLength));
    }
  });

  it('serialises concurrent PATCHes on one session: exactly one of two chunks at the same offset wins', async () => {
    const bed = createTestBed();
    const pat = bed.sim.createToken({ user: 'octocat', scopes: ['write:packages'] });
    const started = await bed.call('POST', '/v2/octocat/app/blobs/uploads/', { pat });
    const location = started.header('location') ?? '';
    const results = await Promise.all(
      ['a', 'b'].map((fill) =>
        bed.call('PATCH', location, {
          pat,
          body: Buffer.alloc(100, fill),
          headers: { 'content-range': '0-99' },
        }),
      ),
    );
    expect(results.map((result) => result.status).sort()).toEqual([202, 416]);
    const status = await bed.call('GET', location, { pat });
    expect(status.header('range')).toBe('0-99');
  });

  it('dedups concurrent uploads of the same content', async () => {
    const bed = createTestBed();
    const pat = bed.sim.createToken({ user: 'octocat', scopes: ['write:packages'] });
    await Promise.all([
      uploadBlob(bed, 'octocat/app', 'same', { pat }),
      uploadBlob(bed, 'octocat/other', 'same', { pat }),
    ]);
    expect(bed.sim.state.store.digests()).toEqual([digestOf('same')]);
  });
});

describe('packages and versions', () => {
  it('numbers versions in creation order and derives tags; deleting hides a version and its tags until restored', async () => {
    const bed = createTestBed();
    const pat = bed.sim.createToken({ user: 'octocat', scopes: ['read:packages'] });
    const one = await pushImage(bed.sim, 'octocat/app', { tag: 'v1', seed: '1' });
    await bed.clock.advance(1000);
    const two = await pushImage(bed.sim, 'octocat/app', { tag: 'v2', seed: '2' });
    bed.sim.state.putManifest(bed.sim.state.ensureRepository('octocat/app'), { ...two.record }, 'latest');
    const repository = bed.sim.state.findPackage('OctoCat', 'app');
    if (repository === undefined) throw new Error('missing package');
    expect(two.record.versionId).toBeGreaterThan(one.record.versionId);
    expect(bed.sim.state.listVersions(repository).map((version) => version.digest)).toEqual([
      two.digest,
      one.digest,
    ]);
    expect(bed.sim.state.tagsOf(repository, two.digest)).toEqual(['latest', 'v2']);
    expect(two.record.createdAt).toBe(one.record.createdAt + 1000);

    expect(bed.sim.state.deleteVersion(repository, two.record.versionId)).toEqual({ ok: true });
    expect(bed.sim.state.listVersions(repository, 'deleted').map((version) => version.versionId)).toEqual([
      two.record.versionId,
    ]);
    expect((await bed.call('GET', '/v2/octocat/app/manifests/latest', { pat })).status).toBe(404);
    expect((await bed.call('GET', `/v2/octocat/app/manifests/${two.digest}`, { pat })).status).toBe(404);
    const tags = await bed.call('GET', '/v2/octocat/app/tags/list', { pat });
    expect(tags.json()).toEqual({ name: 'octocat/app', tags: ['v1'] });
    expect(bed.sim.state.tagsOf(repository, two.digest)).toEqual(['latest', 'v2']);

    expect(bed.sim.state.restoreVersion(repository, two.record.versionId)).toEqual({ ok: true });
    expect((await bed.call('GET', '/v2/octocat/app/manifests/latest', { pat })).status).toBe(200);
    expect(bed.sim.state.restoreVersion(repository, two.record.versionId)).toMatchObject({
      ok: false,
      reason: 'not-deleted',
    });

    bed.sim.state.deleteVersion(repository, one.record.versionId);
    await bed.clock.advance(RESTORE_WINDOW_MS + 1);
    expect(bed.sim.state.restoreVersion(repository, one.record.versionId)).toMatchObject({
      ok: false,
      reason: 'restore-window-expired',
    });
    expect(bed.sim.state.deleteVersion(repository, 999_999)).toMatchObject({
      ok: false,
      reason: 'version-unknown',
    });
  });

  it('deletes a whole package (NAME_UNKNOWN) and restores it unless the name was reused', async () => {
    const bed = createTestBed();
    const pat = bed.sim.createToken({ user: 'octocat', scopes: ['read:packages'] });
    await pushImage(bed.sim, 'octocat/app', { tag: 'v1' });
    const repository = bed.sim.state.findPackage('octocat', 'app');
    if (repository === undefined) throw new Error('missing package');
    expect(bed.sim.state.deletePackage(repository)).toEqual({ ok: true });
    expect(bed.sim.state.listPackages('octocat')).toEqual([]);
    expect(bed.sim.state.listPackages('octocat', { deleted: true })).toHaveLength(1);
    const gone = await bed.call('GET', '/v2/octocat/app/manifests/v1', { pat });
    expect(gone.json()).toMatchObject({ errors: [{ code: 'NAME_UNKNOWN' }] });
    expect(bed.sim.state.restorePackage('octocat', 'app')).toEqual({ ok: true });
    expect((await bed.call('GET', '/v2/octocat/app/manifests/v1', { pat })).status).toBe(200);

    bed.sim.state.deletePackage(repository);
    await pushImage(bed.sim, 'octocat/app', { tag: 'new', seed: 'reuse' });
    expect(bed.sim.state.restorePackage('octocat', 'app')).toMatchObject({
      ok: false,
      reason: 'name-reused',
    });
  });

  it('pushing a deleted version again brings it back; setVisibility declares a package before any push', async () => {
    const bed = createTestBed();
    bed.sim.createUser('octocat');
    bed.sim.setVisibility('octocat', 'later', 'public');
    expect(bed.sim.state.findPackage('octocat', 'later')?.package?.visibility).toBe('public');
    const image = await pushImage(bed.sim, 'octocat/app', { tag: 'v1' });
    const repository = bed.sim.state.findPackage('octocat', 'app');
    if (repository === undefined) throw new Error('missing package');
    bed.sim.state.deleteVersion(repository, image.record.versionId);
    const again = await pushImage(bed.sim, 'octocat/app', { tag: 'v1' });
    expect(again.record.versionId).toBe(image.record.versionId);
    expect(again.record.deletedAt).toBeUndefined();
    expect(() => bed.sim.setVisibility('nobody', 'x', 'public')).toThrow(/does not exist/);
  });

  it('reset() forgets everything', async () => {
    const bed = createTestBed();
    await pushImage(bed.sim, 'octocat/app', { tag: 'v1' });
    bed.sim.faults.add({ action: { type: 'reset' } });
    bed.sim.reset();
    expect(bed.sim.state.listRepositories()).toEqual([]);
    expect(bed.sim.state.listOwners()).toEqual([]);
    expect(bed.sim.state.store.digests()).toEqual([]);
    expect(bed.sim.faults.rules).toEqual([]);
  });

  it('refuses invalid logins and conflicting owner kinds', () => {
    const bed = createTestBed();
    expect(() => bed.sim.createUser('-bad')).toThrow(/invalid GitHub login/);
    bed.sim.createUser('octocat');
    expect(() => bed.sim.createOrganization('octocat')).toThrow(/already exists as a User/);
  });
});

describe('disk store metadata', () => {
  it('refuses unreadable metadata with a message saying what to do', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ghcr-sim-bad-'));
    try {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(directory, 'metadata.json'), '{not json');
      expect(() => createSimulation({ store: { kind: 'disk', directory } })).toThrow(
        /move the data directory aside/,
      );
      writeFileSync(join(directory, 'metadata.json'), JSON.stringify({ version: 99 }));
      expect(() => createSimulation({ store: { kind: 'disk', directory } })).toThrow(/unreadable/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
