import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** sha256 digest of bytes. @internal */
export function sha256(bytes: Uint8Array): `sha256:${string}` {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A fresh temporary directory. @internal */
export function scratch(prefix = 'ghcr-archive-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Runs GNU tar. @internal */
export async function tar(args: readonly string[]): Promise<string> {
  return (await run('tar', [...args], { maxBuffer: 64 * 1024 * 1024 })).stdout;
}

/** A layer tar (made by GNU tar) holding the given files. @internal */
export async function makeLayer(work: string, files: Record<string, Uint8Array | string>): Promise<Buffer> {
  const dir = await mkdtemp(join(work, 'layer-'));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  const out = `${dir}.tar`;
  await tar(['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-cf', out, '-C', dir, '.']);
  return readFile(out);
}

/** An image: its config bytes and its (uncompressed) layer tars. @internal */
export interface KitImage {
  readonly config: Buffer;
  readonly layers: readonly Buffer[];
  readonly repoTags: readonly string[];
}

/** An image of `layerCount` layers with random files (`bytes` each). @internal */
export async function makeImage(
  work: string,
  repoTags: readonly string[],
  options: { layers?: number; bytes?: number; diffIds?: readonly string[] } = {},
): Promise<KitImage> {
  const layers: Buffer[] = [];
  for (let i = 0; i < (options.layers ?? 2); i += 1) {
    layers.push(await makeLayer(work, { [`file-${i}.bin`]: randomBytes(options.bytes ?? 3000) }));
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: options.diffIds ?? layers.map(sha256) },
    }),
  );
  return { config, layers, repoTags };
}

/**
 * Writes a legacy `docker save` tree (skopeo's way: `<hex>.tar` layers with `<id>/layer.tar`
 * links, `<hex>.json` config, `manifest.json`, `repositories`) and tars it with GNU tar.
 * @internal
 */
export async function legacyArchive(
  work: string,
  images: readonly KitImage[],
  options: { gzip?: boolean; name?: string; omitConfig?: boolean } = {},
): Promise<string> {
  const tree = await mkdtemp(join(work, 'legacy-'));
  const manifest: unknown[] = [];
  for (const image of images) {
    const configHex = sha256(image.config).slice(7);
    if (options.omitConfig !== true) await writeFile(join(tree, `${configHex}.json`), image.config);
    const layerPaths: string[] = [];
    for (const layer of image.layers) {
      const hex = sha256(layer).slice(7);
      await writeFile(join(tree, `${hex}.tar`), layer);
      await mkdir(join(tree, hex), { recursive: true });
      await symlink(`../${hex}.tar`, join(tree, hex, 'layer.tar')).catch(() => {});
      await writeFile(join(tree, hex, 'VERSION'), '1.0');
      layerPaths.push(`${hex}/layer.tar`);
    }
    manifest.push({ Config: `${configHex}.json`, RepoTags: image.repoTags, Layers: layerPaths });
  }
  await writeFile(join(tree, 'manifest.json'), JSON.stringify(manifest));
  const out = join(
    work,
    options.name ?? `legacy-${Date.now().toString(36)}${options.gzip ? '.tar.gz' : '.tar'}`,
  );
  await tar([options.gzip === true ? '-czf' : '-cf', out, '-C', tree, '.']);
  return out;
}

/**
 * Writes a Docker 25-style `docker save` tree (blobs/sha256 for layers, config and the OCI
 * manifest, index.json, oci-layout, and manifest.json pointing into blobs/) and tars it.
 * @internal
 */
export async function docker25Archive(
  work: string,
  image: KitImage,
): Promise<{ path: string; manifestDigest: string; manifest: Buffer }> {
  const tree = await mkdtemp(join(work, 'docker25-'));
  await mkdir(join(tree, 'blobs', 'sha256'), { recursive: true });
  const put = async (bytes: Buffer): Promise<string> => {
    const digest = sha256(bytes);
    await writeFile(join(tree, 'blobs', 'sha256', digest.slice(7)), bytes);
    return digest;
  };
  const configDigest = await put(image.config);
  const layerDigests: string[] = [];
  for (const layer of image.layers) layerDigests.push(await put(layer));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: image.config.byteLength,
      },
      layers: image.layers.map((layer, i) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: layerDigests[i],
        size: layer.byteLength,
      })),
    }),
  );
  const manifestDigest = await put(manifest);
  const tag = image.repoTags[0] ?? 'app:latest';
  await writeFile(
    join(tree, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: manifestDigest,
          size: manifest.byteLength,
          annotations: {
            'io.containerd.image.name': `docker.io/library/${tag}`,
            'org.opencontainers.image.ref.name': tag.split(':')[1] ?? 'latest',
          },
        },
      ],
    }),
  );
  await writeFile(join(tree, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(
    join(tree, 'manifest.json'),
    JSON.stringify([
      {
        Config: `blobs/sha256/${configDigest.slice(7)}`,
        RepoTags: image.repoTags,
        Layers: layerDigests.map((digest) => `blobs/sha256/${digest.slice(7)}`),
      },
    ]),
  );
  const path = join(work, `docker25-${Date.now().toString(36)}.tar`);
  await tar(['-cf', path, '-C', tree, 'blobs', 'index.json', 'oci-layout', 'manifest.json']);
  return { path, manifestDigest, manifest };
}
