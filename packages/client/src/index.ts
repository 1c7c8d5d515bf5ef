/**
 * `@ghcr/client`: streaming operations on GitHub Container Registry and any OCI distribution
 * registry, as narrow capabilities: `client.blobs`, `client.manifests`, `client.tags`.
 *
 * @packageDocumentation
 */

export * from './core.js';

// The capabilities the client loads on first use (client.ts), and what they export.
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
} from './github/vulnerabilities/attestation.js';
export { parseCycloneDxReport } from './github/vulnerabilities/cyclonedx.js';
export { dedupeVulnerabilities } from './github/vulnerabilities/dedupe.js';
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
} from './github/vulnerabilities/gate.js';
export {
  detectReportKind,
  parseReport,
  type ReportDocumentKind,
  ReportMediaType,
  reportKindOfMediaType,
} from './github/vulnerabilities/report.js';
export { parseSarifReport } from './github/vulnerabilities/sarif.js';
export { cvssSeverity } from './github/vulnerabilities/severity.js';
export { parseTrivyReport } from './github/vulnerabilities/trivy.js';
export type {
  ParsedReport,
  ParseReportOptions,
  ReportEnvelope,
  ReportFormat,
} from './github/vulnerabilities/types.js';
export type { AttestationToVerify, AttestationVerifier } from './github/vulnerabilities/verifier.js';
export type {
  FindReportsOptions,
  ImageReports,
  ListReports,
  Vulnerabilities,
  VulnerabilitiesDependencies,
} from './github/vulnerabilities/vulnerabilities.js';
export {
  type AttestationInput,
  createAttestationVerifier,
  type PolicyInput,
} from './signatures/attestation-verifier.js';
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
