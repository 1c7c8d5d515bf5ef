import { execFile } from 'node:child_process';
import { readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ParsedImageManifest } from '@ghcr/manifest';
import { MediaType } from '@ghcr/oci-types';
import {
  type DockerRegistry,
  findBinary,
  integrationAvailability,
  startDockerRegistry,
} from '@ghcr/test-support';
import { describeWithBinaries } from '@ghcr/test-support/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGhcrClient } from '../../client.js';
import { type KitImage, legacyArchive, makeImage, scratch, sha256 } from '../../testing/archive-kit.js';
import { FIXTURE_LAYOUT } from '../../testing/images-kit.js';
import { copy } from '../copy.js';
import { memoryTarget } from '../memory-target.js';
import { ociLayout } from '../oci-layout.js';
import { dockerArchive } from './docker-archive.js';
import { ociArchive } from './oci-archive.js';

const FIXTURE = resolve(__dirname, '../../../../../fixtures/docker-archive-amd64.tar');
const withSkopeo = integrationAvailability(['docker-registry', 'skopeo']);

function skopeo(args: readonly string[]): Promise<string> {
  const binary = findBinary('skopeo') ?? 'skopeo';
  return new Promise((done, fail) => {
    execFile(
      binary,
      ['--insecure-policy', ...args],
      { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null) fail(new Error(`skopeo ${args.join(' ')} failed: ${stderr}`));
        else done(stdout);
      },
    );
  });
}

/** The manifest digest skopeo sees at a reference. */
async function skopeoDigest(reference: string): Promise<string> {
  const raw = await skopeo(['inspect', '--tls-verify=false', '--raw', reference]);
  return sha256(Buffer.from(raw));
}

/** An archive's image read into memory, as its manifest and config. */
async function readImage(source: Parameters<typeof copy>[0], reference = '') {
  const memory = memoryTarget();
  const result = await copy(source, reference, memory, 'read');
  const manifest = (await memory.fetchManifest(result.descriptor)) as ParsedImageManifest;
  const chunks: Buffer[] = [];
  for await (const chunk of memory.source(manifest.manifest.config).open(0)) chunks.push(chunk as Buffer);
  const config = JSON.parse(Buffer.concat(chunks).toString()) as { rootfs: { diff_ids: string[] } };
  return { manifest, diffIds: config.rootfs.diff_ids, configDigest: manifest.manifest.config.digest };
}

