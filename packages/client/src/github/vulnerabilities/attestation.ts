import { type Digest, definedProps, isDigest, lazySchema, type Vulnerability } from '@ghcr/oci-types';
import * as z from 'zod';
import { hasVulnerabilitySection, looksLikeCycloneDx, parseCycloneDxReport } from './cyclonedx.js';
import { invalidReport, parseJsonText, parseWith } from './invalid.js';
import { looksLikeSarif, parseSarifReport } from './sarif.js';
import { looksLikeTrivy, parseTrivyReport } from './trivy.js';
import type { ParsedReport, ParseReportOptions } from './types.js';
import { isObject } from './util.js';

/** The DSSE payload type of in-toto statements. @public */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/**
 * Predicate types of vulnerability attestations: cosign's vuln predicate, written with and without
 * the scheme (cosign's own policy examples use both).
 * @public
 */
export const COSIGN_VULN_PREDICATE_TYPES: readonly string[] = [
  'https://cosign.sigstore.dev/attestation/vuln/v1',
  'cosign.sigstore.dev/attestation/vuln/v1',
];

/** The in-toto statement types read here. @public */
export const IN_TOTO_STATEMENT_TYPES: readonly string[] = [
  'https://in-toto.io/Statement/v0.1',
  'https://in-toto.io/Statement/v1',
];

/** CycloneDX's predicate type (`https://cyclonedx.org/bom`, also with a version suffix). */
function isCycloneDxPredicateType(predicateType: string): boolean {
  return /^https:\/\/cyclonedx\.org\/bom(\/v?[\d.]+)?$/.test(predicateType);
}

/**
 * True when an attestation of `predicateType` can hold vulnerability findings (cosign's vuln
 * predicate, or a CycloneDX BOM, which may have a `vulnerabilities` section).
 * @public
 */
export function isVulnerabilityPredicateType(predicateType: string): boolean {
  return COSIGN_VULN_PREDICATE_TYPES.includes(predicateType) || isCycloneDxPredicateType(predicateType);
}

const base64 = lazySchema(() =>
  z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, { error: 'expected base64 (standard or URL-safe alphabet)' }),
);

/** A DSSE envelope (secure-systems-lab/dsse `envelope.md`). */
const envelopeSchema = lazySchema(() =>
  z.looseObject({
    payloadType: z.string().min(1),
    payload: base64,
    signatures: z.array(z.looseObject({ keyid: z.string().optional(), sig: base64 })),
  }),
);

/**
 * A DSSE envelope as read: `payloadType`, the decoded `payload` bytes, and the signatures (not
 * verified here).
 * @public
 */
export interface DsseEnvelope {
  readonly payloadType: string;
  readonly payload: Uint8Array;
  readonly signatures: readonly { readonly keyid?: string; readonly sig: string }[];
}

/**
 * Validates a DSSE envelope (`{payloadType, payload (base64), signatures[]}`) and decodes its payload.
 * @throws InvalidReportError (format `dsse`) naming the offending field.
 * @public
 */
export function parseDsseEnvelope(document: unknown, prefix = ''): DsseEnvelope {
  const envelope = parseWith(envelopeSchema, document, 'dsse', prefix);
  return {
    payloadType: envelope.payloadType,
    // Node's base64 decoder takes the URL-safe alphabet too (DSSE allows either).
    payload: new Uint8Array(Buffer.from(envelope.payload, 'base64')),
    signatures: envelope.signatures.map((signature) =>
      signature.keyid === undefined || signature.keyid === ''
        ? { sig: signature.sig }
        : { keyid: signature.keyid, sig: signature.sig },
    ),
  };
}

/** An in-toto Statement v0.1 / v1 (in-toto/attestation `spec/v1/statement.md`). */
const statementSchema = lazySchema(() =>
  z.looseObject({
    _type: z.string().refine((type) => IN_TOTO_STATEMENT_TYPES.includes(type), {
      error: `expected one of ${IN_TOTO_STATEMENT_TYPES.join(', ')}`,
    }),
    subject: z
      .array(
        z.looseObject({
          name: z.string().optional(),
          digest: z.record(z.string(), z.string()),
        }),
      )
      .min(1, { error: 'a statement names at least one subject' }),
    predicateType: z.string().min(1),
    predicate: z.unknown().optional(),
  }),
);

