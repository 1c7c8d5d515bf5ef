/**
 * `@ghcr/client/core`: everything `@ghcr/client` exports except the standalone functions of the
 * three capabilities the client loads on first use: signatures (`verifyBundle`, `loadSigningKey`, …),
 * vulnerability reports and the gate (`parseSarifReport`, `evaluateGate`, …) and sync
 * (`parseSyncConfig`, `selectTags`, …). A client made from here still has all of them
 * (`client.signatures`, `client.vulnerabilities`, `client.sync`); their code, and what it needs
 * (Sigstore's verifier, YAML, semver), is imported the first time one is called. Import from here
 * in a program that starts often (a CLI, a serverless function) and does not call them standalone.
 *
 * ```ts
 * import { createGhcrClient } from '@ghcr/client/core';
 * const client = createGhcrClient({ registry: 'ghcr.io' });
 * ```
 *
 * @packageDocumentation
 */

// index.ts re-exports all of this, and the three capabilities' names. Nothing here may re-export a
// module the client imports on first use (`onFirstUse` in client.ts), nor one that imports such a
// module: through such a re-export, the module would load with this entry (and esbuild's code
// splitting would put it in a chunk a bundle of this entry loads at start).

// The one error hierarchy, re-exported so an application catches and narrows without depending on
// @ghcr/oci-types itself. Prefer `isGhcrError(value)` and `XError.isInstance(value)` (brands that
// hold across duplicate package copies) over `instanceof`, and match on `code`.
export {
  AuthenticationError,
  AuthorizationError,
  ConfigError,
  DigestMismatchError,
  DistributionErrorCode,
  type ErrorCode,
  type ErrorFamily,
  FileSystemError,
  GhcrError,
  GhcrErrorCode,
  type GhcrErrorOptions,
  type HttpErrorContext,
  InternalError,
  InvalidInputError,
  InvalidManifestError,
  InvalidReportError,
  isErrorCode,
  isGhcrError,
  MissingHeaderError,
  NotFoundError,
  ProtocolError,
  RateLimitError,
  type RegistryErrorEntry,
  ResourceConflictError,
  ServerError,
  SimulationMismatchError,
  ThrottleTimeoutError,
  TransportError,
  UnsupportedMediaTypeError,
  UploadError,
} from '@ghcr/oci-types';
export { createGhcrClient, type GhcrClient } from './client.js';
export {
  type ArchiveTargetOptions,
  archiveFormatFromName,
  archiveTarget,
  detectArchiveFormat,
} from './content/archive/archive.js';
export type { ArchiveFormat, ArchiveImage, ArchiveTarget } from './content/archive/archive-common.js';
export {
  type ArchiveLayerRead,
  type DockerArchiveOptions,
  dockerArchive,
} from './content/archive/docker-archive.js';
export { type OciArchiveOptions, ociArchive } from './content/archive/oci-archive.js';
export {
  type CopyOptions,
  type CopyProgress,
  type CopyResult,
  type CopyRetry,
  copy,
} from './content/copy.js';
export { type MemoryTarget, type MemoryTargetOptions, memoryTarget } from './content/memory-target.js';
export {
  OCI_REF_NAME_ANNOTATION,
  type OciLayoutOptions,
  type OciLayoutTarget,
  ociLayout,
} from './content/oci-layout.js';
export {
  type RemoteRepositoryOptions,
  type RemoteRepositoryParts,
  type RemoteRepositoryTarget,
  remoteRepository,
} from './content/remote-repository.js';
export type {
  ReadOnlyTarget,
  Target,
  TargetLocation,
  TargetPushOptions,
  TargetPushResult,
  TargetReadOptions,
  TargetTagOptions,
} from './content/target.js';
export type {
  ClientEventMap,
  ClientEvents,
  CopiedEvent,
  DeletedEvent,
  ProgressEvent,
  PushedEvent,
  RetryEvent,
  TaggedEvent,
} from './events.js';
export {
  type BuildRegistryGraphOptions,
  buildRegistryGraph,
  buildRegistryGraphOptionsSchema,
  type GraphReadOptions,
  type ManifestCache,
} from './github/retention/build-graph.js';
export {
  type CleanupPackageOutcome,
  type CleanupPackagesClient,
  type CleanupPackagesEvent,
  type CleanupPackagesOptions,
  type CleanupPackagesResult,
  cleanupPackages,
  packageNameMatcher,
} from './github/retention/cleanup-packages.js';
export {
  type CleanupState,
  type CleanupStateStore,
  createFileCleanupState,
  createMemoryCleanupState,
} from './github/retention/cleanup-state.js';
export { parseDuration } from './github/retention/duration.js';
export {
  type DeleteVersion,
  type ExecutePlanOptions,
  executePlan,
  executePlanOptionsSchema,
  type RetentionDeletedEntry,
  type RetentionFailedEntry,
  type RetentionProgressEvent,
  type RetentionReport,
  type RetentionReportEntry,
  type RetentionSkippedEntry,
} from './github/retention/execute.js';
export type {
  ManifestNodeKind,
  MissingManifest,
  ReferrerLink,
  ReferrerRelation,
  RegistryGraph,
  RegistryGraphNode,
  UnreadableManifest,
} from './github/retention/graph.js';
export {
  createFileJournal,
  createMemoryJournal,
  type RetentionJournal,
  type RetentionJournalCompletion,
  type RetentionJournalEntry,
  type RetentionJournalSkip,
  type RetentionSkipCause,
} from './github/retention/journal.js';
export {
  type RetentionMermaidOptions,
  retentionMermaid,
  retentionMermaidSection,
} from './github/retention/mermaid.js';
export {
  planRetention,
  type RetentionDecision,
  type RetentionPlan,
  type RetentionReason,
  type RetentionRule,
  type RetentionWarning,
} from './github/retention/plan.js';
export {
  parseRetentionPolicy,
  type ResolvedRetentionPolicy,
  type RetentionPolicy,
  retentionPolicySchema,
} from './github/retention/policy.js';
export {
  createRequestBudget,
  GITHUB_TOKEN_HOURLY_REQUESTS,
  PAT_HOURLY_REQUESTS,
  type RequestBudget,
  type RequestBudgetOptions,
} from './github/retention/request-budget.js';
export {
  createRetention,
  type ReadGraphOptions,
  type Retention,
  type RetentionDependencies,
  type RevalidationOptions,
} from './github/retention/retention.js';
export type { RevalidationSource, RevalidationStats } from './github/retention/revalidate.js';
export {
  type BrokenImage,
  type BrokenTag,
  type OrphanedReferrer,
  type RepositoryValidation,
  validateRepository,
} from './github/retention/validate.js';
export {
  type RetentionVersion,
  type RetentionVersionInput,
  toRetentionVersion,
} from './github/retention/versions.js';
export {
  createVersions,
  type DeleteVersionOptions,
  type DeleteVersionResult,
  type ListPackagesOptions,
  type ListVersionsOptions,
  packageVersionTags,
  type RestorePackageOptions,
  type UntagAndDeleteResult,
  type VersionCallOptions,
  type Versions,
} from './github/versions/versions.js';
export {
  DEFAULT_GITHUB_API_URL,
  DEFAULT_GITHUB_API_VERSION,
  type OwnerType,
  type ResolvedVersionsOptions,
  type VersionsOptions,
  versionsOptionsSchema,
} from './github/versions/versions-options.js';
export { type ArtifactFile, type FilesArtifactSource, TITLE_ANNOTATION } from './images/artifact.js';
export type {
  ArchivePullDestination,
  ArchivePushSource,
  CopyImageOptions,
  ImageOperationOptions,
  ImageOperationResult,
  ImagePushDestination,
  ImagePushSource,
  Images,
  PlatformSelection,
  PullImageOptions,
  PushImageOptions,
} from './images/images.js';
export type { ImageInspection, InspectOptions } from './images/inspect.js';
export type {
  AddPlatformOptions,
  CreateIndexOptions,
  EditIndexOptions,
  MultiArch,
  PlatformManifestSource,
} from './multi-arch/multi-arch.js';
export {
  type ClientTransportOptions,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_MONOLITHIC_BYTES,
  GHCR_MAX_CHUNK_BYTES,
  type GhcrClientOptions,
  ghcrClientOptionsSchema,
  type ResolvedGhcrClientOptions,
} from './options.js';
export { COSIGN_ARTIFACT_TYPES, COSIGN_TAG_ANNOTATION } from './referrers/cosign.js';
export type {
  AttachFile,
  AttachOptions,
  ListReferrersOptions,
  Referrers,
  ReferrersOptions,
  RegisterReferrerOptions,
  RegisterReferrerResult,
} from './referrers/referrers.js';
export {
  type BlobInput,
  type BlobOpenOptions,
  type BlobSource,
  bufferSource,
  fileSource,
} from './registry/blob-source.js';
export type { UploadBlobOptions, UploadBlobResult, UploadStreamOptions } from './registry/blob-upload.js';
export type {
  BlobRef,
  Blobs,
  GetBlobBytesOptions,
  GetBlobOptions,
} from './registry/blobs.js';
export type {
  DeleteManifestOptions,
  GetManifestOptions,
  ManifestContent,
  Manifests,
  PutManifestOptions,
} from './registry/manifests.js';
export {
  buildUntagPlaceholder,
  isUntagPlaceholder,
  UNTAG_PLACEHOLDER_ANNOTATION,
  UNTAG_PLACEHOLDER_ARTIFACT_TYPE,
} from './registry/placeholder.js';
export type { ListTagsOptions, TagOptions, Tags, UntagResult } from './registry/tags.js';
export { CosignAnnotation } from './signatures/cosign-annotation.js';
export { describeSigner, type SignerIdentity } from './signatures/identity.js';
export { type RateLimitReader, type RateLimitState, transportRateLimitReader } from './sync/rate-limit.js';
export { type RegisteredReferrer, registerCopiedReferrer } from './sync/register-referrer.js';
