import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type ParsedImageManifest, parseManifest } from '@ghcr/manifest';
import { GhcrErrorCode, MediaType } from '@ghcr/oci-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectTarget } from '../../images/inspect.js';
import {
  docker25Archive,
  type KitImage,
  legacyArchive,
  makeImage,
  makeLayer,
  scratch,
  sha256,
  tar,
} from '../../testing/archive-kit.js';
import { copy } from '../copy.js';
import { memoryTarget } from '../memory-target.js';
import { archiveFormatFromName, archiveTarget, detectArchiveFormat } from './archive.js';
import { dockerArchive } from './docker-archive.js';
import { ociArchive } from './oci-archive.js';
import { openTar } from './tar-index.js';

const FIXTURE = resolve(__dirname, '../../../../../fixtures/docker-archive-amd64.tar');

let work: string;
let image: KitImage;
beforeAll(async () => {
  work = await scratch();
  image = await makeImage(work, ['example.com/app:1.0'], { layers: 2, bytes: 5000 });
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Copies an archive's image into memory; returns the manifest and the memory target. */
async function intoMemory(source: Parameters<typeof copy>[0], reference = '') {
  const memory = memoryTarget();
  const result = await copy(source, reference, memory, 'pushed');
  const manifest = await memory.fetchManifest(result.descriptor);
  return { memory, result, manifest: manifest as ParsedImageManifest };
}

async function blobBytes(memory: ReturnType<typeof memoryTarget>, digest: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of memory
    .source({ mediaType: '', digest: digest as `sha256:${string}`, size: 0 })
    .open(0)) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

describe('tar index', () => {
  it('indexes GNU tar long names and pax paths, and follows links', async () => {
    const dir = join(work, 'names');
    const long = `${'d'.repeat(120)}/${'f'.repeat(120)}.txt`;
    await mkdir(join(dir, 'd'.repeat(120)), { recursive: true });
    await writeFile(join(dir, long), 'long');
    await writeFile(join(dir, 'plain.txt'), 'plain');
    const gnu = join(work, 'gnu.tar');
    const pax = join(work, 'pax.tar');
    await tar(['--format=gnu', '-cf', gnu, '-C', dir, '.']);
    await tar(['--format=pax', '-cf', pax, '-C', dir, '.']);
    for (const path of [gnu, pax]) {
      const archive = await openTar(path);
      const entry = archive.entry(long);
      expect(entry.size).toBe(4);
      expect((await archive.read(entry, 100, 'x')).toString()).toBe('long');
      expect((await archive.read(archive.entry('plain.txt'), 100, 'x')).toString()).toBe('plain');
    }
  });

  it('reads a long entry into a ring of reused buffers when its consumer allows, and stops at its end', async () => {
    const dir = join(work, 'ring');
    await mkdir(dir, { recursive: true });
    const big = randomBytes(3 * 1024 * 1024 + 5);
    await writeFile(join(dir, 'big'), big);
    await writeFile(join(dir, 'after'), 'not part of big');
    const path = join(work, 'ring.tar');
    await tar(['-cf', path, '-C', dir, 'big', 'after']);
    const archive = await openTar(path);
    const copies: Buffer[] = [];
    const memory: ArrayBufferLike[] = [];
    for await (const chunk of archive.open(archive.entry('big'), 1000, undefined, { recycleAfter: 2 })) {
      copies.push(Buffer.from(chunk as Buffer));
      memory.push((chunk as Buffer).buffer);
    }
    expect(Buffer.concat(copies).equals(big.subarray(1000))).toBe(true);
    // recycleAfter 2: three 512 KiB buffers, used in turn.
    expect(new Set(memory).size).toBe(3);
    expect(memory[3]).toBe(memory[0]);
    expect(copies[0]?.byteLength).toBe(512 * 1024);
    // Without the option every chunk is a buffer of its own.
    const plain: ArrayBufferLike[] = [];
    for await (const chunk of archive.open(archive.entry('big'))) plain.push((chunk as Buffer).buffer);
    expect(new Set(plain).size).toBe(plain.length);
  });

  it('refuses an entry whose name climbs out of the archive', async () => {
    const dir = join(work, 'evil');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'f'), 'x');
    const path = join(work, 'evil.tar');
    await tar(['-P', '--transform=s,^,../,', '-cf', path, '-C', dir, 'f']);
    await expect(openTar(path)).rejects.toMatchObject({
      code: 'GHCR_INVALID_ARCHIVE',
      message: expect.stringContaining('"../f"'),
    });
  });

  it('says a cut-off tar is truncated', async () => {
    const path = await legacyArchive(work, [image], { name: 'cut.tar' });
    const whole = await readFile(path);
    // Cut at a block boundary (between entries) and inside an entry's data.
    const boundary = Math.floor(whole.byteLength / 2 / 512) * 512;
    for (const length of [boundary, boundary + 100]) {
      await writeFile(path, whole.subarray(0, length));
      await expect(openTar(path)).rejects.toMatchObject({
        code: 'GHCR_INVALID_ARCHIVE',
        message: expect.stringContaining('truncated'),
      });
    }
  });
  it('says a cut-off gzip-compressed tar is damaged', async () => {
    const path = await legacyArchive(work, [image], { gzip: true, name: 'cut.tar.gz' });
    const whole = await readFile(path);
    await writeFile(path, whole.subarray(0, Math.floor(whole.byteLength / 2)));
    await expect(openTar(path)).rejects.toMatchObject({
      code: 'GHCR_INVALID_ARCHIVE',
      message: expect.stringMatching(/gzip stream is damaged or truncated|truncated/),
    });
  });
});