describeWithBinaries(withSkopeo, 'archives against docker-registry and skopeo', () => {
  let registry: DockerRegistry;
  let work: string;
  let image: KitImage;
  let legacy: string;
  beforeAll(async () => {
    registry = await startDockerRegistry();
    work = await scratch('ghcr-archive-integ-');
    image = await makeImage(work, ['example.com/app:1.0'], { layers: 2, bytes: 200_000 });
    legacy = await legacyArchive(work, [image], { name: 'legacy.tar' });
  });
  afterAll(async () => {
    await registry?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });
  const client = () =>
    createGhcrClient({ registry: registry.host, transportOptions: { retry: { baseDelayMs: 10 } } });

  it('pushes the fixture written by skopeo and pulls it back to a docker-archive skopeo reads', async () => {
    const pushed = await client().images.push('integ/fixture:v1', { archive: FIXTURE });
    expect(pushed.references).toEqual(['v1']);
    const original = await readImage(dockerArchive(FIXTURE));
    const out = join(work, 'fixture-back.tar');
    await client().images.pull(`${registry.host}/integ/fixture:v1`, { archive: out });
    const back = await readImage(dockerArchive(out));
    expect(back.configDigest).toBe(original.configDigest);
    expect(back.diffIds).toEqual(original.diffIds);
    // skopeo reads what we wrote, and finds the same config.
    const layout = join(work, 'fixture-skopeo-layout');
    await skopeo(['copy', `docker-archive:${out}`, `oci:${layout}:v1`]);
    const viaSkopeo = await readImage(ociLayout(layout), 'v1');
    expect(viaSkopeo.diffIds).toEqual(original.diffIds);
    expect((await readdir(work)).filter((name) => name.includes('ghcr-tmp'))).toEqual([]);
  });

  it('pushes a docker-archive as skopeo does: same config, same diff_ids; --keep-uncompressed gives digest = diff_id', async () => {
    await skopeo([
      'copy',
      '--dest-tls-verify=false',
      `docker-archive:${legacy}`,
      `docker://${registry.host}/integ/by-skopeo:v1`,
    ]);
    await client().images.push('integ/by-us:v1', { archive: legacy });
    await client().images.push('integ/by-us-raw:v1', { archive: legacy, keepUncompressed: true });
    const theirs = await client().manifests.get('integ/by-skopeo', 'v1');
    const ours = await client().manifests.get('integ/by-us', 'v1');
    const raw = await client().manifests.get('integ/by-us-raw', 'v1');
    const configOf = (manifest: typeof ours) => (manifest as ParsedImageManifest).manifest.config.digest;
    expect(configOf(ours)).toBe(configOf(theirs));
    expect(configOf(raw)).toBe(configOf(theirs));
    expect((ours as ParsedImageManifest).manifest.layers.map((layer) => layer.mediaType)).toEqual([
      MediaType.DockerLayerGzip,
      MediaType.DockerLayerGzip,
    ]);
    expect(
      (raw as ParsedImageManifest).manifest.layers.map((layer) => [layer.mediaType, layer.digest]),
    ).toEqual(image.layers.map((layer) => [MediaType.OciLayer, sha256(layer)]));
    // skopeo pulls ours and finds layers whose diff_ids are the config's.
    await skopeo([
      'copy',
      '--src-tls-verify=false',
      `docker://${registry.host}/integ/by-us:v1`,
      `docker-archive:${join(work, 'sk-of-ours.tar')}:integ/by-us:v1`,
    ]);
    const read = await readImage(dockerArchive(join(work, 'sk-of-ours.tar')));
    expect(read.diffIds).toEqual(image.layers.map(sha256));
  });

  it('oci-archive both ways keeps every digest, a whole two-platform index', async () => {
    await client().images.push('integ/oci-src:v1', { layout: FIXTURE_LAYOUT });
    const digest = await skopeoDigest(`docker://${registry.host}/integ/oci-src:v1`);
    // skopeo writes an oci-archive; we push it back under another name: same index digest.
    const theirs = join(work, 'skopeo.oci.tar');
    await skopeo([
      'copy',
      '--all',
      '--preserve-digests',
      '--src-tls-verify=false',
      `docker://${registry.host}/integ/oci-src:v1`,
      `oci-archive:${theirs}:v1`,
    ]);
    const pushed = await client().images.push('integ/oci-from-skopeo:v1', { archive: theirs });
    expect(pushed.descriptor.digest).toBe(digest);
    // We write an oci-archive; skopeo pushes it: same index digest.
    const ours = join(work, 'ours.oci.tar');
    await client().images.pull(`${registry.host}/integ/oci-src:v1`, { archive: ours });
    await skopeo([
      'copy',
      '--all',
      '--preserve-digests',
      '--dest-tls-verify=false',
      `oci-archive:${ours}:v1`,
      `docker://${registry.host}/integ/oci-from-us:v1`,
    ]);
    expect(await skopeoDigest(`docker://${registry.host}/integ/oci-from-us:v1`)).toBe(digest);
    expect((await ociArchive(ours).resolve('v1')).digest).toBe(digest);
  });

  it('a multi-platform index pulled to a docker-archive needs a platform', async () => {
    await client().images.push('integ/multi:v1', { layout: FIXTURE_LAYOUT });
    const out = join(work, 'multi.tar');
    await expect(
      client().images.pull(`${registry.host}/integ/multi:v1`, { archive: out }),
    ).rejects.toMatchObject({
      code: 'GHCR_INVALID_PLATFORM',
    });
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
    await client().images.pull(
      `${registry.host}/integ/multi:v1`,
      { archive: out },
      { platform: 'linux/arm64' },
    );
    const layout = join(work, 'multi-skopeo');
    await skopeo(['copy', `docker-archive:${out}`, `oci:${layout}:v1`]);
    expect((await readImage(ociLayout(layout), 'v1')).diffIds.length).toBeGreaterThan(0);
  });

  it('reads a docker-archive skopeo wrote from the registry, to the same config and diff_ids', async () => {
    await client().images.push('integ/sk-src:v1', { archive: legacy });
    const theirs = join(work, 'skopeo-docker.tar');
    await skopeo([
      'copy',
      '--src-tls-verify=false',
      `docker://${registry.host}/integ/sk-src:v1`,
      `docker-archive:${theirs}:integ/sk-src:v1`,
    ]);
    const pushed = await client().images.push('integ/sk-back:v1', {
      archive: theirs,
      keepUncompressed: true,
    });
    const back = (await client().manifests.get('integ/sk-back', 'v1')) as ParsedImageManifest;
    expect(back.manifest.config.digest).toBe(sha256(image.config));
    expect(back.manifest.layers.map((layer) => layer.digest)).toEqual(image.layers.map(sha256));
    expect(pushed.references).toEqual(['v1']);
  });

  it('a layer that does not match its diff_id fails the push and no tag is written', async () => {
    const wrong = await makeImage(work, ['example.com/bad:1'], {
      layers: 1,
      diffIds: [sha256(Buffer.from('not this layer'))],
    });
    const path = await legacyArchive(work, [wrong], { name: 'bad.tar' });
    const pusher = client();
    const pushed: string[] = [];
    pusher.events.on('pushed', (event) => pushed.push(`${event.kind} ${event.digest}`));
    // A new repository: the layer is streamed up while it is compressed, and that upload is
    // cancelled, not committed, when its diff_id turns out wrong.
    await expect(pusher.images.push('integ/bad:v1', { archive: path })).rejects.toMatchObject({
      code: 'GHCR_INVALID_ARCHIVE',
    });
    expect(pushed).toEqual([]);
    expect(await client().manifests.head('integ/bad', 'v1')).toBeUndefined();
    await expect(client().tags.list('integ/bad')).rejects.toMatchObject({ code: 'NAME_UNKNOWN' });
  });

  it('a failed pull leaves no archive', async () => {
    const out = join(work, 'missing.tar');
    await expect(
      client().images.pull(`${registry.host}/integ/nothing:v1`, { archive: out }),
    ).rejects.toThrow();
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await readdir(work)).filter((name) => name.includes('missing.tar'))).toEqual([]);
  });
});
