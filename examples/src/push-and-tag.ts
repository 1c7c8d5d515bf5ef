/**
 * The seed's push-and-tag pattern (§7.1): push an image under its first tag, then add the other
 * tags in parallel. The manifest is pushed once; each further tag is the same bytes under a new name.
 */
import { buildImageManifest } from '@ghcr/manifest';
import { digestOf, MediaType } from '@ghcr/oci-types';
import { type ExampleTarget, runIfMain } from './connect.js';

export async function pushWithTags(
  target: ExampleTarget,
  repository = `${target.owner}/hello`,
  tags: readonly string[] = ['1.0.0', '1.0', 'latest'],
): Promise<{ repository: string; digest: string; tags: readonly string[] }> {
  const { client } = target;
  const [first, ...rest] = tags;
  if (first === undefined) throw new Error('give at least one tag');
  const layer = Buffer.from('hello from @ghcr/client\n');
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [digestOf(layer)] },
    }),
  );
  // Blobs first (skipped when the registry has them), then the manifest that references them.
  const [layerBlob, configBlob] = await Promise.all([
    client.blobs.upload(repository, layer),
    client.blobs.upload(repository, config),
  ]);
  const manifest = buildImageManifest({
    config: { ...configBlob.descriptor, mediaType: MediaType.OciConfig },
    layers: [{ ...layerBlob.descriptor, mediaType: MediaType.OciLayer }],
  });
  const pushed = await client.manifests.put(repository, manifest, { tags: [first] });
  await client.tags.tag(repository, pushed.digest, rest);
  return { repository, digest: pushed.digest, tags };
}

runIfMain(import.meta.url, (target) => pushWithTags(target));
