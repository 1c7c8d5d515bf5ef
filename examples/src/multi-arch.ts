/**
 * The seed's multi-arch pattern (§7.4), done right: the index is built from the platform manifests
 * the registry holds, with their real digests, sizes and platforms (the seed's `size: 0` would be
 * refused by every registry that checks).
 */
import { buildImageManifest } from '@ghcr/manifest';
import { definedProps, digestOf, MediaType } from '@ghcr/oci-types';
import { type ExampleTarget, runIfMain } from './connect.js';

async function pushPlatformImage(
  target: ExampleTarget,
  repository: string,
  os: string,
  architecture: string,
  variant?: string,
) {
  const { client } = target;
  const layer = Buffer.from(`built for ${os}/${architecture}${variant === undefined ? '' : `/${variant}`}\n`);
  const config = Buffer.from(
    JSON.stringify({
      architecture,
      os,
      ...definedProps({ variant }),
      rootfs: { type: 'layers', diff_ids: [digestOf(layer)] },
    }),
  );
  const [layerBlob, configBlob] = await Promise.all([
    client.blobs.upload(repository, layer),
    client.blobs.upload(repository, config),
  ]);
  const manifest = buildImageManifest({
    config: { ...configBlob.descriptor, mediaType: MediaType.OciConfig },
    layers: [{ ...layerBlob.descriptor, mediaType: MediaType.OciLayer }],
  });
  return client.manifests.put(repository, manifest);
}

export async function createMultiArchImage(
  target: ExampleTarget,
  repository = `${target.owner}/multi`,
  tag = 'latest',
): Promise<{ repository: string; tag: string; digest: string; platforms: string[] }> {
  const amd64 = await pushPlatformImage(target, repository, 'linux', 'amd64');
  const arm64 = await pushPlatformImage(target, repository, 'linux', 'arm64', 'v8');
  // Platforms are read from each manifest's config; sizes and digests from the registry.
  const index = await target.client.multiArch.createIndex(repository, [tag], [amd64.digest, arm64.digest]);
  const parsed = await target.client.manifests.get(repository, tag);
  const platforms =
    parsed.kind === 'oci-index'
      ? parsed.manifest.manifests.map(
          (m) =>
            `${m.platform?.os}/${m.platform?.architecture}${m.platform?.variant ? `/${m.platform.variant}` : ''}`,
        )
      : [];
  return { repository, tag, digest: index.digest, platforms };
}

runIfMain(import.meta.url, (target) => createMultiArchImage(target));