describe('docker-archive', () => {
  it('reads a legacy archive: gzip layers whose uncompressed bytes are the diff_ids', async () => {
    const path = await legacyArchive(work, [image]);
    expect(await detectArchiveFormat(path)).toBe('docker-archive');
    const { memory, manifest } = await intoMemory(dockerArchive(path));
    expect(manifest.mediaType).toBe(MediaType.DockerManifest);
    expect(manifest.manifest.config.digest).toBe(sha256(image.config));
    expect(manifest.manifest.layers.map((layer) => layer.mediaType)).toEqual([
      MediaType.DockerLayerGzip,
      MediaType.DockerLayerGzip,
    ]);
    for (const [i, layer] of manifest.manifest.layers.entries()) {
      const bytes = await blobBytes(memory, layer.digest);
      expect(sha256(bytes)).toBe(layer.digest);
      expect(sha256(gunzipSync(bytes))).toBe(sha256(image.layers[i] as Buffer));
    }
  });

  it('with keepUncompressed pushes the layers as they are: digest = diff_id, OCI types', async () => {
    const path = await legacyArchive(work, [image]);
    const { manifest } = await intoMemory(dockerArchive(path, { keepUncompressed: true }));
    expect(manifest.mediaType).toBe(MediaType.OciManifest);
    expect(manifest.manifest.config.mediaType).toBe(MediaType.OciConfig);
    expect(manifest.manifest.layers.map((layer) => [layer.mediaType, layer.digest, layer.size])).toEqual(
      image.layers.map((layer) => [MediaType.OciLayer, sha256(layer), layer.byteLength]),
    );
  });

  it('reads a gzip-compressed archive to the same image', async () => {
    const plain = await legacyArchive(work, [image]);
    const zipped = await legacyArchive(work, [image], { gzip: true });
    expect((await openTar(zipped)).compressed).toBe(true);
    const a = await intoMemory(dockerArchive(plain));
    const b = await intoMemory(dockerArchive(zipped));
    expect(b.result.descriptor.digest).toBe(a.result.descriptor.digest);
  });

  it('reads a Docker 25 archive as a docker-archive and as an oci-archive', async () => {
    const { path, manifestDigest } = await docker25Archive(work, image);
    expect(await detectArchiveFormat(path)).toBe('docker-archive');
    const legacy = await intoMemory(dockerArchive(path, { keepUncompressed: true }));
    expect(legacy.manifest.manifest.layers.map((layer) => layer.digest)).toEqual(image.layers.map(sha256));
    const oci = await intoMemory(ociArchive(path), '1.0');
    expect(oci.result.descriptor.digest).toBe(manifestDigest);
  });

  it('chooses among several images by name or @index, and lists them when none is chosen', async () => {
    const second = await makeImage(work, ['example.com/other:2.0'], { layers: 1 });
    const path = await legacyArchive(work, [image, second]);
    const archive = dockerArchive(path);
    await expect(archive.resolve('')).rejects.toMatchObject({
      code: 'GHCR_INVALID_REFERENCE',
      message: expect.stringMatching(
        /holds 2 images.*@0 \(example.com\/app:1.0\); @1 \(example.com\/other:2.0\)/,
      ),
    });
    const byName = await intoMemory(archive, 'example.com/other:2.0');
    expect(byName.manifest.manifest.config.digest).toBe(sha256(second.config));
    const byIndex = await intoMemory(archive, '@0');
    expect(byIndex.manifest.manifest.config.digest).toBe(sha256(image.config));
    await expect(archive.resolve('nope:1')).rejects.toMatchObject({ code: 'GHCR_INVALID_REFERENCE' });
  });

  it('can be inspected like any target', async () => {
    const path = await legacyArchive(work, [image]);
    const inspected = await inspectTarget(dockerArchive(path), 'example.com/app:1.0');
    expect(inspected).toMatchObject({ kind: 'docker-manifest' });
    expect(inspected.layers).toHaveLength(2);
  });

  it('reads the fixture written by skopeo', async () => {
    const { manifest, memory } = await intoMemory(dockerArchive(FIXTURE, { keepUncompressed: true }));
    const config = JSON.parse((await blobBytes(memory, manifest.manifest.config.digest)).toString()) as {
      rootfs: { diff_ids: string[] };
    };
    expect(manifest.manifest.layers.map((layer) => layer.digest)).toEqual(config.rootfs.diff_ids);
    expect(config.rootfs.diff_ids).toHaveLength(2);
  });

  it('fails on a layer that does not match its diff_id, and nothing is tagged', async () => {
    const wrong = await makeImage(work, ['example.com/app:bad'], {
      layers: 2,
      diffIds: [sha256(Buffer.from('a')), sha256(Buffer.from('b'))],
    });
    const path = await legacyArchive(work, [wrong]);
    const memory = memoryTarget();
    await expect(copy(dockerArchive(path), '', memory, 'pushed')).rejects.toMatchObject({
      code: 'GHCR_INVALID_ARCHIVE',
      message: expect.stringContaining('diff_id'),
    });
    expect(memory.references().size).toBe(0);
    expect(memory.digests()).toEqual([]);
  });

  it('fails on a missing config, naming it', async () => {
    const path = await legacyArchive(work, [image], { omitConfig: true });
    await expect(dockerArchive(path).resolve('')).rejects.toMatchObject({
      code: 'GHCR_INVALID_ARCHIVE',
      message: expect.stringContaining('the config of image @0'),
    });
  });

  it('fails on a truncated archive before anything is copied', async () => {
    const path = await legacyArchive(work, [image]);
    const size = (await readFile(path)).byteLength;
    await truncate(path, size - 4096);
    const memory = memoryTarget();
    await expect(copy(dockerArchive(path), '', memory, 'pushed')).rejects.toMatchObject({
      code: 'GHCR_INVALID_ARCHIVE',
    });
    expect(memory.digests()).toEqual([]);
  });
});

