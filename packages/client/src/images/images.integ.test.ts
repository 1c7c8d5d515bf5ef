import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { buildIndex, descriptorOf } from '@ghcr/manifest';
import { digestOf, MediaType } from '@ghcr/oci-types';
import {
  type DockerRegistry,
  findBinary,
  integrationAvailability,
  startDockerRegistry,
} from '@ghcr/test-support';
import { describeWithBinaries } from '@ghcr/test-support/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGhcrClient } from '../client.js';
import { copy } from '../content/copy.js';
import { memoryTarget } from '../content/memory-target.js';
import { ociLayout } from '../content/oci-layout.js';
import { FIXTURE_LAYOUT, imagesFor, randomImage, tempDir, treeOf } from '../testing/images-kit.js';
import { createRequestLog, type LoggedRequest } from '../testing/request-log.js';

const INDEX = 'sha256:80512d7b0fcd9b26a1d57f543cc7e865c40a719a46bbb71bcbd57b4f52c4be84';
const MiB = 1024 * 1024;
const withRegistry = integrationAvailability(['docker-registry']);
const withSkopeo = integrationAvailability(['docker-registry', 'skopeo']);

/** Two registry processes and a scratch directory, shared by the tests of one describe. */
function useRegistries(): {
  registry: () => DockerRegistry;
  other: () => DockerRegistry;
  workDir: () => string;
} {
  let registry: DockerRegistry | undefined;
  let other: DockerRegistry | undefined;
  let workDir: string | undefined;
  beforeAll(async () => {
    [registry, other] = await Promise.all([startDockerRegistry(), startDockerRegistry()]);
    workDir = await tempDir('ghcr-images-integ-');
  });
  afterAll(async () => {
    await Promise.all([registry?.stop(), other?.stop()]);
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });
  return {
    registry: () => registry as DockerRegistry,
    other: () => other as DockerRegistry,
    workDir: () => workDir as string,
  };
}

function clientFor(host: string, extra: Parameters<typeof createGhcrClient>[0] = {}) {
  const log = createRequestLog();
  const client = createGhcrClient({
    registry: host,
    transportOptions: { middleware: [log.middleware], retry: { baseDelayMs: 10, maxDelayMs: 50 } },
    resumeDelayMs: 10,
    ...extra,
  });
  return { client, log: log.entries, ...imagesFor(client) };
}

/** Runs skopeo; resolves with stdout as bytes, rejects with its stderr. */
function skopeo(args: readonly string[]): Promise<Buffer> {
  const binary = findBinary('skopeo') ?? 'skopeo';
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      ['--insecure-policy', ...args],
      { encoding: 'buffer', timeout: 120_000, maxBuffer: 64 * MiB },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`skopeo ${args.join(' ')} failed: ${stderr.toString('utf8')}`));
        else resolve(stdout);
      },
    );
  });
}

/** Blob requests that carried bytes to the registry (upload PATCH/PUT). */
const blobUploads = (log: readonly LoggedRequest[]) =>
  log.filter(
    (entry) => entry.operation === 'blobs.upload' && (entry.method === 'PATCH' || entry.method === 'PUT'),
  );

/** The statuses of the requests of one operation, in order. */
const statusesOf = (log: readonly LoggedRequest[], operation: string) =>
  log.filter((entry) => entry.operation === operation).map((entry) => entry.status);

