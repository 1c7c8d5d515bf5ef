/**
 * Test helper for the referrers and multi-arch tests: the parts of a client (context, blobs,
 * manifests) rebuilt the way client.ts builds them, over the client's transport, and a small
 * image pusher. Not part of the published API.
 */
import { buildImageManifest, type ParsedImageManifest } from '@ghcr/manifest';
import { MediaType, type Platform } from '@ghcr/oci-types';
import type { GhcrClient } from '../client.js';
import { type ClientEventEmitter, createClientEvents } from '../events.js';
import { type Blobs, createBlobs } from '../registry/blobs.js';
import type { RegistryDependencies } from '../registry/dependencies.js';
import { createManifests, type Manifests } from '../registry/manifests.js';
import { contextOf } from './client-context.js';

/** @internal */
export interface ClientParts {
  readonly context: RegistryDependencies;
  readonly blobs: Blobs;
  readonly manifests: Manifests;
  readonly events: ClientEventEmitter;
}

/** The context, blobs and manifests of `client`, as client.ts wires them (own event emitter). @internal */
export function partsOf(client: GhcrClient): ClientParts {
  const events = createClientEvents();
  const context = contextOf(client, events);
  return { context, blobs: createBlobs(context), manifests: createManifests(context), events };
}

/**
 * Pushes a one-layer image whose config names `platform` (OCI, or Docker v2 schema 2), under
 * `tags` (none: by digest); `layerText` makes it unique.
 * @internal
 */
export async function pushPlatformImage(
  parts: Pick<ClientParts, 'blobs' | 'manifests'>,
  repository: string,
  platform: Platform | { readonly os?: string; readonly architecture?: string },
  options: { readonly tags?: readonly string[]; readonly layerText?: string; readonly docker?: boolean } = {},
): Promise<ParsedImageManifest> {
  const docker = options.docker === true;
  const layer = await parts.blobs.upload(
    repository,
    Buffer.from(options.layerText ?? `layer of ${JSON.stringify(platform)}`),
    { mediaType: docker ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip },
  );
  const config = await parts.blobs.upload(
    repository,
    Buffer.from(JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: [] } })),
    { mediaType: docker ? MediaType.DockerConfig : MediaType.OciConfig },
  );
  const manifest = buildImageManifest({
    config: config.descriptor,
    layers: [layer.descriptor],
    ...(docker ? { mediaType: 'docker' as const } : {}),
  });
  await parts.manifests.put(repository, manifest, { tags: options.tags ?? [] });
  return manifest;
}
