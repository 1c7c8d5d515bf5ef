import { cp, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { descriptorOf } from '@ghcr/manifest';
import {
  DigestMismatchError,
  digestOf,
  type GhcrError,
  GhcrErrorCode,
  InvalidInputError,
  MediaType,
  UploadError,
} from '@ghcr/oci-types';
import { settle } from '@ghcr/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { OCI_REF_NAME_ANNOTATION, ociLayout } from '../content/oci-layout.js';
import { remoteRepository } from '../content/remote-repository.js';
import type { CopiedEvent, ProgressEvent, PushedEvent, RetryEvent } from '../events.js';
import { legacyArchive, makeImage } from '../testing/archive-kit.js';
import { FIXTURE_LAYOUT, imagesFor, randomImage, tempDir, treeOf } from '../testing/images-kit.js';
import { simulatedClient } from '../testing/simulated-client.js';
import { TITLE_ANNOTATION } from './artifact.js';

const INDEX = 'sha256:80512d7b0fcd9b26a1d57f543cc7e865c40a719a46bbb71bcbd57b4f52c4be84';
const ARM64 = 'sha256:95c94f9c69f66c4b72ca1447c9cbc45ae9a78b76665904d72d8b96e63554ca5b';
const KiB = 1024;

const dirs: string[] = [];
async function scratch(): Promise<string> {
  const dir = await tempDir();
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const hexOf = (digest: string): string => digest.slice('sha256:'.length);
const events = <T>(seen: { name: string; payload: unknown }[], name: string): T[] =>
  seen.filter((event) => event.name === name).map((event) => event.payload as T);

describe.each(['ghcr', 'distribution'] as const)('images on the %s profile', (profile) => {
  /** The operation that carries blob bytes (ghcr redirects to its blob host). */
  const blobBytes = profile === 'ghcr' ? 'blobhost.get' : 'blob.get';

  it('pushes an OCI layout under several tags and pulls it back byte for byte', async () => {
    const { client } = simulatedClient({ profile });
    const { images, seen } = imagesFor(client);
    const pushed = await images.push(
      { repository: 'octo/app', tags: ['v1', 'latest'] },
      { layout: FIXTURE_LAYOUT },
    );
    expect(pushed).toMatchObject({
      descriptor: { digest: INDEX, mediaType: MediaType.OciIndex },
      references: ['v1', 'latest'],
      transferred: 7,
      repository: 'octo/app',
    });
    for (const tag of ['v1', 'latest'])
      expect((await client.manifests.head('octo/app', tag))?.digest).toBe(INDEX);
    expect(events<PushedEvent>(seen, 'pushed')).toEqual([
      {
        kind: 'image',
        registry: client.registry,
        repository: 'octo/app',
        digest: INDEX,
        size: 571,
        mediaType: MediaType.OciIndex,
        tags: ['v1', 'latest'],
      },
    ]);

    const dir = join(await scratch(), 'pulled');
    const pulled = await images.pull('octo/app:v1', dir);
    expect(pulled).toMatchObject({ descriptor: { digest: INDEX }, references: ['v1'], transferred: 7 });
    const expected = await treeOf(FIXTURE_LAYOUT);
    const actual = await treeOf(dir);
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [path, bytes] of expected) expect(actual.get(path)?.equals(bytes), path).toBe(true);
    expect(events<CopiedEvent>(seen, 'copied')).toEqual([
      expect.objectContaining({
        operation: 'pull',
        source: `${client.registry}/octo/app:v1`,
        destination: `oci:${dir}:v1`,
        digest: INDEX,
        transferred: 7,
        tags: ['v1'],
      }),
    ]);
    const progress = events<ProgressEvent>(seen, 'progress').filter(
      (event) => event.operation === 'images.pull',
    );
    expect(progress.at(-1)).toMatchObject({ itemsDone: 7, itemsTotal: 7 });
  });

  it('pulls one platform of an index, tagged in the layout, and by digest without a name', async () => {
    const { client } = simulatedClient({ profile });
    const { images } = imagesFor(client);
    await images.push('octo/app:v1', { layout: FIXTURE_LAYOUT, tag: 'v1' });
    const dir = join(await scratch(), 'arm');
    const result = await images.pull('octo/app:v1', dir, { platform: 'linux/arm64/v8', tag: 'arm' });
    expect(result.descriptor.digest).toBe(ARM64);
    const layout = ociLayout(dir);
    expect(await layout.list()).toEqual([
      {
        mediaType: MediaType.OciManifest,
        digest: ARM64,
        size: 629,
        annotations: { [OCI_REF_NAME_ANNOTATION]: 'arm' },
      },
    ]);
    expect(await readdir(join(dir, 'blobs/sha256'))).toHaveLength(4);

    const byDigest = join(await scratch(), 'by-digest');
    await images.pull(`octo/app@${INDEX}`, byDigest);
    expect(await ociLayout(byDigest).list()).toEqual([
      { mediaType: MediaType.OciIndex, digest: INDEX, size: 571 },
    ]);
  });

  it('pushes files as an artifact under several tags, inspects and pulls it', async () => {
    const { client } = simulatedClient({ profile });
    const { images } = imagesFor(client);
    const dir = await scratch();
    await writeFile(join(dir, 'sbom.json'), '{"spdxVersion":"SPDX-2.3"}');
    await writeFile(join(dir, 'notes.txt'), 'hello');
    const result = await images.push(
      { repository: 'octo/sbom', tags: ['1.0', 'stable'] },
      {
        files: [
          join(dir, 'sbom.json'),
          { path: join(dir, 'notes.txt'), mediaType: 'text/plain', title: 'README' },
        ],
        artifactType: 'application/vnd.example.sbom.v1',
        annotations: { 'org.opencontainers.image.created': '2026-03-04T05:06:07Z' },
      },
    );
    expect(result.transferred).toBe(4); // two files, the {} config, the manifest
    const manifest = await client.manifests.get('octo/sbom', 'stable');
    expect(manifest.digest).toBe(result.descriptor.digest);
    expect(manifest.manifest).toMatchObject({
      artifactType: 'application/vnd.example.sbom.v1',
      config: { mediaType: MediaType.OciEmpty, digest: digestOf('{}'), size: 2 },
      layers: [
        { mediaType: MediaType.OciLayer, annotations: { [TITLE_ANNOTATION]: 'sbom.json' } },
        { mediaType: 'text/plain', digest: digestOf('hello'), annotations: { [TITLE_ANNOTATION]: 'README' } },
      ],
    });
    const inspected = await images.inspect('octo/sbom:1.0');
    expect(inspected).toMatchObject({
      kind: 'oci-manifest',
      artifactType: 'application/vnd.example.sbom.v1',
      created: '2026-03-04T05:06:07Z',
      platforms: [],
      labels: {},
      totalSize: manifest.size + 2 + 26 + 5,
    });
    const out = join(await scratch(), 'out');
    await images.pull('octo/sbom:1.0', out);
    expect(await readFile(join(out, 'blobs/sha256', hexOf(digestOf('hello'))), 'utf8')).toBe('hello');
  });

  it('inspects an image: config, layers, created, labels, platform and total size', async () => {
    const { client } = simulatedClient({ profile });
    const { images } = imagesFor(client);
    const image = await randomImage([3 * KiB, 5 * KiB], {
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    });
    await images.push('octo/random:v1', { target: image.target, reference: 'v1' });
    expect(await images.inspect('octo/random:v1')).toMatchObject({
      digest: image.manifest.digest,
      mediaType: MediaType.OciManifest,
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      platforms: [{ os: 'linux', architecture: 'arm64', variant: 'v8' }],
      layers: [{ size: 3 * KiB }, { size: 5 * KiB }],
      created: '2026-01-02T03:04:05Z',
      labels: { 'org.example.name': 'random' },
      totalSize: image.manifest.size + image.config.byteLength + 8 * KiB,
    });
    await images.push('octo/app:v1', { layout: FIXTURE_LAYOUT });
    const index = await images.inspect('octo/app:v1');
    expect(index.platforms.map((platform) => platform.architecture)).toEqual(['amd64', 'arm64']);
    // The index, both manifests, both configs, and the two shared layers once.
    expect(index.totalSize).toBe(571 + 629 + 629 + 459 + 474 + 139 + 138);
    const arm = await images.inspect('octo/app:v1', { platform: 'linux/arm64' });
    expect(arm).toMatchObject({
      digest: ARM64,
      index: { digest: INDEX },
      labels: { 'org.opencontainers.image.source': 'https://github.com/example/app' },
    });
  });

  it('copies inside the registry by mounting: no blob bytes are sent', async () => {
    const { client, sim } = simulatedClient({ profile });
    const { images, seen } = imagesFor(client);
    await images.push('octo/app:v1', { layout: FIXTURE_LAYOUT });
    sim.log.clear();
    const result = await images.copy('octo/app:v1', 'octo/mirror:copied');
    expect(result).toMatchObject({ mounted: 4, transferred: 7, repository: 'octo/mirror' });
    expect(result.bytesTransferred).toBe(571 + 629 + 629);
    const mounts = sim.log.byOperation('blob.upload.start');
    expect(mounts).toHaveLength(4);
    expect(mounts.every((entry) => entry.url.includes('mount=') && entry.status === 201)).toBe(true);
    expect(sim.log.byOperation('blob.upload.patch')).toEqual([]);
    expect(sim.log.byOperation('blob.upload.put')).toEqual([]);
    expect(sim.log.byOperation(blobBytes)).toEqual([]);
    // The mount is the existence check: no HEAD per blob before it.
    expect(sim.log.byOperation('blob.head')).toEqual([]);
    expect((await client.manifests.head('octo/mirror', 'copied'))?.digest).toBe(INDEX);
    expect(events<CopiedEvent>(seen, 'copied').at(-1)).toMatchObject({
      operation: 'copy',
      source: `${client.registry}/octo/app:v1`,
      destination: `${client.registry}/octo/mirror:copied`,
      mounted: 4,
    });
  });

  it('copies to another registry, streaming and verifying, one platform or all', async () => {
    const source = simulatedClient({ profile });
    const destination = simulatedClient({ profile: profile === 'ghcr' ? 'distribution' : 'ghcr' });
    const { images } = imagesFor(source.client);
    await images.push('octo/app:v1', { layout: FIXTURE_LAYOUT });
    const all = await images.copy('octo/app:v1', 'octo/app:v1', { destinationClient: destination.client });
    expect(all).toMatchObject({ transferred: 7, mounted: 0, registry: destination.client.registry });
    expect((await destination.client.manifests.get('octo/app', 'v1')).digest).toBe(INDEX);
    expect(
      destination.sim.log.byOperation('blob.upload.start').every((entry) => !entry.url.includes('mount=')),
    ).toBe(true);

    const one = await images.copy('octo/app:v1', 'octo/arm:v1', {
      destinationClient: destination.client,
      platform: 'linux/arm64',
    });
    expect(one).toMatchObject({ descriptor: { digest: ARM64 }, transferred: 4, skipped: 0 });
    expect((await destination.client.manifests.head('octo/arm', 'v1'))?.digest).toBe(ARM64);
    expect(await destination.client.manifests.head('octo/arm', INDEX)).toBeUndefined();
  });

  it('reads the root with one GET by tag (no HEAD first), and names a missing tag', async () => {
    const { client, sim } = simulatedClient({ profile });
    const { images } = imagesFor(client);
    const image = await randomImage([2 * KiB]);
    await images.push('octo/root:v1', { target: image.target, reference: 'v1' });
    sim.log.clear();
    await images.pull('octo/root:v1', join(await scratch(), 'root'));
    expect(sim.log.byOperation('manifest.head')).toEqual([]);
    expect(sim.log.byOperation('manifest.get').map((entry) => entry.url.split('/manifests/')[1])).toEqual([
      'v1',
    ]);

    const error = await rejection(images.pull('octo/root:nope', join(await scratch(), 'missing')));
    expect((error as GhcrError).code).toBe('MANIFEST_UNKNOWN');
    expect((error as Error).message).toContain('octo/root:nope does not exist: no manifest has that tag');
  });

  it('puts the root manifest once, under its first tag, after its children by digest', async () => {
    const { client, sim } = simulatedClient({ profile });
    const { images } = imagesFor(client);
    sim.log.clear();
    await images.push({ repository: 'octo/once', tags: ['v1', 'latest'] }, { layout: FIXTURE_LAYOUT });
    const puts = sim.log.byOperation('manifest.put').map((entry) => entry.path.split('/manifests/')[1]);
    expect(puts.filter((reference) => reference === INDEX)).toEqual([]);
    expect(puts.filter((reference) => reference === 'v1' || reference === 'latest').sort()).toEqual([
      'latest',
      'v1',
    ]);
    expect(puts).toContain(ARM64);
    expect(puts.indexOf('v1')).toBeGreaterThan(puts.indexOf(ARM64));
    expect((await images.inspect(`octo/once@${INDEX}`)).digest).toBe(INDEX);
  });

  it('takes a reference naming another registry to that registry, not to its own', async () => {
    const { client, sim } = simulatedClient({ profile });
    const { images } = imagesFor(client);
    // No simulation serves quay.io here: the request must go there (and fail), not to our registry.
    const error = await rejection(images.inspect('quay.io/octo/app:v1'));
    expect((error as Error).message).toContain('quay.io');
    const asked = sim.log.filter((entry) => entry.path.includes('octo/app'));
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.map((entry) => entry.host)).toEqual(asked.map(() => 'quay.io'));
  });

  describe('faults', () => {
    it('resumes a download that was cut mid-blob (Range) and writes the blob whole', async () => {
      const { client, sim } = simulatedClient({ profile });
      const { images } = imagesFor(client);
      const image = await randomImage([2 * 1024 * KiB]);
      await images.push('octo/big:v1', { target: image.target, reference: 'v1' });
      const layer = image.layers[0] as Buffer;
      sim.faults.add({
        operation: blobBytes,
        path: new RegExp(hexOf(digestOf(layer))),
        nth: 1,
        action: { type: 'reset', afterBytes: 700 * KiB },
      });
      sim.log.clear();
      const dir = join(await scratch(), 'big');
      await images.pull('octo/big:v1', dir);
      expect((await readFile(join(dir, 'blobs/sha256', hexOf(digestOf(layer))))).equals(layer)).toBe(true);
      const requests = sim.log
        .byOperation(blobBytes)
        .filter((entry) => entry.path.includes(hexOf(digestOf(layer))));
      expect(requests).toHaveLength(2);
      // The first response broke off; the second asked for the rest from where it broke.
      const cut = requests[0]?.responseBytes ?? 0;
      expect(requests[0]?.faults).toHaveLength(1);
      expect(cut).toBeGreaterThan(0);
      expect(cut).toBeLessThan(layer.byteLength);
      expect(requests[1]?.requestHeaders.range).toBe(`bytes=${cut}-`);
      expect(requests[1]?.status).toBe(206);
    });

    it('re-fetches a blob whose bytes fail verification, discarding the bad copy', async () => {
      const { client, sim, clock, sleeps } = simulatedClient({ profile });
      const { images, events: kitEvents } = imagesFor(client);
      const image = await randomImage([300 * KiB, 200 * KiB]);
      await images.push('octo/flip:v1', { target: image.target, reference: 'v1' });
      const bad = digestOf(image.layers[1] as Buffer);
      sim.faults.add({
        operation: blobBytes,
        path: new RegExp(hexOf(bad)),
        count: 1,
        action: { type: 'corrupt', offset: 1000 },
      });
      const retries: RetryEvent[] = [];
      kitEvents.on('retry', (event) => retries.push(event));
      sim.log.clear();
      const dir = join(await scratch(), 'flip');
      await settle(images.pull('octo/flip:v1', dir, { concurrency: 1 }), clock);
      const fetches = sim.log.byOperation(blobBytes).filter((entry) => entry.path.includes(hexOf(bad)));
      expect(fetches.map((entry) => entry.requestHeaders.range)).toEqual([undefined, undefined]);
      expect(retries).toMatchObject([
        { operation: 'images.pull', digest: bad, action: 'refetch', attempt: 2 },
      ]);
      expect(retries[0]?.message).toMatch(/discarded, fetching it again/);
      expect(sleeps).toContain(1000);
      expect(await readFile(join(dir, 'blobs/sha256', hexOf(bad)))).toEqual(image.layers[1]);
    });

    it('fails a blob corrupted on every fetch with DigestMismatchError and leaves no complete file', async () => {
      const { client, sim, clock } = simulatedClient({ profile });
      const { images } = imagesFor(client);
      const image = await randomImage([300 * KiB, 200 * KiB]);
      await images.push('octo/bad:v1', { target: image.target, reference: 'v1' });
      const bad = digestOf(image.layers[1] as Buffer);
      sim.faults.add({
        operation: blobBytes,
        path: new RegExp(hexOf(bad)),
        action: { type: 'corrupt', offset: 1000 },
      });
      sim.log.clear();
      const dir = join(await scratch(), 'bad');
      const error = await rejection(settle(images.pull('octo/bad:v1', dir), clock));
      expect(DigestMismatchError.isInstance(error)).toBe(true);
      // Three fetches (the first and two more), then it gives up.
      expect(
        sim.log
          .byOperation(blobBytes)
          .filter((entry) => entry.path.includes(hexOf(bad)) && !entry.requestHeaders.range),
      ).toHaveLength(3);
      expect(await readdir(join(dir, 'blobs/sha256'))).not.toContain(hexOf(bad));
      expect((await readdir(dir)).filter((name) => name.startsWith('.ghcr-tmp-'))).toEqual([]);
      expect(await ociLayout(dir).list()).toEqual([]); // nothing names a partial image
    });

    it('refuses to push a layout whose blob file is corrupt: the registry checks the digest, nothing is tagged', async () => {
      const { client } = simulatedClient({ profile });
      const { images } = imagesFor(client);
      const layout = join(await scratch(), 'layout');
      await cp(FIXTURE_LAYOUT, layout, { recursive: true });
      // Flip one byte of the largest layer (a blob that is not JSON), keeping its size.
      const blobsDir = join(layout, 'blobs/sha256');
      const sizes = await Promise.all(
        (await readdir(blobsDir)).map(async (name) => ({
          name,
          size: (await stat(join(blobsDir, name))).size,
          json: (await readFile(join(blobsDir, name)))[0] === '{'.charCodeAt(0),
        })),
      );
      const largest = sizes.filter((blob) => !blob.json).sort((a, b) => b.size - a.size)[0];
      if (largest === undefined) throw new Error('the fixture layout has no blobs');
      const file = join(blobsDir, largest.name);
      const bytes = await readFile(file);
      bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)] ?? 0) ^ 0xff;
      await writeFile(file, bytes);

      const error = await rejection(images.push({ repository: 'octo/corrupt', tags: ['v1'] }, { layout }));
      expect(UploadError.isInstance(error)).toBe(true);
      expect((error as GhcrError).code).toBe('DIGEST_INVALID');
      expect((error as Error).message).toContain(`sha256:${largest.name}`);
      expect(await client.blobs.exists('octo/corrupt', `sha256:${largest.name}`)).toBeUndefined();
      expect(await client.manifests.head('octo/corrupt', 'v1')).toBeUndefined();
    });

    it('names the layout file, not a registry, when a manifest in a layout is corrupt', async () => {
      const { client } = simulatedClient({ profile });
      const { images } = imagesFor(client);
      const layout = join(await scratch(), 'layout');
      await cp(FIXTURE_LAYOUT, layout, { recursive: true });
      const file = join(layout, 'blobs/sha256', hexOf(ARM64));
      const bytes = await readFile(file);
      // Same size, one byte changed (the closing brace), so only the digest can tell.
      await writeFile(file, Buffer.concat([bytes.subarray(0, -1), Buffer.from(' ')]));
      const error = await rejection(images.push({ repository: 'octo/corrupt', tags: ['v1'] }, { layout }));
      expect(DigestMismatchError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(new RegExp(`manifest ${ARM64} of .* is corrupt`));
      expect((error as Error).message).not.toContain('registry');
      expect(await client.manifests.head('octo/corrupt', 'v1')).toBeUndefined();
    });

    it('reruns an interrupted pull fetching only the blobs that were not already there and verified', async () => {
      const { client, sim, clock } = simulatedClient({ profile });
      const { images } = imagesFor(client);
      const image = await randomImage([40 * KiB, 50 * KiB, 60 * KiB, 70 * KiB]);
      await images.push('octo/rerun:v1', { target: image.target, reference: 'v1' });
      const last = digestOf(image.layers[3] as Buffer);
      // Corrupt on each of the pull's three fetches, then good again.
      sim.faults.add({
        operation: blobBytes,
        path: new RegExp(hexOf(last)),
        count: 3,
        action: { type: 'corrupt' },
      });
      const dir = join(await scratch(), 'rerun');
      expect(
        DigestMismatchError.isInstance(
          await rejection(settle(images.pull('octo/rerun:v1', dir, { concurrency: 1 }), clock)),
        ),
      ).toBe(true);
      const kept = new Set((await readdir(join(dir, 'blobs/sha256'))).map((hex) => `sha256:${hex}`));
      expect(kept.size).toBeGreaterThanOrEqual(1);
      expect(kept.has(last)).toBe(false);

      sim.log.clear();
      const result = await images.pull('octo/rerun:v1', dir, { concurrency: 1 });
      const all = [digestOf(image.config), ...image.layers.map((layer) => digestOf(layer))];
      const fetched = sim.log
        .byOperation('blob.get')
        .map((entry) => `sha256:${entry.path.split('/').at(-1)?.replace('sha256:', '')}`);
      expect(new Set(fetched)).toEqual(new Set(all.filter((digest) => !kept.has(digest))));
      expect(result.skipped).toBe(kept.size);
      expect((await ociLayout(dir).resolve('v1')).digest).toBe(image.manifest.digest);
    });

    it('refuses to pull into a layout whose blobs directory leads outside it', async () => {
      const { client } = simulatedClient({ profile });
      const { images } = imagesFor(client);
      await images.push('octo/app:v1', { layout: FIXTURE_LAYOUT });
      const root = await scratch();
      const outside = join(root, 'outside');
      const dir = join(root, 'layout');
      await mkdir(outside);
      await mkdir(dir);
      await symlink(outside, join(dir, 'blobs'));
      const error = await rejection(images.pull('octo/app:v1', dir));
      expect(InvalidInputError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain('outside the OCI layout');
      expect(await readdir(outside)).toEqual([]);
    });

    it('stops a pull when aborted', async () => {
      const { client } = simulatedClient({ profile });
      const { images } = imagesFor(client);
      await images.push('octo/app:v1', { layout: FIXTURE_LAYOUT });
      const controller = new AbortController();
      controller.abort();
      const dir = join(await scratch(), 'aborted');
      const error = await rejection(images.pull('octo/app:v1', dir, { signal: controller.signal }));
      expect((error as GhcrError).code).toBe(GhcrErrorCode.ABORTED);
    });
  });
});

