import { ConfigError, type Severity, type Vulnerability } from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import { evaluateGate, type GateImage, type GateInput, type GateReport, resolveGateOptions } from './gate.js';

const IMAGE = `sha256:${'a1'.repeat(32)}`;
const ARM = `sha256:${'b2'.repeat(32)}`;

const finding = (id: string, severity: Severity, pkg = 'zlib'): Vulnerability => ({
  id,
  severity,
  package: pkg,
  source: 'cosign-vuln',
});
const report = (fields: Partial<GateReport> = {}): GateReport => ({
  digest: `sha256:${'c3'.repeat(32)}`,
  subject: IMAGE,
  format: 'cosign-vuln',
  verified: false,
  reason: 'signature not verified',
  findings: 1,
  ...fields,
});
const image = (fields: Partial<GateImage> = {}): GateImage => ({
  digest: IMAGE,
  reports: 1,
  verifiedReports: 0,
  ...fields,
});

const FINDINGS = [
  finding('CVE-CRIT', 'critical'),
  finding('CVE-HIGH', 'high', 'openssl'),
  finding('CVE-MED', 'medium'),
  finding('CVE-LOW', 'low'),
  finding('CVE-UNK', 'unknown'),
];
const input = (fields: Partial<GateInput> = {}): GateInput => ({
  reference: 'octo/app:1.0',
  digest: IMAGE,
  findings: FINDINGS,
  reports: [report()],
  images: [image()],
  ...fields,
});
// These reports are unsigned: the trusting mode is asked for explicitly (the signed mode has its own tests below).
const gate = (fields: Partial<GateInput>, options: Parameters<typeof resolveGateOptions>[0]) =>
  evaluateGate(input(fields), resolveGateOptions({ allowUnverified: true, ...options }));

