/**
 * `@ghcr/client`: streaming operations on GitHub Container Registry and any OCI distribution
 * registry, as narrow capabilities: `client.blobs`, `client.manifests`, `client.tags`.
 *
 * @packageDocumentation
 */

export {
  type BlobInput,
  type BlobOpenOptions,
  type BlobSource,
  bufferSource,
  fileSource,
} from './blob-source.js';
export type { UploadBlobOptions, UploadBlobResult } from './blob-upload.js';
export type {
  BlobRef,
  Blobs,
  GetBlobBytesOptions,
  GetBlobOptions,
} from './blobs.js';
export { createGhcrClient, type GhcrClient } from './client.js';
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
export { type ArtifactFile, type FilesArtifactSource, TITLE_ANNOTATION } from './images/artifact.js';
export {
  type CopyOptions,
  type CopyProgress,
  type CopyResult,
  type CopyRetry,
  copy,
} from './images/copy.js';
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
  DeleteManifestOptions,
  GetManifestOptions,
  ManifestContent,
  Manifests,
  PutManifestOptions,
} from './manifests.js';
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
export {
  buildUntagPlaceholder,
  isUntagPlaceholder,
  UNTAG_PLACEHOLDER_ANNOTATION,
  UNTAG_PLACEHOLDER_ARTIFACT_TYPE,
} from './placeholder.js';
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
  type BuildRegistryGraphOptions,
  buildRegistryGraph,
  buildRegistryGraphOptionsSchema,
  type GraphReadOptions,
  type ManifestCache,
} from './retention/build-graph.js';
export {
  type CleanupPackageOutcome,
  type CleanupPackagesClient,
  type CleanupPackagesEvent,
  type CleanupPackagesOptions,
  type CleanupPackagesResult,
  cleanupPackages,
  packageNameMatcher,
} from './retention/cleanup-packages.js';
export {
  type CleanupState,
  type CleanupStateStore,
  createFileCleanupState,
  createMemoryCleanupState,
} from './retention/cleanup-state.js';
export { parseDuration } from './retention/duration.js';
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
} from './retention/execute.js';
export type {
  ManifestNodeKind,
  MissingManifest,
  ReferrerLink,
  ReferrerRelation,
  RegistryGraph,
  RegistryGraphNode,
  UnreadableManifest,
} from './retention/graph.js';
export {
  createFileJournal,
  createMemoryJournal,
  type RetentionJournal,
  type RetentionJournalCompletion,
  type RetentionJournalEntry,
  type RetentionJournalSkip,
  type RetentionSkipCause,
} from './retention/journal.js';
export {
  type RetentionMermaidOptions,
  retentionMermaid,
  retentionMermaidSection,
} from './retention/mermaid.js';
export {
  planRetention,
  type RetentionDecision,
  type RetentionPlan,
  type RetentionReason,
  type RetentionRule,
  type RetentionWarning,
} from './retention/plan.js';
export {
  parseRetentionPolicy,
  type ResolvedRetentionPolicy,
  type RetentionPolicy,
  retentionPolicySchema,
} from './retention/policy.js';
export {
  createRequestBudget,
  GITHUB_TOKEN_HOURLY_REQUESTS,
  PAT_HOURLY_REQUESTS,
  type RequestBudget,
  type RequestBudgetOptions,
} from './retention/request-budget.js';
export {
  createRetention,
  type ReadGraphOptions,
  type Retention,
  type RetentionDependencies,
  type RevalidationOptions,
} from './retention/retention.js';
export type { RevalidationSource, RevalidationStats } from './retention/revalidate.js';
export {
  type BrokenImage,
  type BrokenTag,
  type OrphanedReferrer,
  type RepositoryValidation,
  validateRepository,
} from './retention/validate.js';
export {
  type RetentionVersion,
  type RetentionVersionInput,
  toRetentionVersion,
} from './retention/versions.js';
export {
  type AttestationInput,
  createAttestationVerifier,
  type PolicyInput,
} from './signatures/attestation-verifier.js';
export { CosignAnnotation } from './signatures/cosign-annotation.js';
export { describeSigner, type SignerIdentity } from './signatures/identity.js';
export {
  type Matcher,
  type ResolvedSignaturePolicy,
  resolveSignaturePolicy,
  type SignaturePolicy,
  signaturePolicySchema,
} from './signatures/policy.js';
export {
  loadSigningKey,
  SIMPLE_SIGNING_MEDIA_TYPE,
  simpleSigningPayload,
} from './signatures/sign.js';
export {
  COSIGN_SIGN_PREDICATE_TYPE,
  type FoundSignature,
  type ListAttestationsOptions,
  type Signatures,
  type SignaturesDependencies,
  type SignImageOptions,
  type SignImageResult,
  type VerifySignaturesOptions,
  type VerifySignaturesResult,
} from './signatures/signatures.js';
export {
  type Expectation,
  type SignatureVerification,
  verifyBundle,
  verifyCosignAttestation,
  verifyCosignSignature,
} from './signatures/verify.js';
export {
  parseSyncConfig,
  type SyncConfig,
  SyncConfigError,
  type SyncPair,
  type SyncRateLimitPolicy,
  type SyncTagSelection,
} from './sync/config.js';
export { type RateLimitReader, type RateLimitState, transportRateLimitReader } from './sync/rate-limit.js';
export { type RegisteredReferrer, registerCopiedReferrer } from './sync/register-referrer.js';
export { formatSyncItem, syncReportMarkdown } from './sync/report.js';
export { type SyncFileResult, syncExitCode, syncFromFile } from './sync/run-file.js';
export type {
  SyncAction,
  SyncItem,
  SyncOptions,
  SyncProgress,
  SyncRegistryView,
  SyncReport,
} from './sync/sync.js';
export { isDigestTag, type SelectedTags, selectTags, tagVersion } from './sync/tag-selection.js';
export type { ListTagsOptions, TagOptions, Tags, UntagResult } from './tags.js';
export {
  type ArchiveTargetOptions,
  archiveFormatFromName,
  archiveTarget,
  detectArchiveFormat,
} from './targets/archive/archive.js';
export type { ArchiveFormat, ArchiveImage, ArchiveTarget } from './targets/archive/archive-common.js';
export { type DockerArchiveOptions, dockerArchive } from './targets/archive/docker-archive.js';
export { type OciArchiveOptions, ociArchive } from './targets/archive/oci-archive.js';
export { type MemoryTarget, type MemoryTargetOptions, memoryTarget } from './targets/memory-target.js';
export {
  OCI_REF_NAME_ANNOTATION,
  type OciLayoutOptions,
  type OciLayoutTarget,
  ociLayout,
} from './targets/oci-layout.js';
export {
  type RemoteRepositoryOptions,
  type RemoteRepositoryParts,
  type RemoteRepositoryTarget,
  remoteRepository,
} from './targets/remote-repository.js';
export type {
  ReadOnlyTarget,
  Target,
  TargetLocation,
  TargetPushOptions,
  TargetPushResult,
  TargetReadOptions,
  TargetTagOptions,
} from './targets/target.js';
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
} from './versions/versions.js';
export {
  DEFAULT_GITHUB_API_URL,
  DEFAULT_GITHUB_API_VERSION,
  type OwnerType,
  type ResolvedVersionsOptions,
  type VersionsOptions,
  versionsOptionsSchema,
} from './versions/versions-options.js';
export {
  COSIGN_VULN_PREDICATE_TYPES,
  type DsseEnvelope,
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_TYPES,
  type InTotoStatement,
  isVulnerabilityPredicateType,
  parseCosignVulnPredicate,
  parseDsseEnvelope,
  parseInTotoStatement,
  parseSigstoreBundle,
  readStatement,
  statementOfEnvelope,
} from './vulnerabilities/attestation.js';
export { parseCycloneDxReport } from './vulnerabilities/cyclonedx.js';
export { dedupeVulnerabilities } from './vulnerabilities/dedupe.js';
export {
  type CodeScanningOptions,
  codeScanningOptionsSchema,
  evaluateGate,
  type GateImage,
  type GateOptions,
  type GateReport,
  type GateResult,
  gateOptionsSchema,
  type ResolvedCodeScanningOptions,
  type ResolvedGateOptions,
} from './vulnerabilities/gate.js';
export {
  detectReportKind,
  parseReport,
  type ReportDocumentKind,
  ReportMediaType,
  reportKindOfMediaType,
} from './vulnerabilities/report.js';
export { parseSarifReport } from './vulnerabilities/sarif.js';
export { cvssSeverity } from './vulnerabilities/severity.js';
export { parseTrivyReport } from './vulnerabilities/trivy.js';
export type {
  ParsedReport,
  ParseReportOptions,
  ReportEnvelope,
  ReportFormat,
} from './vulnerabilities/types.js';
export type { AttestationToVerify, AttestationVerifier } from './vulnerabilities/verifier.js';
export type {
  FindReportsOptions,
  ImageReports,
  ListReports,
  Vulnerabilities,
  VulnerabilitiesDependencies,
} from './vulnerabilities/vulnerabilities.js';