describeWithBinaries(withRegistry, 'images against docker-registry', () => {
  const { registry, other, workDir } = useRegistries();
  it('pushes an OCI layout and pulls it back byte for byte', async () => {
    const { images, client } = clientFor(registry().host);
    await images.push({ repository: 'integ/app', tags: ['v1', 'latest'] }, { layout: FIXTURE_LAYOUT });
    expect((await client.manifests.head('integ/app', 'latest'))?.digest).toBe(INDEX);
    const dir = join(workDir(), 'pulled');
    await images.pull(`${registry().host}/integ/app:v1`, dir);
    const expected = await treeOf(FIXTURE_LAYOUT);
    const actual = await treeOf(dir);
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [path, bytes] of expected) expect(actual.get(path)?.equals(bytes), path).toBe(true);
  });

  it('copies inside the registry by mounting: no blob bytes in PUT or PATCH', async () => {
    const { images, log } = clientFor(registry().host);
    await images.push('integ/source:v1', { layout: FIXTURE_LAYOUT });
    log.length = 0;
    const result = await images.copy('integ/source:v1', 'integ/mounted:v1');
    expect(result).toMatchObject({ mounted: 4, transferred: 7 });
    expect(blobUploads(log)).toEqual([]);
    const mounts = log.filter((entry) => entry.operation === 'blobs.mount');
    expect(mounts.map((entry) => entry.status)).toEqual([201, 201, 201, 201]);
    expect(log.filter((entry) => entry.operation === 'blobs.get')).toEqual([]);
    // The registry links the blobs into the new repository itself.
    const { client } = clientFor(registry().host);
    const layer = 'sha256:9e241ba9d7ddde736dce2b7a04ef4705cdc499e5a045837c308584803b4bcae2';
    expect(await client.blobs.exists('integ/mounted', layer)).toBeDefined();
  });

  it('asks whether a repository exists before checking blobs: a new one gets none checked', async () => {
    const { images, log, client } = clientFor(registry().host);
    const image = await randomImage([1000, 2000, 3000]);
    await images.push('integ/fresh:v1', { target: image.target, reference: 'v1' });
    // docker-registry answers a tag list of a repository it does not know 404 NAME_UNKNOWN.
    expect(statusesOf(log, 'tags.list')).toEqual([404]);
    expect(log.filter((entry) => entry.operation === 'blobs.exists')).toEqual([]);
    expect((await client.manifests.head('integ/fresh', 'v1'))?.digest).toBe(image.manifest.digest);

    // Now it exists: every blob is checked, and the one the repository has is not sent again.
    const next = await randomImage([1000, 2000, 4000]);
    await client.blobs.upload('integ/fresh', next.layers[0] as Buffer);
    log.length = 0;
    const result = await images.push('integ/fresh:v2', { target: next.target, reference: 'v1' });
    expect(statusesOf(log, 'tags.list')).toEqual([200]);
    expect(log.filter((entry) => entry.operation === 'blobs.exists')).toHaveLength(4);
    expect(result).toMatchObject({ skipped: 1 });
  });

  it('copies a two-platform index to a second registry process, streamed in chunks, and pulls one platform', async () => {
    const source = clientFor(registry().host, { chunkSize: 4 * MiB, monolithicThreshold: 4 * MiB });
    const destination = clientFor(other().host, { chunkSize: 4 * MiB, monolithicThreshold: 4 * MiB });
    const amd = await randomImage([9 * MiB, 1000], { platform: { os: 'linux', architecture: 'amd64' } });
    const arm = await randomImage([6 * MiB], {
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    });
    const staged = memoryTarget();
    for (const image of [amd, arm]) await copy(image.target, 'v1', staged, image.manifest.digest);
    const index = buildIndex({
      manifests: [
        descriptorOf(amd.manifest, { platform: { os: 'linux', architecture: 'amd64' } }),
        descriptorOf(arm.manifest, { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }),
      ],
    });
    await staged.push(descriptorOf(index), index.bytes);
    await staged.tag(descriptorOf(index), 'multi');
    await source.images.push('integ/multi:2.0', { target: staged, reference: 'multi' });

    const copied = await source.images.copy('integ/multi:2.0', 'mirror/multi:2.0', {
      destinationClient: destination.client,
    });
    expect(copied).toMatchObject({ transferred: 8, mounted: 0, bytesTransferred: expect.any(Number) });
    // Nothing went through the disk: the 9 MiB layer was PATCHed in 4 MiB chunks to the second registry.
    const patches = destination.log.filter((entry) => entry.method === 'PATCH');
    expect(patches.length).toBeGreaterThanOrEqual(3);
    const inspected = await destination.images.inspect('mirror/multi:2.0');
    expect(inspected).toMatchObject({ digest: index.digest, kind: 'oci-index' });
    expect(inspected.platforms.map((platform) => platform.architecture)).toEqual(['amd64', 'arm64']);

    const dir = join(workDir(), 'multi-arm');
    const pulled = await destination.images.pull('mirror/multi:2.0', dir, { platform: 'linux/arm64' });
    expect(pulled.descriptor.digest).toBe(arm.manifest.digest);
    const layer = arm.layers[0] as Buffer;
    expect((await readFile(join(dir, 'blobs/sha256', digestOf(layer).slice(7)))).equals(layer)).toBe(true);
    expect((await ociLayout(dir).resolve('2.0')).digest).toBe(arm.manifest.digest);
  });

  it('copies a 24 MiB layer to a second registry process in one PUT whose body is the GET, byte for byte', async () => {
    const source = clientFor(registry().host);
    const destination = clientFor(other().host);
    const image = await randomImage([24 * MiB + 3]);
    await source.images.push('integ/views:v1', { target: image.target, reference: 'v1' });
    const copied = await source.images.copy('integ/views:v1', 'mirror/views:v1', {
      destinationClient: destination.client,
    });
    expect(copied).toMatchObject({ mounted: 0 });
    // One monolithic PUT per blob: no PATCH.
    expect(destination.log.filter((entry) => entry.method === 'PATCH')).toHaveLength(0);
    const layer = image.layers[0] as Buffer;
    const bytes = await destination.client.blobs.getBytes('mirror/views', digestOf(layer), {
      maxBytes: 32 * MiB,
    });
    expect(Buffer.compare(bytes, layer)).toBe(0);
  });
});
describeWithBinaries(withSkopeo, 'images: skopeo interop', () => {
  const { registry, workDir } = useRegistries();
  it('skopeo copies an image pushed by the client to an oci: layout with every digest the same', async () => {
    const { images } = clientFor(registry().host);
    await images.push('interop/client-pushed:v1', { layout: FIXTURE_LAYOUT });
    const dir = join(workDir(), 'skopeo-out');
    await skopeo([
      'copy',
      '--all',
      '--src-tls-verify=false',
      `docker://${registry().host}/interop/client-pushed:v1`,
      `oci:${dir}:v1`,
    ]);
    const written = await ociLayout(dir).resolve('v1');
    expect(written.digest).toBe(INDEX);
    const expected = await treeOf(FIXTURE_LAYOUT);
    const actual = await treeOf(dir);
    const blobs = (tree: Map<string, Buffer>) =>
      [...tree.keys()].filter((path) => path.startsWith('blobs/')).sort();
    expect(blobs(actual)).toEqual(blobs(expected));
    for (const path of blobs(expected)) {
      const bytes = actual.get(path) as Buffer;
      expect(`sha256:${path.split('/').at(-1)}`).toBe(digestOf(bytes));
    }

    // A single-platform image too (what `skopeo copy` without --all takes).
    const image = await randomImage([2 * MiB], { gzip: true });
    await images.push('interop/single:v1', { target: image.target, reference: 'v1' });
    const single = join(workDir(), 'skopeo-single');
    await skopeo([
      'copy',
      '--src-tls-verify=false',
      `docker://${registry().host}/interop/single:v1`,
      `oci:${single}:v1`,
    ]);
    expect((await ociLayout(single).resolve('v1')).digest).toBe(image.manifest.digest);
    const layer = image.layers[0] as Buffer;
    expect((await readFile(join(single, 'blobs/sha256', digestOf(layer).slice(7)))).equals(layer)).toBe(true);
  });

  it('the client pulls an image skopeo pushed into a layout skopeo accepts as a source, unchanged', async () => {
    await skopeo([
      'copy',
      '--all',
      '--dest-tls-verify=false',
      `oci:${FIXTURE_LAYOUT}:v1`,
      `docker://${registry().host}/interop/skopeo-pushed:v1`,
    ]);
    const original = await skopeo([
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${registry().host}/interop/skopeo-pushed:v1`,
    ]);
    expect(digestOf(original)).toBe(INDEX);

    const { images } = clientFor(registry().host);
    const dir = join(workDir(), 'client-pulled');
    await images.pull('interop/skopeo-pushed:v1', dir);
    expect(await skopeo(['inspect', '--raw', `oci:${dir}:v1`])).toEqual(original);

    await skopeo([
      'copy',
      '--all',
      '--dest-tls-verify=false',
      `oci:${dir}:v1`,
      `docker://${registry().host}/interop/round-trip:v1`,
    ]);
    const roundTrip = await skopeo([
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${registry().host}/interop/round-trip:v1`,
    ]);
    expect(roundTrip.equals(original)).toBe(true);
    expect(digestOf(roundTrip)).toBe(INDEX);
    const { client } = clientFor(registry().host);
    for (const platform of ['linux/amd64', 'linux/arm64']) {
      const inspected = await images.inspect('interop/round-trip:v1', { platform });
      expect(await client.manifests.head('interop/skopeo-pushed', inspected.digest)).toMatchObject({
        digest: inspected.digest,
        mediaType: MediaType.OciManifest,
      });
    }
  });
});
