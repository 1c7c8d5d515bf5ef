import { InvalidReportError } from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import { envelopeOf, fixture, vulnStatement } from '../../testing/vulnerability-reports.js';
import {
  isVulnerabilityPredicateType,
  parseCosignVulnPredicate,
  parseDsseEnvelope,
  parseInTotoStatement,
  statementNames,
} from './attestation.js';
import { detectReportKind, parseReport, type ReportDocumentKind, reportKindOfMediaType } from './report.js';

const IMAGE = `sha256:${'1f'.repeat(32)}`;
const LAYER = `sha256:${'2e'.repeat(32)}`;

function reportError(parse: () => unknown): InvalidReportError {
  try {
    parse();
  } catch (error) {
    if (InvalidReportError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected an InvalidReportError, nothing was thrown');
}

const bytes = (document: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(document));

describe('cosign vulnerability attestations', () => {
  it('reads DSSE → in-toto v0.1 → cosign vuln predicate → Trivy result', () => {
    const report = parseReport(bytes(envelopeOf(vulnStatement(IMAGE))), { reportDigest: LAYER });
    expect(report).toEqual({
      format: 'cosign-vuln',
      envelope: 'dsse',
      scannerFormat: 'trivy',
      scanner: 'pkg:github/aquasecurity/trivy@v0.49.1',
      subjects: [IMAGE],
      vulnerabilities: [
        {
          id: 'CVE-2023-45853',
          severity: 'critical',
          package: 'zlib',
          installedVersion: '1.2.13-r1',
          title: 'zlib: integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_6',
          source: 'cosign-vuln',
          reportDigest: LAYER,
        },
        {
          id: 'CVE-2024-0727',
          severity: 'medium',
          package: 'libssl3',
          installedVersion: '3.1.3-r0',
          fixedVersion: '3.1.4-r5',
          source: 'cosign-vuln',
          reportDigest: LAYER,
        },
      ],
    });
    expect(statementNames(report?.subjects ?? [], IMAGE)).toBe(true);
    expect(statementNames(report?.subjects ?? [], LAYER)).toBe(false);
  });

  it('accepts Statement v1, the predicate type without scheme, and a URL-safe payload', () => {
    const statement = {
      ...vulnStatement(IMAGE),
      _type: 'https://in-toto.io/Statement/v1',
      predicateType: 'cosign.sigstore.dev/attestation/vuln/v1',
      // Bytes whose base64 has "+" and "/", so the URL-safe form has "-" and "_".
      note: '???>>>~~~',
    };
    const envelope = envelopeOf(statement);
    envelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64url');
    expect(envelope.payload).toMatch(/[-_]/);
    expect(parseReport(envelope)?.vulnerabilities).toHaveLength(2);
  });

  it('reads a scanner result that is SARIF, CycloneDX, or a JSON string', () => {
    const sarif = parseCosignVulnPredicate({ scanner: { uri: 'x', result: fixture('sarif.json') } });
    expect(sarif.scannerFormat).toBe('sarif');
    expect(sarif.vulnerabilities.map((v) => [v.id, v.severity, v.source])).toEqual([
      ['CVE-2023-45853', 'critical', 'cosign-vuln'],
      ['CVE-2024-0727', 'medium', 'cosign-vuln'],
      ['CVE-2023-39325', 'high', 'cosign-vuln'],
    ]);
    const cyclonedx = parseCosignVulnPredicate({ scanner: { result: fixture('cyclonedx.json') } });
    expect(cyclonedx.scannerFormat).toBe('cyclonedx');
    expect(cyclonedx.vulnerabilities).toHaveLength(4);
    const text = parseCosignVulnPredicate({ scanner: { result: JSON.stringify(fixture('trivy.json')) } });
    expect(text.scannerFormat).toBe('trivy');
    expect(text.vulnerabilities).toHaveLength(5);
  });

  it('reads a CycloneDX predicate with vulnerabilities; SBOMs and provenance are no report', () => {
    const cdx = {
      ...vulnStatement(IMAGE),
      predicateType: 'https://cyclonedx.org/bom',
      predicate: fixture('cyclonedx.json'),
    };
    expect(parseReport(envelopeOf(cdx))).toMatchObject({
      format: 'cyclonedx',
      envelope: 'dsse',
      subjects: [IMAGE],
    });
    const sbom = { ...cdx, predicate: { bomFormat: 'CycloneDX', specVersion: '1.5', components: [] } };
    expect(parseReport(envelopeOf(sbom))).toBeUndefined();
    const provenance = {
      ...vulnStatement(IMAGE),
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {},
    };
    expect(parseReport(envelopeOf(provenance))).toBeUndefined();
    expect(isVulnerabilityPredicateType('https://cyclonedx.org/bom/v1.5')).toBe(true);
    expect(isVulnerabilityPredicateType('https://spdx.dev/Document')).toBe(false);
  });

  it('reads a bare in-toto statement and a sigstore bundle around a DSSE envelope', () => {
    expect(parseReport(vulnStatement(IMAGE))).toMatchObject({ format: 'cosign-vuln', envelope: 'in-toto' });
    const bundle = {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { certificate: { rawBytes: 'MIIB' } },
      dsseEnvelope: envelopeOf(vulnStatement(IMAGE)),
    };
    expect(parseReport(bundle)).toMatchObject({ format: 'cosign-vuln', envelope: 'sigstore-bundle' });
  });

  it('decodes the envelope and keeps its signatures', () => {
    const envelope = parseDsseEnvelope({
      payloadType: 'text/plain',
      payload: Buffer.from('hello').toString('base64'),
      signatures: [{ keyid: 'k1', sig: 'c2ln' }, { sig: 'c2ln' }],
    });
    expect(Buffer.from(envelope.payload).toString()).toBe('hello');
    expect(envelope.signatures).toEqual([{ keyid: 'k1', sig: 'c2ln' }, { sig: 'c2ln' }]);
    expect(parseInTotoStatement(vulnStatement(IMAGE)).subjects).toEqual([IMAGE]);
  });

  const statement = (change: Record<string, unknown>) => ({ ...vulnStatement(IMAGE), ...change });
  const predicate = (change: Record<string, unknown>) =>
    statement({ predicate: { ...(vulnStatement(IMAGE).predicate as object), ...change } });
  const good = envelopeOf(vulnStatement(IMAGE));

  it.each<[string, unknown, string, string, string]>([
    [
      'an envelope without payloadType',
      { ...good, payloadType: undefined },
      'dsse',
      'payloadType',
      'missing',
    ],
    ['a payload that is not base64', { ...good, payload: 'not base64!' }, 'dsse', 'payload', 'base64'],
    ['signatures that are not a list', { ...good, signatures: 'sig' }, 'dsse', 'signatures', ''],
    ['a signature without sig', { ...good, signatures: [{ keyid: 'k' }] }, 'dsse', 'signatures[0].sig', ''],
    [
      'a payload that is not in-toto',
      envelopeOf(vulnStatement(IMAGE), 'application/vnd.cncf.notary.payload+json'),
      'dsse',
      'payloadType',
      'does not hold an in-toto statement',
    ],
    [
      'a payload that is not JSON',
      { ...good, payload: Buffer.from('{oops').toString('base64') },
      'dsse',
      'payload',
      'not JSON',
    ],
    [
      'another statement type',
      envelopeOf(statement({ _type: 'https://in-toto.io/Statement/v2' })),
      'in-toto',
      '_type',
      'Statement/v1',
    ],
    [
      'a statement without subjects',
      envelopeOf(statement({ subject: [] })),
      'in-toto',
      'subject',
      'at least one subject',
    ],
    [
      'a subject without digest',
      envelopeOf(statement({ subject: [{ name: 'x' }] })),
      'in-toto',
      'subject[0].digest',
      '',
    ],
    [
      'a predicate without scanner',
      envelopeOf(predicate({ scanner: undefined })),
      'cosign-vuln',
      'predicate.scanner',
      'missing',
    ],
    [
      'a scanner without result',
      envelopeOf(predicate({ scanner: { uri: 'x' } })),
      'cosign-vuln',
      'predicate.scanner.result',
      'required',
    ],
    [
      'a result in no known format',
      envelopeOf(predicate({ scanner: { result: { matches: [] } } })),
      'cosign-vuln',
      'predicate.scanner.result',
      'not a Trivy JSON report',
    ],
    [
      'a result string that is not JSON',
      envelopeOf(predicate({ scanner: { result: 'oops' } })),
      'cosign-vuln',
      'predicate.scanner.result',
      'not JSON',
    ],
    [
      'a malformed Trivy result',
      envelopeOf(
        predicate({
          scanner: {
            result: {
              SchemaVersion: 2,
              Results: [{ Target: 't', Vulnerabilities: [{ VulnerabilityID: 'C', Severity: 'LOW' }] }],
            },
          },
        }),
      ),
      'trivy',
      'predicate.scanner.result.Results[0].Vulnerabilities[0].PkgName',
      'invalid Trivy JSON report',
    ],
    [
      'a malformed SARIF result',
      envelopeOf(predicate({ scanner: { result: { version: '2.1.0', runs: [{}] } } })),
      'sarif',
      'predicate.scanner.result.runs[0].tool',
      'invalid SARIF 2.1.0 log',
    ],
    [
      'a bundle without a DSSE envelope',
      { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', messageSignature: {} },
      'sigstore-bundle',
      'dsseEnvelope',
      'not an attestation',
    ],
    [
      'a bundle whose envelope is malformed',
      { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', dsseEnvelope: { ...good, payload: 7 } },
      'dsse',
      'dsseEnvelope.payload',
      '',
    ],
  ])('refuses %s, naming the format and field', (_name, document, format, field, words) => {
    const kind: ReportDocumentKind | undefined =
      typeof document === 'object' && document !== null && 'mediaType' in document
        ? 'sigstore-bundle'
        : 'dsse';
    const error = reportError(() => parseReport(document, { kind }));
    expect(error.format).toBe(format);
    expect(error.field).toBe(field);
    expect(error.message).toContain(words);
  });
});

describe('recognising reports', () => {
  it.each<[string | undefined, ReportDocumentKind | undefined]>([
    ['application/vnd.dsse.envelope.v1+json', 'dsse'],
    ['application/vnd.in-toto+json', 'in-toto'],
    ['application/vnd.dev.sigstore.bundle.v0.3+json', 'sigstore-bundle'],
    ['application/vnd.dev.sigstore.bundle+json;version=0.2', 'sigstore-bundle'],
    ['application/sarif+json', 'sarif'],
    ['application/vnd.cyclonedx+json', 'cyclonedx'],
    ['application/vnd.cyclonedx+json; version=1.5', 'cyclonedx'],
    ['application/vnd.aquasecurity.trivy.report.v1+json', 'trivy'],
    ['application/json', undefined],
    ['application/spdx+json', undefined],
    ['application/vnd.oci.image.layer.v1.tar+gzip', undefined],
    [undefined, undefined],
  ])('media type %s → %s', (mediaType, kind) => {
    expect(reportKindOfMediaType(mediaType)).toBe(kind);
  });

  it('recognises each format by shape', () => {
    expect(detectReportKind(envelopeOf({}))).toBe('dsse');
    expect(detectReportKind(vulnStatement(IMAGE))).toBe('in-toto');
    expect(detectReportKind({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' })).toBe(
      'sigstore-bundle',
    );
    expect(detectReportKind(fixture('sarif.json'))).toBe('sarif');
    expect(detectReportKind(fixture('cyclonedx.json'))).toBe('cyclonedx');
    expect(detectReportKind(fixture('trivy.json'))).toBe('trivy');
    expect(detectReportKind([{ Target: 'alpine' }])).toBe('trivy');
    expect(detectReportKind({ spdxVersion: 'SPDX-2.3' })).toBeUndefined();
    expect(detectReportKind([])).toBeUndefined();
  });

  it('parses by shape when no kind is given, and by the kind when one is', () => {
    expect(parseReport(bytes(fixture('sarif.json')))?.format).toBe('sarif');
    expect(parseReport(JSON.stringify(fixture('trivy.json')))?.format).toBe('trivy');
    expect(parseReport({ spdxVersion: 'SPDX-2.3' })).toBeUndefined();
    const forced = reportError(() => parseReport(fixture('trivy.json'), { kind: 'sarif' }));
    expect(forced.format).toBe('sarif');
    expect(forced.field).toBe('version');
    const notJson = reportError(() => parseReport(new TextEncoder().encode('<html>'), { kind: 'sarif' }));
    expect(notJson).toMatchObject({ format: 'sarif', field: '' });
    expect(notJson.message).toContain('not JSON');
    expect(reportError(() => parseReport('<html>')).format).toBe('report');
  });
});
