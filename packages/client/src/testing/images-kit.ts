/**
 * Test helper: the images capability over an existing client, the way `createGhcrClient` wires
 * it, with its own event emitter (image-level events land there; blob-level events on the
 * client's). Not part of the published API.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildImageManifest, descriptorOf, type ParsedImageManifest } from '@ghcr/manifest';
import { type Descriptor, digestOf, MediaType } from '@ghcr/oci-types';
import type { GhcrClient } from '../client.js';
import { type MemoryTarget, memoryTarget } from '../content/memory-target.js';
import { type ClientEventEmitter, type ClientEventMap, createClientEvents } from '../events.js';
import { createImages, type Images } from '../images/images.js';
import { contextOf } from './client-context.js';

/** The fixture layout skopeo wrote (two platforms, tag `v1`). @internal */
export const FIXTURE_LAYOUT = fileURLToPath(
  new URL('../../../../fixtures/oci-layout-multi', import.meta.url),
);

/** @internal */
export interface ImagesKit {
  readonly images: Images;
  readonly events: ClientEventEmitter;
  /** Every image-level event, in order. */
  readonly seen: { name: keyof ClientEventMap; payload: unknown }[];
}

/** The images capability of `client`. @internal */
export function imagesFor(client: GhcrClient): ImagesKit {
  const events = createClientEvents();
  const seen: ImagesKit['seen'] = [];
  for (const name of ['pushed', 'copied', 'progress', 'tagged', 'deleted'] as const) {
    events.on(name, (payload) => seen.push({ name, payload }));
  }
  return {
    images: createImages(contextOf(client, events), client, (registry) => client.forRegistry(registry)),
    events,
    seen,
  };
}

/** A fresh temporary directory. @internal */
export function tempDir(prefix = 'ghcr-images-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Every file of a directory tree: relative path → bytes. @internal */
export async function treeOf(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else files.set(relative(dir, path), await readFile(path));
    }
  };
  await walk(dir);
  return files;
}

/** An image with random layers of the given sizes in a memory target, tagged `v1`. @internal */
export async function randomImage(
  layerSizes: readonly number[],
  options: {
    readonly platform?: { os: string; architecture: string; variant?: string };
    /** Real gzip streams as layers (of random bytes of those sizes), as skopeo expects of `tar+gzip`. */
    readonly gzip?: boolean;
  } = {},
): Promise<{ target: MemoryTarget; manifest: ParsedImageManifest; layers: Buffer[]; config: Buffer }> {
  const target = memoryTarget();
  const layers = layerSizes.map((size) =>
    options.gzip === true ? gzipSync(randomBytes(size), { level: 1 }) : randomBytes(size),
  );
  const layerDescriptors: Descriptor[] = [];
  for (const layer of layers) {
    const descriptor = { mediaType: MediaType.OciLayerGzip, digest: digestOf(layer), size: layer.byteLength };
    await target.push(descriptor, layer);
    layerDescriptors.push(descriptor);
  }
  const platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
  const config = Buffer.from(
    JSON.stringify({
      ...platform,
      created: '2026-01-02T03:04:05Z',
      config: { Labels: { 'org.example.name': 'random' } },
      rootfs: { type: 'layers', diff_ids: layers.map((layer) => digestOf(layer)) },
    }),
  );
  const configDescriptor = {
    mediaType: MediaType.OciConfig,
    digest: digestOf(config),
    size: config.byteLength,
  };
  await target.push(configDescriptor, config);
  const manifest = buildImageManifest({ config: configDescriptor, layers: layerDescriptors });
  await target.push(descriptorOf(manifest), manifest.bytes);
  await target.tag(descriptorOf(manifest), 'v1');
  return { target, manifest, layers, config };
}
