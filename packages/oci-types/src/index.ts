/**
 * `@ghcr/oci-types`: the bottom layer of the `@ghcr/*` toolkit. Types and zod schemas for OCI and
 * Docker documents and GitHub Packages objects, media types, digests, references, rate-limit
 * parsing, redaction, and the one {@link GhcrError} hierarchy every package throws.
 *
 * @packageDocumentation
 */

export { type Clock, createManualClock, type ManualClock, systemClock } from './clock.js';
export { type DefinedProps, definedProps } from './defined-props.js';
export {
  type ContentVerifier,
  createContentVerifier,
  createDigester,
  createVerifyingStream,
  type Digest,
  type DigestAlgorithm,
  type Digester,
  digestOf,
  digestStream,
  isDigest,
  type ParsedDigest,
  parseDigest,
  type VerifyingStreamOptions,
  verifyDigest,
} from './digest.js';
export {
  AuthenticationError,
  AuthorizationError,
  ConfigError,
  DigestMismatchError,
  DistributionErrorCode,
  type ErrorCode,
  type ErrorFamily,
  GhcrError,
  GhcrErrorCode,
  type GhcrErrorOptions,
  type HttpErrorContext,
  InternalError,
  InvalidInputError,
  InvalidManifestError,
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
} from './errors.js';
export { FileSystemError } from './file-system-error.js';
export {
  errorFromResponse,
  type FailedResponse,
  MAX_ERROR_BODY_BYTES,
  RETRYABLE_STATUSES,
} from './http-errors.js';
export { lazySchema, PARSE_ONCE } from './lazy-schema.js';
export {
  EMPTY_DESCRIPTOR,
  EMPTY_JSON_BYTES,
  EMPTY_JSON_DIGEST,
  IMAGE_MANIFEST_MEDIA_TYPES,
  INDEX_MEDIA_TYPES,
  isImageManifestMediaType,
  isIndexMediaType,
  isManifestMediaType,
  type KnownMediaType,
  LAYER_MEDIA_TYPES,
  LEGACY_MANIFEST_MEDIA_TYPES,
  MANIFEST_ACCEPT_HEADER,
  MANIFEST_MEDIA_TYPES,
  MediaType,
} from './media-types.js';
export {
  DOCKER_PULLS_RESOURCE,
  describeDockerHubQuota,
  parseDockerHubRateLimitHeaders,
  parseRateLimitHeaders,
  parseRetryAfterHeader,
  parseRetryAfterInMessage,
  type RateLimitInfo,
  rateLimitInfoSchema,
} from './rate-limit.js';
export { REDACTED, redactText, redactUrl } from './redact.js';
export {
  DEFAULT_REGISTRY,
  formatReference,
  isValidRepositoryName,
  isValidTag,
  MAX_NAME_LENGTH,
  parseReference,
  type Reference,
  referenceTarget,
  splitPackagePath,
} from './reference.js';
export {
  canonicalRegistry,
  canonicalRepository,
  DOCKER_HUB_ALIASES,
  DOCKER_HUB_API_HOST,
  DOCKER_HUB_REGISTRY,
  isDockerHub,
  registryApiHost,
} from './registry-names.js';
export { INVALID_REPORT_CODE, InvalidReportError } from './report-errors.js';
export {
  annotationsSchema,
  compareSeverity,
  containerConfigSchema,
  type Descriptor,
  type DistributionErrorBody,
  type DockerManifest,
  type DockerManifestList,
  descriptorSchema,
  digestSchema,
  distributionErrorBodySchema,
  dockerManifestListSchema,
  dockerManifestSchema,
  type GithubPackage,
  githubErrorBodySchema,
  githubPackageSchema,
  historySchema,
  type ImageConfig,
  imageConfigSchema,
  normalizeSeverity,
  type OciImageIndex,
  type OciImageManifest,
  ociImageIndexSchema,
  ociImageManifestSchema,
  type PackageVersion,
  type PackageVisibility,
  type Platform,
  packageOwnerSchema,
  packageVersionSchema,
  packageVisibilitySchema,
  platformSchema,
  SEVERITIES,
  type Severity,
  severityRank,
  severitySchema,
  type Vulnerability,
  vulnerabilitySchema,
} from './schemas.js';
export { closestName, unknownKeysError } from './unknown-keys.js';
