import { buildImageManifest, buildIndex, descriptorOf, type ParsedManifest } from '@ghcr/manifest';
import {
  type Descriptor,
  type Digest,
  definedProps,
  digestOf,
  MediaType,
  type Platform,
} from '@ghcr/oci-types';
import { manifestInputOf } from '../registry/manifests.js';
import type { Simulation } from '../simulation.js';
import type { ManifestRecord } from '../state/records.js';
import { layerOf } from './tar.js';

/**
 * A manifest stored by a scenario helper.
 * @public
 */
export interface PushedManifest {
  /** The parsed manifest with its exact bytes. */
  readonly parsed: ParsedManifest;
  /** Its descriptor (for an index entry or a subject). */
  readonly descriptor: Descriptor;
  /** The stored record (the package version). */
  readonly record: ManifestRecord;
  /** `parsed.digest`. */
  readonly digest: Digest;
}

/**
 * An image pushed by {@link pushImage}.
 * @public
 */
export interface PushedImage extends PushedManifest {
  /** The config blob's descriptor. */
  readonly config: Descriptor;
  /** The layers' descriptors. */
  readonly layers: readonly Descriptor[];
}

/**
 * Options of {@link pushImage}.
 * @public
 */
export interface SeedImageOptions {
  /** The platform written into the config. If omitted, linux/amd64. */
  readonly platform?: Platform | undefined;
  /** Layer contents (each becomes a gzip tar holding one file). If omitted, one small layer derived from `seed`. */
  readonly layers?: readonly (Uint8Array | string)[] | undefined;
  /** Makes the content unique (different seeds, different digests). If omitted, the repository name. */
  readonly seed?: string | undefined;
  /** Tag to point at the image. If omitted, untagged. */
  readonly tag?: string | undefined;
  /** Manifest annotations. If omitted, none. */
  readonly annotations?: Record<string, string> | undefined;
  /** `oci` or `docker` manifest. If omitted, `oci`. */
  readonly format?: 'oci' | 'docker' | undefined;
}

/**
 * Stores bytes as a blob of `repository` (created, with its package, when absent) and returns its
 * descriptor. Goes straight to the state: no HTTP, no request log entries.
 * @public
 */
export async function pushBlob(
  simulation: Simulation,
  repository: string,
  bytes: Uint8Array | string,
  mediaType: string = 'application/octet-stream',
): Promise<Descriptor> {
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const { state } = simulation;
  const record = state.ensureRepository(repository);
  const digest = await state.store.putBytes(data);
  state.linkBlob(record, digest);
  return { mediaType, digest, size: data.byteLength };
}

/**
 * Stores a built manifest in `repository` (its blobs and children must already be there, as the
 * registry would require) and optionally tags it.
 * @public
 */
export function pushManifest(
  simulation: Simulation,
  repository: string,
  parsed: ParsedManifest,
  tag?: string,
): PushedManifest {
  const { state } = simulation;
  const record = state.putManifest(state.ensureRepository(repository), manifestInputOf(parsed), tag);
  return { parsed, descriptor: descriptorOf(parsed), record, digest: parsed.digest };
}

/**
 * Builds and stores a real image: gzip tar layers, a config whose `rootfs.diff_ids` are the
 * layers' uncompressed digests, and an OCI (or Docker) manifest over them.
 * @public
 */
export async function pushImage(
  simulation: Simulation,
  repository: string,
  options: SeedImageOptions = {},
): Promise<PushedImage> {
  const platform = options.platform ?? { architecture: 'amd64', os: 'linux' };
  const seed = options.seed ?? repository;
  const docker = options.format === 'docker';
  const contents = options.layers ?? [
    `${seed} ${platform.os}/${platform.architecture}${platform.variant ?? ''}\n`,
  ];
  const layers: Descriptor[] = [];
  const diffIds: Digest[] = [];
  for (const [position, content] of contents.entries()) {
    const { tar, gzip } = layerOf(
      `layer-${position}.txt`,
      typeof content === 'string' ? Buffer.from(content) : content,
    );
    diffIds.push(digestOf(tar));
    layers.push(
      await pushBlob(
        simulation,
        repository,
        gzip,
        docker ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip,
      ),
    );
  }
  const configDocument = {
    architecture: platform.architecture,
    os: platform.os,
    ...definedProps({ variant: platform.variant }),
    config: { Labels: { 'org.opencontainers.image.source': `https://github.com/${repository}` } },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: [{ created_by: `simulation seed ${seed}` }],
  };
  const config = await pushBlob(
    simulation,
    repository,
    JSON.stringify(configDocument),
    docker ? MediaType.DockerConfig : MediaType.OciConfig,
  );
  const parsed = buildImageManifest({
    config,
    layers,
    ...(options.annotations === undefined || docker ? {} : { annotations: options.annotations }),
    mediaType: docker ? 'docker' : 'oci',
  });
  const pushed = pushManifest(simulation, repository, parsed, options.tag);
  return { ...pushed, config, layers };
}

/**
 * Builds and stores an index over already-stored manifests.
 * @public
 */
export function pushIndex(
  simulation: Simulation,
  repository: string,
  manifests: readonly Descriptor[],
  options: {
    readonly tag?: string;
    readonly annotations?: Record<string, string>;
    readonly subject?: Descriptor;
    readonly artifactType?: string;
  } = {},
): PushedManifest {
  const parsed = buildIndex({
    manifests,
    ...definedProps({
      annotations: options.annotations,
      subject: options.subject,
      artifactType: options.artifactType,
    }),
  });
  return pushManifest(simulation, repository, parsed, options.tag);
}