describe('docker-archive: each layer sent while it is compressed (sendCompressed)', () => {
  async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  it('hands on exactly the gzip stream the manifest names, one per layer, with no spool', async () => {
    const source = await legacyArchive(work, [image], { name: 'send.tar' });
    const sent: Buffer[] = [];
    const archive = dockerArchive(source, {
      spoolCompressed: true,
      sendCompressed: async (layer) => {
        sent.push(await collect(layer));
      },
    });
    const { manifest, memory } = await intoMemory(archive);
    const layers = manifest.manifest.layers;
    expect(layers).toHaveLength(2);
    expect(sent.map(sha256).sort()).toEqual(layers.map((layer) => layer.digest).sort());
    // Read again (no spool was kept), the layers compress to the same bytes.
    for (const layer of layers) {
      expect(sha256(await blobBytes(memory, layer.digest))).toBe(layer.digest);
    }
    // What was sent decompresses to the layers themselves (their diff_ids).
    expect(sent.map((bytes) => sha256(gunzipSync(bytes))).sort()).toEqual(image.layers.map(sha256).sort());
  });

  it('fails the stream of a layer that does not match its diff_id, so nothing is committed', async () => {
    const wrong = await makeImage(work, ['example.com/app:bad'], {
      layers: 1,
      diffIds: [sha256(Buffer.from('another layer'))],
    });
    const source = await legacyArchive(work, [wrong], { name: 'send-wrong.tar' });
    const outcomes: string[] = [];
    const archive = dockerArchive(source, {
      sendCompressed: async (layer) => {
        try {
          await collect(layer);
          outcomes.push('ended');
        } catch (error) {
          outcomes.push(`failed: ${(error as Error).message}`);
          throw error;
        }
      },
    });
    await expect(archive.resolve('')).rejects.toMatchObject({ code: 'GHCR_INVALID_ARCHIVE' });
    expect(outcomes).toEqual([expect.stringContaining('does not match its diff_id')]);

    // A receiver that has not started reading when the stream fails (its upload still opening)
    // meets the failure when it reads; nothing goes unhandled.
    const late = dockerArchive(source, {
      sendCompressed: async (layer) => {
        await new Promise((resolve) => layer.once('close', resolve));
        await collect(layer);
      },
    });
    await expect(late.resolve('')).rejects.toMatchObject({ code: 'GHCR_INVALID_ARCHIVE' });
  });

  it('stops reading the layers when the signal of the resolve that started it aborts, and a later resolve builds again', async () => {
    const source = await legacyArchive(work, [image], { name: 'send-abort.tar' });
    const controller = new AbortController();
    const archive = dockerArchive(source, {
      sendCompressed: async (layer) => {
        // The upload is told first (it takes the same signal); the pass stops as well.
        controller.abort();
        await collect(layer);
      },
    });
    await expect(archive.resolve('', { signal: controller.signal })).rejects.toMatchObject({
      code: GhcrErrorCode.ABORTED,
    });
    const again = await archive.resolve('');
    expect(again.digest).toMatch(/^sha256:/);
  });

  it('goes on when the receiver returns without reading the stream', async () => {
    // Layers larger than what the hand-over buffers, so an unread stream would fill up.
    const large = await makeImage(work, ['example.com/app:large'], { layers: 1, bytes: 1_000_000 });
    const source = await legacyArchive(work, [large], { name: 'send-ignored.tar' });
    const archive = dockerArchive(source, { sendCompressed: async () => {} });
    const { manifest, memory } = await intoMemory(archive);
    for (const layer of manifest.manifest.layers) {
      expect(sha256(await blobBytes(memory, layer.digest))).toBe(layer.digest);
    }
  });

  it('goes on when the receiver fails: the layer is compressed again when read', async () => {
    const source = await legacyArchive(work, [image], { name: 'send-fails.tar' });
    let calls = 0;
    const archive = dockerArchive(source, {
      sendCompressed: async (layer) => {
        calls += 1;
        for await (const _ of layer) throw new Error('the upload broke');
      },
    });
    const { manifest, memory } = await intoMemory(archive);
    expect(calls).toBe(2);
    for (const layer of manifest.manifest.layers) {
      expect(sha256(await blobBytes(memory, layer.digest))).toBe(layer.digest);
    }
  });
});

