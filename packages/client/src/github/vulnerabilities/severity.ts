import { type Severity, severityRank } from '@ghcr/oci-types';

/**
 * The CVSS v3.x qualitative rating scale (CVSS v3.1 specification §5), which GitHub code scanning
 * also uses for SARIF `security-severity`: 0.0 none (`unknown` here: no severity), 0.1–3.9 low,
 * 4.0–6.9 medium, 7.0–8.9 high, 9.0–10.0 critical. Undefined when `score` is not a number in 0–10.
 * @public
 */
export function cvssSeverity(score: number): Severity | undefined {
  if (!Number.isFinite(score) || score < 0 || score > 10) return undefined;
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score > 0) return 'low';
  return 'unknown';
}

/** True when `word` names a severity (not an unrecognised word that maps to unknown). @internal */
export function isSeverityWord(word: string): boolean {
  return ['critical', 'high', 'medium', 'moderate', 'low', 'negligible', 'unknown'].includes(
    word.trim().toLowerCase(),
  );
}

/** The more severe of two. @internal */
export function maxSeverity(a: Severity, b: Severity): Severity {
  return severityRank(a) >= severityRank(b) ? a : b;
}
