/**
 * `@ghcr/client`: streaming operations on GitHub Container Registry and any OCI distribution
 * registry, as narrow capabilities: `client.blobs`, `client.manifests`, `client.tags`.
 *
 * @packageDocumentation
 */

export {
  type BlobInput,
  type BlobSource,
  bufferSource,
  fileSource,
} from './blob-source.js';
export { type UploadBlobOptions, type UploadBlobResult } from './blob-upload.js';
export {
  type BlobRef,
  type Blobs,
  type GetBlobBytesOptions,
  type GetBlobOptions,
} from './blobs.js';
export { createGhcrClient, type GhcrClient } from './client.js';
export {
  type ClientEventMap,
  type ClientEvents,
  type DeletedEvent,
  type ProgressEvent,
  type PushedEvent,
  type TaggedEvent,
} from './events.js';
export {
  type DeleteManifestOptions,
  type GetManifestOptions,
  type ManifestContent,
  type Manifests,
  type PutManifestOptions,
} from './manifests.js';
export {
  type ClientTransportOptions,
  DEFAULT_CHUNK_BYTES,
  GHCR_MAX_CHUNK_BYTES,
  type GhcrClientOptions,
  ghcrClientOptionsSchema,
  type ResolvedGhcrClientOptions,
} from './options.js';
export {
  buildUntagPlaceholder,
  isUntagPlaceholder,
  UNTAG_PLACEHOLDER_ANNOTATION,
  UNTAG_PLACEHOLDER_ARTIFACT_TYPE,
} from './placeholder.js';
export { type ListTagsOptions, type TagOptions, type Tags, type UntagResult } from './tags.js';