describe('writing archives', () => {
  it('a docker-archive written from another holds both generations and reads back the same', async () => {
    const source = await legacyArchive(work, [image]);
    const out = join(work, 'written.tar');
    const target = dockerArchive(out);
    const copied = await copy(dockerArchive(source), '', target, 'example.com/app:1.0');
    await target.commit();
    const names = (await tar(['-tf', out])).split('\n').filter(Boolean);
    expect(names).toEqual(
      expect.arrayContaining(['manifest.json', 'repositories', 'index.json', 'oci-layout']),
    );
    const legacy = JSON.parse(
      (await (await openTar(out)).read((await openTar(out)).entry('manifest.json'), 1e6, 'm')).toString(),
    ) as {
      RepoTags: string[];
      Layers: string[];
    }[];
    expect(legacy[0]?.RepoTags).toEqual(['example.com/app:1.0']);
    const again = await intoMemory(dockerArchive(out));
    // The layers are stored compressed; read back, their diff_ids still match the config.
    expect(again.manifest.manifest.config.digest).toBe(sha256(image.config));
    const asOci = await intoMemory(ociArchive(out), '1.0');
    expect(asOci.result.descriptor.digest).toBe(copied.descriptor.digest);
    expect((await readdir(work)).filter((name) => name.includes('ghcr-tmp'))).toEqual([]);
  });

  it('an oci-archive keeps every digest', async () => {
    const { path, manifestDigest } = await docker25Archive(work, image);
    const out = join(work, 'copy.oci.tar');
    expect(archiveFormatFromName(out)).toBe('oci-archive');
    const target = await archiveTarget(out, { format: archiveFormatFromName(out) });
    await copy(ociArchive(path), '', target, 'v1');
    await target.commit();
    expect(await detectArchiveFormat(out)).toBe('oci-archive');
    expect((await ociArchive(out).resolve('v1')).digest).toBe(manifestDigest);
  });

  it('a failed write leaves no file at the path', async () => {
    const wrong = await makeImage(work, ['example.com/app:bad'], {
      layers: 1,
      diffIds: [sha256(Buffer.from('z'))],
    });
    const source = await legacyArchive(work, [wrong]);
    const out = join(work, 'never.tar');
    const target = dockerArchive(out);
    await expect(copy(dockerArchive(source), '', target, 'example.com/x:1')).rejects.toThrow();
    await target.discard();
    await expect(readFile(out)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await readdir(work)).filter((name) => name.includes('never.tar'))).toEqual([]);
  });

  it('a docker-archive refuses a multi-platform index', async () => {
    const memory = memoryTarget();
    const layer = await makeLayer(work, { a: 'a' });
    const config = Buffer.from(
      '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
    );
    const configDescriptor = {
      mediaType: MediaType.OciConfig,
      digest: sha256(config),
      size: config.byteLength,
    };
    await memory.push(configDescriptor, config);
    const layerDescriptor = { mediaType: MediaType.OciLayer, digest: sha256(layer), size: layer.byteLength };
    await memory.push(layerDescriptor, layer);
    const manifestBytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: configDescriptor,
        layers: [layerDescriptor],
      }),
    );
    const manifest = parseManifest(manifestBytes);
    await memory.push(
      { mediaType: MediaType.OciManifest, digest: manifest.digest, size: manifest.size },
      manifestBytes,
    );
    const indexBytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: ['amd64', 'arm64'].map((architecture) => ({
          mediaType: MediaType.OciManifest,
          digest: manifest.digest,
          size: manifest.size,
          platform: { os: 'linux', architecture },
        })),
      }),
    );
    const index = parseManifest(indexBytes);
    await memory.push({ mediaType: MediaType.OciIndex, digest: index.digest, size: index.size }, indexBytes);
    await memory.tag({ mediaType: MediaType.OciIndex, digest: index.digest, size: index.size }, 'multi');
    const target = dockerArchive(join(work, 'multi.tar'));
    await expect(copy(memory, 'multi', target, 'example.com/x:1')).rejects.toMatchObject({
      code: 'GHCR_INVALID_PLATFORM',
      message: expect.stringContaining('choose one platform'),
    });
    await target.discard();
    const one = dockerArchive(join(work, 'one.tar'));
    await copy(memory, 'multi', one, 'example.com/x:1', { platform: 'linux/arm64' });
    await one.commit();
    expect((await one.images())[0]?.names).toEqual(['example.com/x:1']);
  });
});
