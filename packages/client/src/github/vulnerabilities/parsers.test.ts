import { INVALID_REPORT_CODE, InvalidReportError } from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import { fixture } from '../../testing/vulnerability-reports.js';
import { parseCycloneDxReport } from './cyclonedx.js';
import { parseSarifReport } from './sarif.js';
import { parseTrivyReport } from './trivy.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

/** Runs `parse` and returns the InvalidReportError it throws. */
function reportError(parse: () => unknown): InvalidReportError {
  try {
    parse();
  } catch (error) {
    if (InvalidReportError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected an InvalidReportError, nothing was thrown');
}

describe('parseTrivyReport', () => {
  it('reads every result’s vulnerabilities, with Trivy’s severity words mapped', () => {
    const { vulnerabilities, scanner } = parseTrivyReport(fixture('trivy.json'), { reportDigest: DIGEST });
    expect(scanner).toBe('Trivy');
    expect(vulnerabilities).toEqual([
      {
        id: 'CVE-2023-5363',
        severity: 'high',
        package: 'libcrypto3',
        installedVersion: '3.1.3-r0',
        fixedVersion: '3.1.4-r0',
        title: 'openssl: Incorrect cipher key and IV length processing',
        source: 'trivy',
        reportDigest: DIGEST,
      },
      {
        id: 'CVE-2024-0727',
        severity: 'medium',
        package: 'libssl3',
        installedVersion: '3.1.3-r0',
        fixedVersion: '3.1.4-r5',
        title: 'openssl: denial of service via null dereference',
        source: 'trivy',
        reportDigest: DIGEST,
      },
      {
        // An empty FixedVersion (will_not_fix) is no fixed version.
        id: 'CVE-2023-45853',
        severity: 'critical',
        package: 'zlib',
        installedVersion: '1.2.13-r1',
        title: 'zlib: integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_6',
        source: 'trivy',
        reportDigest: DIGEST,
      },
      {
        id: 'CVE-2023-39325',
        severity: 'high',
        package: 'golang.org/x/net',
        installedVersion: 'v0.15.0',
        fixedVersion: '0.17.0',
        title: 'golang: net/http, x/net/http2: rapid stream resets can cause excessive work',
        source: 'trivy',
        reportDigest: DIGEST,
      },
      {
        id: 'GHSA-m425-mq94-257g',
        severity: 'unknown',
        package: 'google.golang.org/grpc',
        installedVersion: 'v1.56.2',
        fixedVersion: '1.56.3',
        source: 'trivy',
        reportDigest: DIGEST,
      },
    ]);
  });

  it('takes a clean report (no Results, null Vulnerabilities) and the legacy array form', () => {
    expect(parseTrivyReport({ SchemaVersion: 2, ArtifactName: 'x' }).vulnerabilities).toEqual([]);
    expect(
      parseTrivyReport({ SchemaVersion: 2, Results: [{ Target: 'x', Vulnerabilities: null }] })
        .vulnerabilities,
    ).toEqual([]);
    const legacy = parseTrivyReport([
      { Target: 'alpine', Vulnerabilities: [{ VulnerabilityID: 'CVE-1', PkgName: 'musl', Severity: 'LOW' }] },
    ]);
    expect(legacy.vulnerabilities).toEqual([
      { id: 'CVE-1', severity: 'low', package: 'musl', source: 'trivy' },
    ]);
  });

  it.each([
    [
      'a vulnerability without an id',
      { SchemaVersion: 2, Results: [{ Target: 't', Vulnerabilities: [{ PkgName: 'p', Severity: 'LOW' }] }] },
      'Results[0].Vulnerabilities[0].VulnerabilityID',
    ],
    [
      'a severity that is not a word',
      {
        SchemaVersion: 2,
        Results: [{ Target: 't', Vulnerabilities: [{ VulnerabilityID: 'C', PkgName: 'p', Severity: 9 }] }],
      },
      'Results[0].Vulnerabilities[0].Severity',
    ],
    ['Results that is not a list', { SchemaVersion: 2, Results: {} }, 'Results'],
    ['a result without a target', { SchemaVersion: 2, Results: [{}] }, 'Results[0].Target'],
    ['no object at all', 'trivy', ''],
  ])('refuses %s, naming the field', (_name, document, field) => {
    const error = reportError(() => parseTrivyReport(document));
    expect(error.code).toBe(INVALID_REPORT_CODE);
    expect(error.format).toBe('trivy');
    expect(error.field).toBe(field);
    expect(error.message).toContain('invalid Trivy JSON');
    if (field !== '') expect(error.message).toContain(field);
    expect(error.message).toContain('trivy --format json');
  });

  it('puts the container’s path in front of the field', () => {
    const error = reportError(() =>
      parseTrivyReport({ SchemaVersion: 2, Results: [{}] }, { prefix: 'predicate.scanner.result' }),
    );
    expect(error.field).toBe('predicate.scanner.result.Results[0].Target');
  });
});

describe('parseSarifReport', () => {
  it('reads Trivy’s SARIF: security-severity scores, package and versions from the message', () => {
    const { vulnerabilities, scanner } = parseSarifReport(fixture('sarif.json'), { reportDigest: DIGEST });
    expect(scanner).toBe('Trivy 0.49.1');
    expect(vulnerabilities).toEqual([
      {
        id: 'CVE-2023-45853',
        severity: 'critical',
        package: 'zlib',
        installedVersion: '1.2.13-r1',
        title: 'zlib: integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_6',
        source: 'sarif',
        reportDigest: DIGEST,
      },
      {
        id: 'CVE-2024-0727',
        severity: 'medium',
        package: 'libssl3',
        installedVersion: '3.1.3-r0',
        fixedVersion: '3.1.4-r5',
        title: 'openssl: denial of service via null dereference',
        source: 'sarif',
        reportDigest: DIGEST,
      },
      {
        id: 'CVE-2023-39325',
        severity: 'high',
        package: 'golang.org/x/net',
        installedVersion: 'v0.15.0',
        fixedVersion: '0.17.0',
        title: 'golang: net/http, x/net/http2: rapid stream resets can cause excessive work (CVE-2023-44487)',
        source: 'sarif',
        reportDigest: DIGEST,
      },
    ]);
  });

  /** A one-rule, one-result log whose rule and result take `rule` and `result` fields. */
  const log = (rule: Record<string, unknown>, result: Record<string, unknown>, rules?: unknown[]) => ({
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'scanner', rules: rules ?? [{ id: 'R1', ...rule }] } },
        results: [{ ruleId: 'R1', message: { text: 'finding' }, ...result }],
      },
    ],
  });
  const severityOf = (rule: Record<string, unknown>, result: Record<string, unknown> = {}) =>
    parseSarifReport(log(rule, result)).vulnerabilities[0]?.severity;

  it.each([
    [
      'result security-severity over everything',
      {
        properties: { 'security-severity': '2.0', tags: ['CRITICAL'] },
        defaultConfiguration: { level: 'error' },
      },
      { properties: { 'security-severity': 9.1 } },
      'critical',
    ],
    [
      'rule security-severity (a string) over tags and levels',
      { properties: { 'security-severity': '7.0', tags: ['LOW'] } },
      { level: 'note' },
      'high',
    ],
    [
      'rule security-severity 0.0 is no severity',
      { properties: { 'security-severity': '0.0' } },
      { level: 'error' },
      'unknown',
    ],
    [
      'a severity tag over levels',
      { properties: { tags: ['vulnerability', 'CRITICAL'] }, defaultConfiguration: { level: 'warning' } },
      { level: 'note' },
      'critical',
    ],
    [
      'result level over the rule default',
      { defaultConfiguration: { level: 'note' } },
      { level: 'error' },
      'high',
    ],
    ['rule default level', { defaultConfiguration: { level: 'note' } }, {}, 'low'],
    ['level none', {}, { level: 'none' }, 'unknown'],
    ['no level at all: SARIF’s default warning', {}, {}, 'medium'],
  ])('severity: %s', (_name, rule, result, expected) => {
    expect(severityOf(rule, result)).toBe(expected);
  });

  it('finds the rule by ruleIndex, by rule.id, and in tool extensions', () => {
    const document = {
      version: '2.1.0',
      runs: [
        {
          tool: {
            driver: { name: 'grype', rules: [{ id: 'CVE-A', properties: { 'security-severity': '9.0' } }] },
            extensions: [{ name: 'ext', rules: [{ id: 'CVE-B', defaultConfiguration: { level: 'note' } }] }],
          },
          results: [
            { ruleIndex: 0, message: { text: 'x' } },
            { rule: { id: 'CVE-B' }, message: { text: 'x' } },
          ],
        },
      ],
    };
    expect(parseSarifReport(document).vulnerabilities.map((v) => [v.id, v.severity])).toEqual([
      ['CVE-A', 'critical'],
      ['CVE-B', 'low'],
    ]);
  });

  it('reads Grype’s message form, and leaves the package out when the message has none', () => {
    const grype = parseSarifReport(
      log(
        {},
        {
          message: {
            text: 'A high vulnerability in deb package: openssl, version 3.0.2-0ubuntu1 was found at: /var/lib/dpkg/status',
          },
        },
      ),
    );
    expect(grype.vulnerabilities[0]).toMatchObject({
      package: 'openssl',
      installedVersion: '3.0.2-0ubuntu1',
    });
    expect(parseSarifReport(log({}, {})).vulnerabilities[0]?.package).toBeUndefined();
  });

  it('skips results that are not failures and accepted suppressions; keeps rejected ones', () => {
    const document = log({}, {});
    const run = document.runs[0] as { results: unknown[] };
    run.results = [
      { ruleId: 'R1', kind: 'pass', message: { text: 'ok' } },
      { ruleId: 'R1', kind: 'notApplicable', message: { text: 'n/a' } },
      { ruleId: 'R1', message: { text: 'waived' }, suppressions: [{ kind: 'external' }] },
      { ruleId: 'R1', message: { text: 'waived' }, suppressions: [{ kind: 'external', status: 'accepted' }] },
      { ruleId: 'R1', message: { text: 'kept' }, suppressions: [{ kind: 'external', status: 'rejected' }] },
      { ruleId: 'R1', kind: 'review', message: { text: 'kept' } },
    ];
    expect(parseSarifReport(document).vulnerabilities).toHaveLength(2);
  });

  it('unescapes Trivy’s HTML-escaped titles', () => {
    const parsed = parseSarifReport(
      log({ shortDescription: { text: 'curl: cookie &#39;mixed&#39; &lt;case&gt; &amp; more' } }, {}),
    );
    expect(parsed.vulnerabilities[0]?.title).toBe("curl: cookie 'mixed' <case> & more");
  });

  it.each([
    ['another SARIF version', { version: '2.0.0', runs: [] }, 'version', 'only SARIF 2.1.0'],
    ['no runs', { version: '2.1.0' }, 'runs', 'expected array'],
    ['a run without a tool', { version: '2.1.0', runs: [{ results: [] }] }, 'runs[0].tool', ''],
    ['a result without a message', log({}, { message: undefined }), 'runs[0].results[0].message', ''],
    [
      'a result that names no rule',
      log({}, { ruleId: undefined }),
      'runs[0].results[0].ruleId',
      'ruleId, rule.id or ruleIndex',
    ],
    ['a ruleIndex past the rules', log({}, { ruleIndex: 3 }), 'runs[0].results[0].ruleIndex', 'past the end'],
    [
      'a security-severity that is not a score',
      log({ properties: { 'security-severity': 'high' } }, {}),
      'runs[0].tool.driver.rules[0].properties["security-severity"]',
      'not a CVSS score',
    ],
    [
      'a security-severity above 10',
      log({}, { properties: { 'security-severity': 11 } }),
      'runs[0].results[0].properties["security-severity"]',
      'not a CVSS score',
    ],
    ['an unknown level', log({}, { level: 'fatal' }), 'runs[0].results[0].level', ''],
  ])('refuses %s, naming the field', (_name, document, field, words) => {
    const error = reportError(() => parseSarifReport(document));
    expect(error.format).toBe('sarif');
    expect(error.field).toBe(field);
    expect(error.message).toContain('invalid SARIF 2.1.0');
    expect(error.message).toContain(words);
  });
});