/**
 * An in-toto statement as read.
 * @public
 */
export interface InTotoStatement {
  readonly type: string;
  readonly predicateType: string;
  readonly predicate: unknown;
  /** The subjects' digests as OCI digests (`sha256:<hex>`); entries of other algorithms are kept as `alg:value`. */
  readonly subjects: readonly string[];
}

/**
 * Validates an in-toto statement (v0.1 or v1).
 * @throws InvalidReportError (format `in-toto`) naming the offending field.
 * @public
 */
export function parseInTotoStatement(document: unknown, prefix = ''): InTotoStatement {
  const statement = parseWith(statementSchema, document, 'in-toto', prefix);
  const subjects: string[] = [];
  for (const subject of statement.subject) {
    for (const [algorithm, value] of Object.entries(subject.digest)) {
      subjects.push(`${algorithm.toLowerCase()}:${value.toLowerCase()}`);
    }
  }
  return {
    type: statement._type,
    predicateType: statement.predicateType,
    predicate: statement.predicate,
    subjects,
  };
}

/** cosign's vuln predicate (`CosignVulnProvenanceV01`), the parts read here. */
const vulnPredicateSchema = lazySchema(() =>
  z.looseObject({
    invocation: z.looseObject({}).optional(),
    scanner: z.looseObject({
      uri: z.string().optional(),
      version: z.string().optional(),
      result: z.unknown().refine((value) => value !== undefined && value !== null, { error: 'required' }),
    }),
    metadata: z
      .looseObject({ scanStartedOn: z.string().optional(), scanFinishedOn: z.string().optional() })
      .optional(),
  }),
);

/**
 * Reads cosign's vulnerability predicate (`https://cosign.sigstore.dev/attestation/vuln/v1`): its
 * `scanner.result` is the scanner's own report, read as Trivy JSON, SARIF 2.1.0 or CycloneDX
 * (recognised by shape; a JSON string holding one is accepted too). Findings get `source`
 * `cosign-vuln`.
 * @throws InvalidReportError (format `cosign-vuln`, or the inner format) naming the offending field.
 * @public
 */
export function parseCosignVulnPredicate(
  predicate: unknown,
  options: ParseReportOptions & { readonly prefix?: string } = {},
): { vulnerabilities: Vulnerability[]; scannerFormat: 'trivy' | 'sarif' | 'cyclonedx'; scanner?: string } {
  const prefix = options.prefix ?? 'predicate';
  const parsed = parseWith(vulnPredicateSchema, predicate, 'cosign-vuln', prefix);
  const resultField = `${prefix}.scanner.result`;
  let result: unknown = parsed.scanner.result;
  if (typeof result === 'string') result = parseJsonText(result, 'cosign-vuln', resultField);
  const inner = { source: 'cosign-vuln', prefix: resultField, ...digestOption(options) };
  const scannerName =
    parsed.scanner.uri === undefined || parsed.scanner.uri === ''
      ? undefined
      : parsed.scanner.version === undefined ||
          parsed.scanner.version === '' ||
          parsed.scanner.uri.includes(parsed.scanner.version)
        ? parsed.scanner.uri
        : `${parsed.scanner.uri} ${parsed.scanner.version}`;
  const withScanner = (scanner: string | undefined): { scanner?: string } =>
    scanner === undefined ? {} : { scanner };
  if (looksLikeSarif(result)) {
    const report = parseSarifReport(result, inner);
    return {
      vulnerabilities: report.vulnerabilities,
      scannerFormat: 'sarif',
      ...withScanner(scannerName ?? report.scanner),
    };
  }
  if (looksLikeCycloneDx(result)) {
    const report = parseCycloneDxReport(result, inner);
    return {
      vulnerabilities: report.vulnerabilities,
      scannerFormat: 'cyclonedx',
      ...withScanner(scannerName),
    };
  }
  if (looksLikeTrivy(result) || (isObject(result) && 'Results' in result)) {
    const report = parseTrivyReport(result, inner);
    return {
      vulnerabilities: report.vulnerabilities,
      scannerFormat: 'trivy',
      ...withScanner(scannerName ?? report.scanner),
    };
  }
  throw invalidReport(
    'cosign-vuln',
    resultField,
    'not a Trivy JSON report, a SARIF 2.1.0 log or a CycloneDX BOM (the formats read here)',
  );
}

