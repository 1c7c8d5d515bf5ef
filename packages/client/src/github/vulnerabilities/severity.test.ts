import { normalizeSeverity, type Severity, type Vulnerability } from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import { dedupeVulnerabilities } from './dedupe.js';
import { cvssSeverity, maxSeverity } from './severity.js';
import { packageFromMessage, parsePurl, unescapeHtml } from './util.js';

describe('severity mapping', () => {
  it.each<[number, Severity | undefined]>([
    [0, 'unknown'],
    [0.1, 'low'],
    [3.9, 'low'],
    [4.0, 'medium'],
    [6.9, 'medium'],
    [7.0, 'high'],
    [8.9, 'high'],
    [9.0, 'critical'],
    [10, 'critical'],
    [-0.1, undefined],
    [10.1, undefined],
    [Number.NaN, undefined],
  ])('CVSS %s → %s (CVSS v3.1 §5 bands, as GitHub code scanning uses them)', (score, severity) => {
    expect(cvssSeverity(score)).toBe(severity);
  });

  // The words each format writes, through normalizeSeverity of @ghcr/oci-types.
  it.each<[string, string, Severity]>([
    ['Trivy', 'CRITICAL', 'critical'],
    ['Trivy', 'HIGH', 'high'],
    ['Trivy', 'MEDIUM', 'medium'],
    ['Trivy', 'LOW', 'low'],
    ['Trivy', 'UNKNOWN', 'unknown'],
    ['SARIF level', 'error', 'high'],
    ['SARIF level', 'warning', 'medium'],
    ['SARIF level', 'note', 'low'],
    ['SARIF level', 'none', 'unknown'],
    ['CycloneDX', 'critical', 'critical'],
    ['CycloneDX', 'info', 'unknown'],
    ['CycloneDX', 'none', 'unknown'],
    ['GitHub', 'moderate', 'medium'],
    ['Grype', 'Negligible', 'low'],
  ])('%s %s → %s', (_format, word, severity) => {
    expect(normalizeSeverity(word)).toBe(severity);
  });

  it('takes the more severe of two', () => {
    expect(maxSeverity('low', 'high')).toBe('high');
    expect(maxSeverity('critical', 'unknown')).toBe('critical');
  });
});

describe('dedupeVulnerabilities', () => {
  const finding = (
    fields: Partial<Vulnerability> & Pick<Vulnerability, 'id' | 'severity'>,
  ): Vulnerability => ({
    source: 'trivy',
    ...fields,
  });

  it('merges the same id and package across reports: the most severe wins, gaps are filled', () => {
    const merged = dedupeVulnerabilities([
      finding({
        id: 'CVE-1',
        severity: 'medium',
        package: 'zlib',
        fixedVersion: '1.3',
        source: 'sarif',
        reportDigest: 'sha256:a',
      }),
      finding({
        id: 'cve-1',
        severity: 'critical',
        package: 'zlib',
        installedVersion: '1.2',
        source: 'cosign-vuln',
        reportDigest: 'sha256:b',
      }),
      finding({ id: 'CVE-1', severity: 'high', package: 'libz' }),
      finding({ id: 'CVE-0', severity: 'low' }),
      finding({ id: 'CVE-0', severity: 'low', title: 'later title' }),
    ]);
    expect(merged).toEqual([
      {
        id: 'cve-1',
        severity: 'critical',
        package: 'zlib',
        installedVersion: '1.2',
        fixedVersion: '1.3',
        source: 'cosign-vuln',
        reportDigest: 'sha256:b',
      },
      { id: 'CVE-1', severity: 'high', package: 'libz', source: 'trivy' },
      { id: 'CVE-0', severity: 'low', title: 'later title', source: 'trivy' },
    ]);
  });
});

describe('helpers', () => {
  it.each<[string, { name: string; version?: string } | undefined]>([
    ['pkg:apk/alpine/zlib@1.2.13-r1?arch=x86_64', { name: 'zlib', version: '1.2.13-r1' }],
    [
      'pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12',
      { name: 'openssl', version: '3.0.11-1~deb12u2' },
    ],
    ['pkg:golang/golang.org/x/net@v0.15.0', { name: 'golang.org/x/net', version: 'v0.15.0' }],
    ['pkg:npm/%40babel/traverse@7.22.5', { name: '@babel/traverse', version: '7.22.5' }],
    [
      'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1',
      { name: 'org.apache.logging.log4j:log4j-core', version: '2.14.1' },
    ],
    ['pkg:pypi/requests', { name: 'requests' }],
    ['not-a-purl', undefined],
  ])('parsePurl(%s)', (purl, expected) => {
    expect(parsePurl(purl)).toEqual(expected);
  });

  it('reads Trivy’s and Grype’s finding messages', () => {
    expect(
      packageFromMessage(
        'Package: zlib\nInstalled Version: 1.2\nVulnerability CVE-1\nSeverity: HIGH\nFixed Version: \nLink: x',
      ),
    ).toEqual({
      package: 'zlib',
      installedVersion: '1.2',
    });
    expect(packageFromMessage('Package: zlib\r\nInstalled Version: 1.2\r\nFixed Version: 1.3\r\n')).toEqual({
      package: 'zlib',
      installedVersion: '1.2',
      fixedVersion: '1.3',
    });
    expect(
      packageFromMessage(
        'A medium vulnerability in apk package: busybox, version 1.36.1-r2 was found at: /lib/apk/db/installed',
      ),
    ).toEqual({
      package: 'busybox',
      installedVersion: '1.36.1-r2',
    });
    expect(packageFromMessage('SQL injection in handler')).toEqual({});
    expect(packageFromMessage(undefined)).toEqual({});
  });

  it('unescapes HTML entities, leaving unknown ones', () => {
    expect(unescapeHtml('a &lt;b&gt; &#39;c&#39; &#x27;d&#x27; &quot;e&quot; &nbsp;')).toBe(
      `a <b> 'c' 'd' "e" &nbsp;`,
    );
  });
});
