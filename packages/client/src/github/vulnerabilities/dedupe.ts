import { severityRank, type Vulnerability } from '@ghcr/oci-types';

/** The identity of a finding: its id (case-insensitive) and package. @internal */
export function findingKey(vulnerability: Pick<Vulnerability, 'id' | 'package'>): string {
  return `${vulnerability.id.toUpperCase()}\u0000${vulnerability.package ?? ''}`;
}

/**
 * Merges findings of the same id and package (from several reports, or several targets of one
 * report) into one: the most severe wins and keeps its source and report digest; fields it lacks
 * (versions, title) are filled from the others. Order: most severe first, then by id and package.
 * @public
 */
export function dedupeVulnerabilities(vulnerabilities: readonly Vulnerability[]): Vulnerability[] {
  const merged = new Map<string, Vulnerability>();
  for (const vulnerability of vulnerabilities) {
    const key = findingKey(vulnerability);
    const existing = merged.get(key);
    if (existing === undefined) {
      merged.set(key, vulnerability);
      continue;
    }
    const [first, second] =
      severityRank(vulnerability.severity) > severityRank(existing.severity)
        ? [vulnerability, existing]
        : [existing, vulnerability];
    merged.set(key, { ...second, ...first, ...fill(first, second) });
  }
  return [...merged.values()].sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      a.id.localeCompare(b.id) ||
      (a.package ?? '').localeCompare(b.package ?? ''),
  );
}

function fill(first: Vulnerability, second: Vulnerability): Partial<Vulnerability> {
  const out: { -readonly [K in keyof Vulnerability]?: Vulnerability[K] } = {};
  for (const key of ['installedVersion', 'fixedVersion', 'title'] as const) {
    const value = first[key] ?? second[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}
