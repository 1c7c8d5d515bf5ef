import type { Vulnerability } from '@ghcr/oci-types';

/**
 * The format of a vulnerability report.
 * - `cosign-vuln`: an in-toto statement with predicate type
 *   `https://cosign.sigstore.dev/attestation/vuln/v1` (whose `scanner.result` is Trivy JSON, SARIF
 *   or CycloneDX, see {@link ParsedReport.scannerFormat}).
 * - `sarif`: a SARIF 2.1.0 log (`application/sarif+json`).
 * - `cyclonedx`: a CycloneDX JSON BOM with a `vulnerabilities` section (as an artifact, or as the
 *   predicate of an in-toto statement of type `https://cyclonedx.org/bom`).
 * - `trivy`: Trivy's JSON output (`Results[].Vulnerabilities[]`).
 * - `code-scanning`: GitHub code-scanning alerts (not attached to a digest).
 * @public
 */
export type ReportFormat = 'cosign-vuln' | 'sarif' | 'cyclonedx' | 'trivy' | 'code-scanning';

/**
 * How a report was wrapped in the registry.
 * - `dsse`: a DSSE envelope (`application/vnd.dsse.envelope.v1+json`, cosign's `.att` layers).
 * - `sigstore-bundle`: a sigstore bundle holding a DSSE envelope (cosign's bundle format).
 * - `in-toto`: a bare, unsigned in-toto statement (`application/vnd.in-toto+json`).
 * - `none`: the report itself (a SARIF, CycloneDX or Trivy artifact).
 * @public
 */
export type ReportEnvelope = 'dsse' | 'sigstore-bundle' | 'in-toto' | 'none';

/**
 * A report document, parsed and normalised.
 * @public
 */
export interface ParsedReport {
  readonly format: Exclude<ReportFormat, 'code-scanning'>;
  readonly envelope: ReportEnvelope;
  /** For `cosign-vuln`: the format of `predicate.scanner.result`. */
  readonly scannerFormat?: 'trivy' | 'sarif' | 'cyclonedx';
  /** The scanner, when the report says (`Trivy 0.50.1`, `pkg:github/aquasecurity/trivy@v0.50.1`). */
  readonly scanner?: string;
  /** For statements: the subjects' digests (`sha256:<hex>`), which should name the image. */
  readonly subjects?: readonly string[];
  /** The findings, in report order (not de-duplicated). */
  readonly vulnerabilities: readonly Vulnerability[];
}

/**
 * What the parsers are told about where a document came from.
 * @public
 */
export interface ParseReportOptions {
  /** Stored as each finding's `reportDigest`. If omitted, findings have none. */
  readonly reportDigest?: string | undefined;
}
