import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ParsedImageManifest } from '@ghcr/manifest';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type KitImage, legacyArchive, makeImage, scratch, sha256 } from '../../testing/archive-kit.js';
import { copy } from '../copy.js';
import { memoryTarget } from '../memory-target.js';
import { layerGzip } from './archive-common.js';
import { dockerArchive } from './docker-archive.js';
import { createSpool } from './layer-spool.js';

// Counts the compressions a docker-archive makes when its layers are read (the measuring pass
// compresses inside archive-common and is not counted).
vi.mock('./archive-common.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./archive-common.js')>();
  return { ...actual, layerGzip: vi.fn(actual.layerGzip) };
});

async function bytesOf(stream: Readable | AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** A spool holding `bytes`. */
async function spoolOf(bytes: Buffer) {
  const writer = await createSpool();
  if (writer === undefined) throw new Error('no temp directory for the spool');
  await pipeline(
    (async function* one() {
      yield bytes;
    })(),
    writer.writable,
  );
  return writer.finish();
}

async function push(path: string, spoolCompressed: boolean) {
  const archive = dockerArchive(path, { spoolCompressed });
  const memory = memoryTarget();
  const result = await copy(archive, '', memory, 'pushed');
  const manifest = (await memory.fetchManifest(result.descriptor)) as ParsedImageManifest;
  return { archive, memory, manifest };
}

let work: string;
let image: KitImage;
let path: string;
beforeAll(async () => {
  work = await scratch();
  image = await makeImage(work, ['example.com/app:1.0'], { layers: 2, bytes: 300_000 });
  path = await legacyArchive(work, [image]);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
beforeEach(() => {
  vi.mocked(layerGzip).mockClear();
});

describe('layer spool', () => {
  it('gives back what was written, from any offset, and leaves no file in the directory', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'ghcr-spool-test-'));
    try {
      const writer = await createSpool(directory);
      expect(writer).toBeDefined();
      if (writer === undefined) return;
      expect(await readdir(directory)).toEqual([]);
      const bytes = Buffer.from(Array.from({ length: 3_000_000 }, (_, i) => i % 251));
      await pipeline(
        (async function* pieces() {
          for (let at = 0; at < bytes.byteLength; at += 700_000) yield bytes.subarray(at, at + 700_000);
        })(),
        writer.writable,
      );
      const spool = writer.finish();
      expect(spool?.size).toBe(bytes.byteLength);
      const tail = spool?.open(2_500_000);
      const whole = spool?.open(0);
      expect(tail).toBeDefined();
      expect((await bytesOf(tail as Readable)).equals(bytes.subarray(2_500_000))).toBe(true);
      expect((await bytesOf(whole as Readable)).equals(bytes)).toBe(true);
      // Read to its end: released; the next read gets nothing (the caller compresses again).
      expect(spool?.open(0)).toBeUndefined();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('is not made where no temp file can be opened (the push then compresses again)', async () => {
    expect(await createSpool(join(tmpdir(), 'ghcr-no-such-directory', 'below'))).toBeUndefined();
  });

  it('stays while another read is open, and is released when the last one closes', async () => {
    const spool = await spoolOf(Buffer.alloc(10, 7));
    const first = spool?.open(0) as Readable;
    const second = spool?.open(4) as Readable;
    expect((await bytesOf(first)).equals(Buffer.alloc(10, 7))).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    // Read to its end once, but `second` is still open: the file stays.
    const third = spool?.open(8);
    expect(third).toBeDefined();
    expect((await bytesOf(second)).equals(Buffer.alloc(6, 7))).toBe(true);
    expect((await bytesOf(third as Readable)).equals(Buffer.alloc(2, 7))).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(spool?.open(0)).toBeUndefined();
  });

  it('is released by release() though never read to its end, once the read open on it closes', async () => {
    const spool = await spoolOf(Buffer.alloc(10, 3));
    const open = spool?.open(2) as Readable;
    spool?.release();
    // The read under way goes on to its end.
    expect((await bytesOf(open)).equals(Buffer.alloc(8, 3))).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(spool?.open(0)).toBeUndefined();
  });
});

describe('docker-archive push with spoolCompressed', () => {
  it('sends the gzip stream of the measuring pass instead of compressing each layer again', async () => {
    const spooled = await push(path, true);
    expect(vi.mocked(layerGzip)).not.toHaveBeenCalled();
    const plain = await push(path, false);
    // Without the spool every layer is compressed again as it is sent.
    expect(vi.mocked(layerGzip)).toHaveBeenCalledTimes(image.layers.length);
    // The same bytes either way: the same manifest, and every blob whole at the destination.
    expect(spooled.manifest.digest).toBe(plain.manifest.digest);
    for (const layer of spooled.manifest.manifest.layers) {
      const bytes = await bytesOf(spooled.memory.fetch(layer));
      expect(sha256(bytes)).toBe(layer.digest);
    }
  });

  it('compresses again, to the same bytes, once a layer has been read to its end', async () => {
    const { archive, manifest } = await push(path, true);
    const layer = manifest.manifest.layers[0];
    if (layer === undefined) throw new Error('no layer');
    // The push read the spool to its end: this read compresses, and is verified against the digest.
    const again = await bytesOf(archive.fetch(layer));
    expect(sha256(again)).toBe(layer.digest);
    expect(vi.mocked(layerGzip)).toHaveBeenCalledTimes(1);
  });

  it('close() frees the spools of layers not read, and later reads compress again', async () => {
    const archive = dockerArchive(path, { spoolCompressed: true });
    const manifest = (await archive.fetchManifest(await archive.resolve(''))) as ParsedImageManifest;
    await archive.close();
    const layer = manifest.manifest.layers[0];
    if (layer === undefined) throw new Error('no layer');
    expect(vi.mocked(layerGzip)).not.toHaveBeenCalled();
    expect(sha256(await bytesOf(archive.fetch(layer)))).toBe(layer.digest);
    expect(vi.mocked(layerGzip)).toHaveBeenCalledTimes(1);
  });

  it('resumes from an offset inside the spool without compressing', async () => {
    const archive = dockerArchive(path, { spoolCompressed: true });
    const root = await archive.resolve('');
    const manifest = (await archive.fetchManifest(root)) as ParsedImageManifest;
    const layer = manifest.manifest.layers[1];
    if (layer === undefined) throw new Error('no layer');
    const source = archive.source?.(layer);
    // Both read at once (a read that reaches the end releases the spool).
    const [tail, whole] = await Promise.all([
      bytesOf(source?.open(1000) as Readable),
      bytesOf(source?.open(0) as Readable),
    ]);
    expect(vi.mocked(layerGzip)).not.toHaveBeenCalled();
    expect(sha256(whole)).toBe(layer.digest);
    expect(tail.equals(whole.subarray(1000))).toBe(true);
  });
});
