// Images of random bytes as OCI image layouts on disk (what `skopeo copy oci:DIR:TAG` reads), each
// layer written in 1 MiB pieces so no layer is ever held in memory.
//
// Layers are gzip streams at level 0 (stored blocks) around random bytes, typed `tar+gzip`: skopeo
// compresses a layer it sees as uncompressed (it sniffs the first bytes) when it writes to a
// registry, which would time gzip, not transfer, and change the digests. Stored gzip blocks are
// recognised as compressed and passed through as they are, by every tool.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

const MiB = 1024 * 1024;
export const LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json';

async function writeRandomBlob(dir, size) {
  const hash = createHash('sha256');
  const uncompressed = createHash('sha256');
  let written = 0;
  const temp = join(dir, `blobs/sha256/.tmp-${randomBytes(6).toString('hex')}`);
  async function* pieces() {
    for (let at = 0; at < size; at += MiB) {
      const piece = randomBytes(Math.min(MiB, size - at));
      uncompressed.update(piece);
      yield piece;
    }
  }
  const measure = new Transform({
    transform(chunk, _encoding, callback) {
      hash.update(chunk);
      written += chunk.byteLength;
      callback(null, chunk);
    },
  });
  await pipeline(pieces(), createGzip({ level: 0 }), measure, createWriteStream(temp));
  const digest = `sha256:${hash.digest('hex')}`;
  await rename(temp, join(dir, 'blobs/sha256', digest.slice(7)));
  return {
    descriptor: { mediaType: LAYER_MEDIA_TYPE, digest, size: written },
    diffId: `sha256:${uncompressed.digest('hex')}`,
  };
}

async function writeBlob(dir, bytes, mediaType) {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  await writeFile(join(dir, 'blobs/sha256', digest.slice(7)), bytes);
  return { mediaType, digest, size: bytes.byteLength };
}

/**
 * Writes an OCI layout at `dir` (replaced) holding one image under `tag`: `layers` layers of
 * `layerBytes` random bytes each (in a gzip stream of stored blocks, a few bytes larger), an OCI config and an OCI manifest. Returns a description:
 * `{ dir, tag, manifest, config, layers, totalBytes }` (descriptors; totalBytes counts every blob
 * and the manifest).
 */
export async function writeRandomImage(dir, { layers, layerBytes, tag = 'v1', realDiffIds = false }) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'blobs/sha256'), { recursive: true });
  const written = [];
  for (let i = 0; i < layers; i++) written.push(await writeRandomBlob(dir, layerBytes));
  const layerDescriptors = written.map((layer) => layer.descriptor);
  // diff_ids name the uncompressed content. The transfers never unpack layers, so the digest of
  // the stored stream stands in (no tool checks it without unpacking); the archive runs
  // (`realDiffIds`) decompress and check them, so they get the real ones.
  const config = await writeBlob(
    dir,
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: {},
        rootfs: {
          type: 'layers',
          diff_ids: written.map((layer) => (realDiffIds ? layer.diffId : layer.descriptor.digest)),
        },
      }),
    ),
    CONFIG_MEDIA_TYPE,
  );
  const manifest = await writeBlob(
    dir,
    Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST_MEDIA_TYPE, config, layers: layerDescriptors }),
    ),
    MANIFEST_MEDIA_TYPE,
  );
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  );
  const totalBytes = layerDescriptors.reduce((sum, layer) => sum + layer.size, config.size + manifest.size);
  return { dir, tag, manifest, config, layers: layerDescriptors, totalBytes };
}

/**
 * Reads the image named `tag` in the layout at `dir`: `{ manifestDescriptor, manifestBytes,
 * manifest }`.
 */
export async function readLayoutImage(dir, tag) {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  const entry =
    index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag) ??
    (index.manifests.length === 1 ? index.manifests[0] : undefined);
  if (entry === undefined) throw new Error(`${dir} has no image named ${tag}`);
  const manifestBytes = await readFile(join(dir, 'blobs/sha256', entry.digest.slice(7)));
  return { manifestDescriptor: entry, manifestBytes, manifest: JSON.parse(manifestBytes.toString('utf8')) };
}