describe('evaluateGate', () => {
  it.each<[Severity, string[]]>([
    ['critical', ['CVE-CRIT']],
    ['high', ['CVE-CRIT', 'CVE-HIGH']],
    ['medium', ['CVE-CRIT', 'CVE-HIGH', 'CVE-MED']],
    ['low', ['CVE-CRIT', 'CVE-HIGH', 'CVE-MED', 'CVE-LOW']],
    ['unknown', ['CVE-CRIT', 'CVE-HIGH', 'CVE-MED', 'CVE-LOW', 'CVE-UNK']],
  ])('failOn %s blocks on %j', (failOn, ids) => {
    const result = gate({}, { failOn });
    expect(result.passed).toBe(false);
    expect(result.failOn).toBe(failOn);
    expect(result.blocking.map((v) => v.id)).toEqual(ids);
    expect(result.findings).toHaveLength(5);
    expect(result.reason).toMatch(
      new RegExp(`^blocked: ${ids.length} findings? at or above ${failOn}: CVE-CRIT \\(critical, zlib\\)`),
    );
  });

  it('takes maxSeverity as the same threshold, defaults to high, and refuses two that disagree', () => {
    expect(gate({}, { maxSeverity: 'critical' }).blocking.map((v) => v.id)).toEqual(['CVE-CRIT']);
    expect(gate({}, { maxSeverity: 'critical', failOn: 'critical' }).failOn).toBe('critical');
    expect(gate({}, {}).failOn).toBe('high');
    expect(() => resolveGateOptions({ failOn: 'high', maxSeverity: 'critical' })).toThrow(/disagree/);
  });

  it('passes below the threshold and says so', () => {
    const result = gate({ findings: [finding('CVE-MED', 'medium')] }, { failOn: 'high' });
    expect(result).toMatchObject({ passed: true, blocking: [] });
    expect(result.reason).toBe('passed: 1 finding in 1 report, none at or above high');
  });

  it('ignores ids case-insensitively, listing what it ignored', () => {
    const result = gate({}, { failOn: 'high', ignore: ['cve-crit', 'CVE-HIGH'] });
    expect(result.passed).toBe(true);
    expect(result.ignored.map((v) => v.id)).toEqual(['CVE-CRIT', 'CVE-HIGH']);
    expect(result.findings.map((v) => v.id)).toEqual(['CVE-MED', 'CVE-LOW', 'CVE-UNK']);
    expect(result.reason).toContain('(2 ignored)');
    expect(gate({}, { failOn: 'high', ignore: ['CVE-CRIT'] }).blocking.map((v) => v.id)).toEqual([
      'CVE-HIGH',
    ]);
  });

  it('de-duplicates findings of several reports before judging', () => {
    const result = gate(
      { findings: [finding('CVE-1', 'medium'), { ...finding('CVE-1', 'critical'), source: 'sarif' }] },
      { failOn: 'critical' },
    );
    expect(result.blocking).toEqual([{ ...finding('CVE-1', 'critical'), source: 'sarif' }]);
    expect(result.findings).toHaveLength(1);
  });

  it('fails closed when an image has no report, unless whenNoReport is pass', () => {
    const none = { findings: [], reports: [], images: [image({ reports: 0 })] };
    const closed = gate(none, {});
    expect(closed.passed).toBe(false);
    expect(closed.reason).toContain(`no vulnerability report found for ${IMAGE}`);
    expect(closed.reason).toContain("whenNoReport: 'pass'");
    const open = gate(none, { whenNoReport: 'pass' });
    expect(open.passed).toBe(true);
    expect(open.reason).toContain("whenNoReport is 'pass'");
  });

  it('judges each platform: one uncovered platform fails the gate', () => {
    const images = [
      image({ platform: 'linux/amd64' }),
      image({ digest: ARM, platform: 'linux/arm64', reports: 0 }),
    ];
    const result = gate({ findings: [], images }, {});
    expect(result.passed).toBe(false);
    expect(result.reason).toContain('no vulnerability report found for linux/arm64');
    expect(result.reason).not.toContain('linux/amd64');
  });

  it('fails on an unreadable report unless whenUnreadable is skip', () => {
    const broken = report({ error: 'invalid SARIF 2.1.0 log: runs: missing', findings: 0 });
    const fields = { findings: [], reports: [report(), broken] };
    const failed = gate(fields, {});
    expect(failed.passed).toBe(false);
    expect(failed.reason).toContain('1 report could not be read');
    expect(failed.reason).toContain('invalid SARIF 2.1.0 log: runs: missing');
    expect(gate(fields, { whenUnreadable: 'skip' }).passed).toBe(true);
  });

  it('with requireVerified, counts only verified reports as cover', () => {
    const fields = { findings: [], images: [image({ reports: 2, verifiedReports: 0 })] };
    expect(gate(fields, {}).passed).toBe(true);
    const strict = gate(fields, { requireVerified: true });
    expect(strict.passed).toBe(false);
    expect(strict.reason).toContain('no verified vulnerability report found');
    expect(
      gate({ ...fields, images: [image({ reports: 2, verifiedReports: 1 })] }, { requireVerified: true })
        .passed,
    ).toBe(true);
  });

  it('states every reason at once', () => {
    const result = gate(
      { reports: [report({ error: 'bad', findings: 0 })], images: [image({ reports: 0 })] },
      { failOn: 'critical' },
    );
    expect(result.reason).toMatch(
      /^blocked: 1 finding at or above critical: .*; 1 report could not be read .*; no vulnerability report found/,
    );
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown severity', { failOn: 'severe' }, 'failOn'],
    ['an empty ignored id', { ignore: ['CVE-1', ' '] }, 'ignore.1'],
    ['an unknown whenNoReport', { whenNoReport: 'warn' }, 'whenNoReport'],
    ['a bad platform', { platform: { os: 'linux' } }, 'platform'],
    ['code scanning without a repo', { codeScanning: { owner: 'octo' } }, 'codeScanning.repo'],
    ['a signal that is not one', { signal: 'stop' }, 'signal'],
  ])('refuses %s with a ConfigError naming the field', (_name, options, field) => {
    try {
      resolveGateOptions(options as Parameters<typeof resolveGateOptions>[0]);
      expect.unreachable('resolveGateOptions accepted a bad option');
    } catch (error) {
      expect(ConfigError.isInstance(error)).toBe(true);
      expect((error as ConfigError).field).toBe(field);
      expect((error as ConfigError).message).toContain(`"${field}"`);
    }
  });
});
