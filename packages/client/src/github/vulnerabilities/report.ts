import {
  type DsseEnvelope,
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_TYPES,
  type InTotoStatement,
  parseDsseEnvelope,
  parseInTotoStatement,
  parseSigstoreBundle,
  readStatement,
  statementOfEnvelope,
} from './attestation.js';
import { hasVulnerabilitySection, looksLikeCycloneDx, parseCycloneDxReport } from './cyclonedx.js';
import { parseJsonText } from './invalid.js';
import { looksLikeSarif, parseSarifReport } from './sarif.js';
import { looksLikeTrivy, parseTrivyReport } from './trivy.js';
import type { ParsedReport, ParseReportOptions } from './types.js';
import { isObject } from './util.js';

/**
 * What a report document is, before it is read:
 * `dsse` (a DSSE envelope), `sigstore-bundle`, `in-toto` (a bare statement), `sarif`, `cyclonedx`, `trivy`.
 * @public
 */
export type ReportDocumentKind = 'dsse' | 'sigstore-bundle' | 'in-toto' | 'sarif' | 'cyclonedx' | 'trivy';

/** Media types of report layers and artifacts. @public */
export const ReportMediaType = {
  /** A DSSE envelope (cosign `.att` layers). */
  Dsse: 'application/vnd.dsse.envelope.v1+json',
  /** A bare in-toto statement (BuildKit attestation layers). */
  InToto: IN_TOTO_PAYLOAD_TYPE,
  /** A sigstore bundle, v0.3 (cosign's bundle format, stored as a referrer). */
  SigstoreBundle: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  /** A SARIF log. */
  Sarif: 'application/sarif+json',
  /** A CycloneDX JSON BOM (may carry `;version=1.x`). */
  CycloneDx: 'application/vnd.cyclonedx+json',
} as const;

/**
 * The kind a media type (a layer's `mediaType`, or an artifact's `artifactType`) announces, or
 * undefined when it announces none. Trivy JSON has no registered media type: a media type or
 * artifact type naming `trivy` is taken as Trivy JSON, and plain `application/json` is recognised
 * by its content.
 * @public
 */
export function reportKindOfMediaType(mediaType: string | undefined): ReportDocumentKind | undefined {
  if (mediaType === undefined) return undefined;
  const type = (mediaType.split(';')[0] ?? '').trim().toLowerCase();
  if (type === ReportMediaType.Dsse) return 'dsse';
  if (type === ReportMediaType.InToto) return 'in-toto';
  if (type.startsWith('application/vnd.dev.sigstore.bundle')) return 'sigstore-bundle';
  if (type === ReportMediaType.Sarif) return 'sarif';
  if (type === ReportMediaType.CycloneDx) return 'cyclonedx';
  if (type.includes('trivy') && (type.endsWith('json') || type.includes('+json'))) return 'trivy';
  return undefined;
}

/**
 * The kind of a parsed JSON document, recognised by its shape, or undefined.
 * @public
 */
export function detectReportKind(document: unknown): ReportDocumentKind | undefined {
  if (isObject(document)) {
    if (typeof document.payloadType === 'string' && typeof document.payload === 'string') return 'dsse';
    if (typeof document._type === 'string' && IN_TOTO_STATEMENT_TYPES.includes(document._type))
      return 'in-toto';
    if (
      typeof document.mediaType === 'string' &&
      document.mediaType.startsWith('application/vnd.dev.sigstore.bundle')
    ) {
      return 'sigstore-bundle';
    }
  }
  if (looksLikeSarif(document)) return 'sarif';
  if (looksLikeCycloneDx(document)) return 'cyclonedx';
  if (looksLikeTrivy(document)) return 'trivy';
  return undefined;
}

/**
 * A report document as read, with what verification needs.
 * @internal
 */
export interface ReadDocument {
  readonly kind: ReportDocumentKind;
  /** Undefined when the document holds no vulnerability report (an SBOM, a provenance statement). */
  readonly report: ParsedReport | undefined;
  /** The statement's predicate type, for attestations. */
  readonly predicateType?: string;
  /** The DSSE envelope (signatures still unverified). */
  readonly envelope?: DsseEnvelope;
  /** The whole sigstore bundle (for a verifier). */
  readonly bundle?: unknown;
}

/**
 * Reads a report document (bytes or parsed JSON) as `kind` (if omitted, recognised by shape).
 * @throws InvalidReportError naming the format and field.
 * @internal
 */
export function readReportDocument(
  input: unknown,
  kind: ReportDocumentKind | undefined,
  options: ParseReportOptions = {},
): ReadDocument | undefined {
  const document =
    input instanceof Uint8Array || typeof input === 'string'
      ? parseJsonText(
          typeof input === 'string' ? input : Buffer.from(input).toString('utf8'),
          kind ?? 'report',
        )
      : input;
  const resolved = kind ?? detectReportKind(document);
  if (resolved === undefined) return undefined;
  const digest = options.reportDigest === undefined ? {} : { reportDigest: options.reportDigest };
  const fromStatement = (
    statement: InTotoStatement,
    envelopeKind: 'dsse' | 'sigstore-bundle' | 'in-toto',
  ): Omit<ReadDocument, 'kind'> => ({
    report: readStatement(statement, envelopeKind, digest),
    predicateType: statement.predicateType,
  });
  switch (resolved) {
    case 'dsse': {
      const envelope = parseDsseEnvelope(document);
      return { kind: resolved, envelope, ...fromStatement(statementOfEnvelope(envelope), 'dsse') };
    }
    case 'sigstore-bundle': {
      const envelope = parseSigstoreBundle(document);
      return {
        kind: resolved,
        envelope,
        bundle: document,
        ...fromStatement(statementOfEnvelope(envelope), 'sigstore-bundle'),
      };
    }
    case 'in-toto':
      return { kind: resolved, ...fromStatement(parseInTotoStatement(document), 'in-toto') };
    case 'sarif': {
      const read = parseSarifReport(document, digest);
      return { kind: resolved, report: { format: 'sarif', envelope: 'none', ...read } };
    }
    case 'cyclonedx': {
      // A BOM without a vulnerabilities section is an SBOM: not a report (and not a clean one).
      if (looksLikeCycloneDx(document) && !hasVulnerabilitySection(document)) {
        return { kind: resolved, report: undefined };
      }
      const read = parseCycloneDxReport(document, digest);
      return { kind: resolved, report: { format: 'cyclonedx', envelope: 'none', ...read } };
    }
    case 'trivy': {
      const read = parseTrivyReport(document, digest);
      return { kind: resolved, report: { format: 'trivy', envelope: 'none', ...read } };
    }
  }
}

/**
 * Parses any supported vulnerability report: a DSSE envelope or sigstore bundle holding an in-toto
 * statement (cosign's vuln predicate, or a CycloneDX predicate with vulnerabilities), a bare
 * in-toto statement, a SARIF 2.1.0 log, a CycloneDX BOM with a `vulnerabilities` section, or Trivy
 * JSON. `kind` forces the format (e.g. from the layer's media type, see
 * {@link reportKindOfMediaType}); if omitted, the format is recognised by shape. Returns undefined
 * for documents that hold no vulnerability report (an SBOM, a provenance attestation, an
 * unrecognised document). Signatures are not verified here.
 * @throws InvalidReportError naming the format and the offending field.
 * @public
 */
export function parseReport(
  input: unknown,
  options: ParseReportOptions & { readonly kind?: ReportDocumentKind } = {},
): ParsedReport | undefined {
  const digest = options.reportDigest === undefined ? {} : { reportDigest: options.reportDigest };
  return readReportDocument(input, options.kind, digest)?.report;
}