/** A sigstore bundle (protobuf-specs `Bundle`, JSON), the parts read here. */
const bundleSchema = lazySchema(() =>
  z.looseObject({
    mediaType: z.string().regex(/^application\/vnd\.dev\.sigstore\.bundle/, {
      error: 'expected a sigstore bundle media type (application/vnd.dev.sigstore.bundle…)',
    }),
    verificationMaterial: z.unknown().optional(),
    dsseEnvelope: z.unknown().optional(),
  }),
);

/**
 * Reads the DSSE envelope out of a sigstore bundle (`application/vnd.dev.sigstore.bundle.v0.3+json`
 * and the older `…bundle+json;version=0.x`).
 * @throws InvalidReportError (format `sigstore-bundle`) when it is not one, or holds a message
 *   signature instead of a DSSE envelope (not an attestation).
 * @public
 */
export function parseSigstoreBundle(document: unknown): DsseEnvelope {
  const bundle = parseWith(bundleSchema, document, 'sigstore-bundle');
  if (bundle.dsseEnvelope === undefined) {
    throw invalidReport(
      'sigstore-bundle',
      'dsseEnvelope',
      'missing: this bundle signs a blob (messageSignature), it is not an attestation',
    );
  }
  return parseDsseEnvelope(bundle.dsseEnvelope, 'dsseEnvelope');
}

/**
 * Reads an in-toto statement (from a DSSE payload or a bare `application/vnd.in-toto+json` layer)
 * as a vulnerability report, or returns undefined when its predicate type holds no vulnerabilities
 * (provenance, SPDX) or it is a CycloneDX BOM without a `vulnerabilities` section (an SBOM).
 * @throws InvalidReportError naming the format and field.
 * @public
 */
export function readStatement(
  statement: InTotoStatement,
  envelope: 'dsse' | 'sigstore-bundle' | 'in-toto',
  options: ParseReportOptions = {},
): ParsedReport | undefined {
  const subjects = statement.subjects;
  if (COSIGN_VULN_PREDICATE_TYPES.includes(statement.predicateType)) {
    const read = parseCosignVulnPredicate(statement.predicate, digestOption(options));
    return {
      format: 'cosign-vuln',
      envelope,
      scannerFormat: read.scannerFormat,
      ...definedProps({ scanner: read.scanner }),
      subjects,
      vulnerabilities: read.vulnerabilities,
    };
  }
  if (isCycloneDxPredicateType(statement.predicateType)) {
    if (!hasVulnerabilitySection(statement.predicate)) return undefined;
    const read = parseCycloneDxReport(statement.predicate, { prefix: 'predicate', ...digestOption(options) });
    return { format: 'cyclonedx', envelope, subjects, vulnerabilities: read.vulnerabilities };
  }
  return undefined;
}

/**
 * Decodes a DSSE envelope's payload as an in-toto statement.
 * @throws InvalidReportError (format `dsse`) when the payload type is not in-toto or the payload
 *   is not JSON, (format `in-toto`) when the statement is malformed.
 * @public
 */
export function statementOfEnvelope(envelope: DsseEnvelope): InTotoStatement {
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw invalidReport(
      'dsse',
      'payloadType',
      `"${envelope.payloadType}" is not ${IN_TOTO_PAYLOAD_TYPE}: the envelope does not hold an in-toto statement`,
    );
  }
  const text = Buffer.from(envelope.payload).toString('utf8');
  return parseInTotoStatement(parseJsonText(text, 'dsse', 'payload'));
}

/** True when `subjects` (from {@link InTotoStatement.subjects}) name `digest`. @internal */
export function statementNames(subjects: readonly string[], digest: Digest | string): boolean {
  if (!isDigest(digest)) return false;
  return subjects.includes(digest.toLowerCase());
}

function digestOption(options: ParseReportOptions): ParseReportOptions {
  return options.reportDigest === undefined ? {} : { reportDigest: options.reportDigest };
}