describe('parseCycloneDxReport', () => {
  it('reads the vulnerabilities section: components by bom-ref, purls, ratings, VEX', () => {
    const { vulnerabilities } = parseCycloneDxReport(fixture('cyclonedx.json'), { reportDigest: DIGEST });
    expect(vulnerabilities).toEqual([
      {
        // Nested component; the highest rating wins; "unaffected" gives the fixed version.
        id: 'CVE-2023-5363',
        severity: 'high',
        package: 'libcrypto3',
        installedVersion: '3.1.3-r0',
        fixedVersion: '3.1.4-r0',
        title:
          'Issue summary: A bug has been identified in the processing of key and initialisation vector (IV) lengths.',
        source: 'cyclonedx',
        reportDigest: DIGEST,
      },
      {
        // A score without a severity word: CVSS bands.
        id: 'CVE-2023-45853',
        severity: 'critical',
        package: 'zlib',
        installedVersion: '1.2.13-r1',
        title: 'MiniZip in zlib through 1.3 has an integer overflow.',
        source: 'cyclonedx',
        reportDigest: DIGEST,
      },
      {
        // A ref that is no component's bom-ref but a package URL.
        id: 'CVE-2023-39325',
        severity: 'high',
        package: 'golang.org/x/net',
        installedVersion: 'v0.15.0',
        source: 'cyclonedx',
        reportDigest: DIGEST,
      },
      // CVE-2022-48174 is not_affected (VEX): not a finding.
      { id: 'CVE-2024-2511', severity: 'unknown', source: 'cyclonedx', reportDigest: DIGEST },
    ]);
  });

  it('resolves BOM-Link refs and keeps an empty section as a clean report', () => {
    const bom = {
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      components: [{ 'bom-ref': 'musl-1', name: 'musl', version: '1.2.4' }],
      vulnerabilities: [
        {
          id: 'CVE-9',
          ratings: [{ severity: 'medium' }],
          affects: [{ ref: 'urn:cdx:3e671687-395b-41f5/1#musl-1' }],
        },
      ],
    };
    expect(parseCycloneDxReport(bom).vulnerabilities).toEqual([
      { id: 'CVE-9', severity: 'medium', package: 'musl', installedVersion: '1.2.4', source: 'cyclonedx' },
    ]);
    expect(parseCycloneDxReport({ ...bom, vulnerabilities: [] }).vulnerabilities).toEqual([]);
  });

  it.each([
    [
      'an SBOM without a vulnerabilities section',
      { bomFormat: 'CycloneDX', specVersion: '1.5', components: [] },
      'vulnerabilities',
      'SBOM, not a vulnerability report',
    ],
    [
      'another bomFormat',
      { bomFormat: 'SPDX', specVersion: '1.5', vulnerabilities: [] },
      'bomFormat',
      'expected "CycloneDX"',
    ],
    ['no specVersion', { bomFormat: 'CycloneDX', vulnerabilities: [] }, 'specVersion', ''],
    [
      'a vulnerability without an id',
      { bomFormat: 'CycloneDX', specVersion: '1.5', vulnerabilities: [{ ratings: [] }] },
      'vulnerabilities[0].id',
      '',
    ],
    [
      'a rating score that is not a number',
      {
        bomFormat: 'CycloneDX',
        specVersion: '1.5',
        vulnerabilities: [{ id: 'C', ratings: [{ score: '9.8' }] }],
      },
      'vulnerabilities[0].ratings[0].score',
      '',
    ],
    [
      'an affects entry without a ref',
      { bomFormat: 'CycloneDX', specVersion: '1.5', vulnerabilities: [{ id: 'C', affects: [{}] }] },
      'vulnerabilities[0].affects[0].ref',
      '',
    ],
    [
      'a nested component without a name',
      {
        bomFormat: 'CycloneDX',
        specVersion: '1.5',
        components: [{ name: 'os', components: [{ version: '1' }] }],
        vulnerabilities: [],
      },
      'components[0].components[0].name',
      '',
    ],
  ])('refuses %s, naming the field', (_name, document, field, words) => {
    const error = reportError(() => parseCycloneDxReport(document));
    expect(error.format).toBe('cyclonedx');
    expect(error.field).toBe(field);
    expect(error.message).toContain('invalid CycloneDX');
    expect(error.message).toContain(words);
  });
});
