import { lazySchema, normalizeSeverity, type Vulnerability } from '@ghcr/oci-types';
import * as z from 'zod';
import { parseWith } from './invalid.js';
import type { ParseReportOptions } from './types.js';
import { isObject, optional } from './util.js';

const optionalText = lazySchema(() => z.string().nullish());

/** One entry of `Results[].Vulnerabilities[]` (trivy `types.DetectedVulnerability`). */
const trivyVulnerabilitySchema = lazySchema(() =>
  z.looseObject({
    VulnerabilityID: z.string().min(1),
    PkgName: z.string().min(1),
    InstalledVersion: optionalText,
    FixedVersion: optionalText,
    Severity: z.string(),
    Title: optionalText,
  }),
);

const trivyResultSchema = lazySchema(() =>
  z.looseObject({
    Target: z.string(),
    Vulnerabilities: z.array(trivyVulnerabilitySchema).nullish(),
  }),
);

/**
 * Trivy's JSON report (schema version 2, `trivy image --format json`). Results and their
 * vulnerabilities are omitted or `null` when there are none.
 */
const trivyReportSchema = lazySchema(() =>
  z.looseObject({
    SchemaVersion: z.number().int().optional(),
    ArtifactName: z.string().optional(),
    Results: z.array(trivyResultSchema).nullish(),
  }),
);

/**
 * True when `document` looks like Trivy JSON: an object with `SchemaVersion` and `Results` or
 * `ArtifactName`, or (Trivy before 0.20) an array of results with `Target`.
 * @internal
 */
export function looksLikeTrivy(document: unknown): boolean {
  if (Array.isArray(document)) {
    return document.length > 0 && document.every((entry) => isObject(entry) && 'Target' in entry);
  }
  return (
    isObject(document) &&
    typeof document.SchemaVersion === 'number' &&
    ('Results' in document || 'ArtifactName' in document)
  );
}

/**
 * Reads a Trivy JSON report (`Results[].Vulnerabilities[]`) into normalised findings: the id is
 * `VulnerabilityID`, the package `PkgName`, the severity Trivy's `Severity` word. Misconfigurations
 * and secrets are not vulnerabilities and are not read. The legacy form (an array of results,
 * Trivy before 0.20) is accepted.
 * @param source Stored as each finding's `source`. If omitted, `trivy`.
 * @param prefix Where the document sits in its container, for error messages (`predicate.scanner.result`).
 * @throws InvalidReportError (format `trivy`) naming the offending field.
 * @public
 */
export function parseTrivyReport(
  document: unknown,
  options: ParseReportOptions & { readonly source?: string; readonly prefix?: string } = {},
): { vulnerabilities: Vulnerability[]; scanner?: string } {
  const prefix = options.prefix ?? '';
  const wrapped = Array.isArray(document) ? { Results: document } : document;
  const report = parseWith(trivyReportSchema, wrapped, 'trivy', prefix);
  const source = options.source ?? 'trivy';
  const vulnerabilities: Vulnerability[] = [];
  for (const result of report.Results ?? []) {
    for (const entry of result.Vulnerabilities ?? []) {
      vulnerabilities.push({
        id: entry.VulnerabilityID,
        severity: normalizeSeverity(entry.Severity),
        package: entry.PkgName,
        ...optional('installedVersion', entry.InstalledVersion),
        ...optional('fixedVersion', entry.FixedVersion),
        ...optional('title', entry.Title),
        source,
        ...optional('reportDigest', options.reportDigest),
      });
    }
  }
  return { vulnerabilities, scanner: 'Trivy' };
}