describe('parallel transfers', () => {
  it('pull and push 16 blobs at a time without a MaxListenersExceededWarning on the shared signal', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const { client } = simulatedClient({ profile: 'distribution' });
      const { images } = imagesFor(client);
      const image = await randomImage(Array.from({ length: 24 }, () => 8 * KiB));
      await images.push('octo/wide:v1', { target: image.target, reference: 'v1' }, { concurrency: 16 });
      const dir = join(await scratch(), 'wide');
      const pulled = await images.pull('octo/wide:v1', dir, { concurrency: 16 });
      expect(pulled.transferred).toBe(26);
      await images.push('octo/wide-again:v1', { layout: dir }, { concurrency: 16 });
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('blob checks overlap transfers', () => {
  it('uploads a missing blob right after its HEAD, not after every blob was checked', async () => {
    const { client, sim } = simulatedClient({ profile: 'distribution' });
    const { images } = imagesFor(client);
    const image = await randomImage(Array.from({ length: 10 }, () => 4 * KiB));
    // One layer is there already: it is checked, counted as skipped, and not sent.
    const [first] = image.manifest.manifest.layers;
    if (first === undefined) throw new Error('randomImage made no layers');
    await client.blobs.upload('octo/overlap', image.layers[0] as Buffer);
    sim.log.clear();
    const progressed = new Set<string>();
    const result = await images.push(
      'octo/overlap:v1',
      { target: image.target, reference: 'v1' },
      { concurrency: 2, onProgress: (event) => progressed.add(event.digest) },
    );
    // The blob that was there moved nothing and gets no progress event of its own.
    expect(progressed.has(first.digest)).toBe(false);
    expect(progressed.size).toBe(11);
    expect(result).toMatchObject({ transferred: 11, skipped: 1 });
    const operations = sim.log.entries.map((entry) => entry.operation);
    const firstUpload = operations.indexOf('blob.upload.start');
    const lastHead = operations.lastIndexOf('blob.head');
    expect(firstUpload).toBeGreaterThan(-1);
    expect(firstUpload).toBeLessThan(lastHead);
    expect(sim.log.byOperation('blob.head')).toHaveLength(11);
    expect(sim.log.byOperation('blob.upload.start')).toHaveLength(10);
    const puts = sim.log.byOperation('blob.upload.put');
    expect(puts).toHaveLength(10);
    expect(puts.some((entry) => decodeURIComponent(entry.url).includes(first.digest))).toBe(false);
  });
});

describe('remote repository target', () => {
  it('resolves, checks, fetches and tags on the registry', async () => {
    const { client } = simulatedClient({ profile: 'distribution' });
    const { images } = imagesFor(client);
    await images.push('octo/app:v1', { layout: FIXTURE_LAYOUT });
    const remote = remoteRepository(client, 'octo/app');
    expect(remote.name).toBe(`${client.registry}/octo/app`);
    const root = await remote.resolve('v1');
    expect(root.digest).toBe(INDEX);
    expect(await remote.exists(root)).toBe(true);
    const index = await remote.fetchManifest(root);
    await remote.tag(descriptorOf(index), 'again', { manifest: index.bytes });
    expect((await remote.resolve('again')).digest).toBe(INDEX);
    const missing = await rejection(remote.resolve('nope'));
    expect((missing as GhcrError).code).toBe('MANIFEST_UNKNOWN');
    const wrongBytes = await rejection(remote.tag(root, 'bad', { manifest: Buffer.from('{}') }));
    expect((wrongBytes as GhcrError).code).toBe(GhcrErrorCode.SIZE_MISMATCH);
  });
});

describe('images.push from files', () => {
  it('names a file that cannot be read', async () => {
    const { client } = simulatedClient();
    const { images } = imagesFor(client);
    const missing = join(await scratch(), 'missing.json');
    const error = await rejection(
      images.push('octo/x:1', { files: [missing], artifactType: 'application/vnd.example' }),
    );
    expect((error as GhcrError).code).toBe('GHCR_FILE_SYSTEM');
    expect((error as Error).message).toContain(missing);
  });
});

/** The statuses a simulated registry answered `operation` with, but for auth challenges (401). */
const answers = (sim: ReturnType<typeof simulatedClient>['sim'], operation: string): number[] =>
  sim.log
    .byOperation(operation)
    .map((entry) => entry.status)
    .filter((status) => status !== 401);

describe.each(['ghcr', 'distribution'] as const)('the destination repository (%s profile)', (profile) => {
  it('pushes a docker-archive into a new repository uploading each layer as it is compressed, and into an existing one sends only what it lacks', async () => {
    const { sim, client } = simulatedClient();
    const work = await scratch();
    const image = await makeImage(work, ['example.com/app:1.0'], { layers: 2, bytes: 300 * KiB });
    const archive = await legacyArchive(work, [image]);
    const blobOps = () =>
      sim.log.entries
        .map((entry) => `${entry.operation} ${entry.status}`)
        .filter((line) => /^(blob|tags)/.test(line));

    const read: ProgressEvent[] = [];
    client.events.on('progress', (event) => {
      if (event.source === 'archive-layer') read.push(event);
    });
    const first = await client.images.push('octo/archived:1', { archive });
    const layers = (await client.manifests.get('octo/archived', '1')).manifest as {
      layers: { digest: string; size: number }[];
    };
    // Each layer's one read (compressed and sent as it goes) is reported under its diff_id, from
    // nothing to its size in the archive.
    const diffIds = image.layers.map((layer) => digestOf(layer));
    const readOf = (events: readonly ProgressEvent[]) =>
      diffIds.map((diffId) =>
        events
          .filter((event) => event.digest === diffId)
          .map((event) => `${event.operation} ${event.bytesDone}/${event.bytesTotal}`),
      );
    const ends = (events: string[][]) => events.map((seen) => [seen[0], seen.at(-1)]);
    expect(ends(readOf(read))).toEqual(
      image.layers.map((layer) => [
        `images.push 0/${layer.byteLength}`,
        `images.push ${layer.byteLength}/${layer.byteLength}`,
      ]),
    );
    const ops = blobOps();
    // The repository does not exist: each layer goes up as one streamed PATCH while it is
    // compressed, then the copy finds both layers there and sends only the config.
    expect(ops[0]).toBe('tags.list 404');
    expect(ops.filter((line) => line === 'blob.upload.patch 202')).toHaveLength(2);
    expect(ops.slice(-5)).toEqual([
      'blob.head 404',
      'blob.head 200',
      'blob.head 200',
      'blob.upload.start 202',
      'blob.upload.put 201',
    ]);
    expect(
      sim.log
        .byOperation('blob.upload.patch')
        .every((entry) => entry.requestHeaders['content-range'] === undefined),
    ).toBe(true);
    expect(first).toMatchObject({ transferred: 4, skipped: 0 });
    expect(first.bytesTransferred).toBe(
      layers.layers.reduce((sum, layer) => sum + layer.size, 0) +
        image.config.byteLength +
        first.descriptor.size,
    );

    // It exists now: asked once, nothing streamed, and the image is there already. The layers
    // are still read once (to learn their digests), and that read is reported.
    sim.log.clear();
    read.length = 0;
    const again = await client.images.push('octo/archived:2', { archive });
    expect(blobOps()).toEqual(['tags.list 200']);
    expect(again).toMatchObject({ transferred: 0, skipped: 1, references: ['2'] });
    expect(ends(readOf(read))).toEqual(
      image.layers.map((layer) => [
        `images.push 0/${layer.byteLength}`,
        `images.push ${layer.byteLength}/${layer.byteLength}`,
      ]),
    );
  });

  it('asks once whether the destination repository exists, and checks no blob of a new one', async () => {
    const { client, sim } = simulatedClient({ profile });
    const { images } = imagesFor(client);
    const image = await randomImage([4 * KiB, 4 * KiB, 4 * KiB]);
    const first = await images.push('octo/fresh:v1', { target: image.target, reference: 'v1' });
    expect(first).toMatchObject({ transferred: 5, skipped: 0 });
    expect(answers(sim, 'tags.list')).toEqual([404]);
    expect(sim.log.byOperation('blob.head')).toHaveLength(0);
    expect((await client.manifests.head('octo/fresh', 'v1'))?.digest).toBe(image.manifest.digest);

    // The repository exists now: each blob is checked again, and what is there is not sent.
    sim.log.clear();
    const next = await randomImage([4 * KiB, 4 * KiB, 4 * KiB]);
    const second = await images.push('octo/fresh:v2', { target: next.target, reference: 'v1' });
    expect(second).toMatchObject({ transferred: 5, skipped: 0 });
    expect(answers(sim, 'tags.list')).toEqual([200]);
    expect(sim.log.byOperation('blob.head')).toHaveLength(4);
  });

  it('does not ask when the caller says the destination repository exists', async () => {
    const { client } = simulatedClient({ profile });
    const destination = simulatedClient({ profile: profile === 'ghcr' ? 'distribution' : 'ghcr' });
    const { images } = imagesFor(client);
    const image = await randomImage([4 * KiB, 4 * KiB, 4 * KiB]);
    await images.push('octo/source:v1', { target: image.target, reference: 'v1' });
    // The mirror repository exists: it holds another image.
    await imagesFor(destination.client).images.push('octo/mirror:v0', {
      target: (await randomImage([KiB])).target,
      reference: 'v1',
    });
    destination.sim.log.clear();
    const result = await images.copy('octo/source:v1', 'octo/mirror:v1', {
      destinationClient: destination.client,
      destinationExists: true,
    });
    expect(result).toMatchObject({ transferred: 5, skipped: 0 });
    expect(destination.sim.log.byOperation('tags.list')).toHaveLength(0);
    expect(answers(destination.sim, 'blob.head')).toHaveLength(4);
  });

  it('checks blob by blob when it cannot tell whether the repository exists, or when too few blobs to pay', async () => {
    const { client, sim } = simulatedClient({ profile });
    const { images } = imagesFor(client);
    // Listing tags refused (no right to list, say): unsure, so every blob is checked as before.
    sim.faults.add({ operation: 'tags.list', nth: 1, action: { type: 'status', status: 403 } });
    const image = await randomImage([4 * KiB, 4 * KiB, 4 * KiB]);
    expect(await images.push('octo/unsure:v1', { target: image.target, reference: 'v1' })).toMatchObject({
      transferred: 5,
    });
    expect(answers(sim, 'tags.list')).toEqual([403]);
    expect(sim.log.byOperation('blob.head')).toHaveLength(4);

    // A config and one layer: a HEAD each costs no more than asking, so nothing is asked.
    sim.log.clear();
    const small = await randomImage([4 * KiB]);
    await images.push('octo/small:v1', { target: small.target, reference: 'v1' });
    expect(sim.log.byOperation('tags.list')).toHaveLength(0);
    expect(sim.log.byOperation('blob.head')).toHaveLength(2);
  });
});
