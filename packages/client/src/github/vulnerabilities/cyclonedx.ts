import { lazySchema, normalizeSeverity, type Severity, type Vulnerability } from '@ghcr/oci-types';
import * as z from 'zod';
import { invalidReport, parseWith } from './invalid.js';
import { cvssSeverity, maxSeverity } from './severity.js';
import type { ParseReportOptions } from './types.js';
import { isObject, optional, parsePurl } from './util.js';

interface Component {
  readonly 'bom-ref'?: string | undefined;
  readonly name: string;
  readonly version?: string | undefined;
  readonly purl?: string | undefined;
  readonly components?: readonly Component[] | undefined;
}

const componentSchema: z.ZodType<Component> = lazySchema(() =>
  z.lazy(() =>
    z.looseObject({
      'bom-ref': z.string().optional(),
      name: z.string(),
      version: z.string().optional(),
      purl: z.string().optional(),
      components: z.array(componentSchema).optional(),
    }),
  ),
);

const ratingSchema = lazySchema(() =>
  z.looseObject({
    score: z.number().optional(),
    severity: z.string().optional(),
    method: z.string().optional(),
  }),
);

/** A `vulnerability` of CycloneDX 1.4+ (the parts read here). */
const vulnerabilitySchema = lazySchema(() =>
  z.looseObject({
    id: z.string().min(1),
    ratings: z.array(ratingSchema).optional(),
    description: z.string().optional(),
    affects: z
      .array(
        z.looseObject({
          ref: z.string().min(1),
          versions: z
            .array(z.looseObject({ version: z.string().optional(), status: z.string().optional() }))
            .optional(),
        }),
      )
      .optional(),
    analysis: z.looseObject({ state: z.string().optional() }).optional(),
  }),
);

const bomSchema = lazySchema(() =>
  z.looseObject({
    bomFormat: z.literal('CycloneDX', { error: 'expected "CycloneDX"' }),
    specVersion: z.string(),
    metadata: z.looseObject({ component: componentSchema.optional() }).optional(),
    components: z.array(componentSchema).optional(),
    vulnerabilities: z.array(vulnerabilitySchema).optional(),
  }),
);

// VEX states under which the component is not exploitable (CycloneDX 1.4+ `impactAnalysisState`).
const NOT_EXPLOITABLE = new Set(['not_affected', 'false_positive', 'resolved', 'resolved_with_pedigree']);

/** True when `document` is a CycloneDX BOM (`bomFormat: "CycloneDX"`). @internal */
export function looksLikeCycloneDx(document: unknown): boolean {
  return isObject(document) && document.bomFormat === 'CycloneDX';
}

/**
 * True when `document` is a CycloneDX BOM with a `vulnerabilities` section (possibly empty). A BOM
 * without one is an SBOM, not a vulnerability report: counting it as a clean scan would let an
 * unscanned image through the gate.
 * @internal
 */
export function hasVulnerabilitySection(document: unknown): boolean {
  return looksLikeCycloneDx(document) && Array.isArray((document as Record<string, unknown>).vulnerabilities);
}

/**
 * Reads a CycloneDX JSON BOM's `vulnerabilities` section (CycloneDX 1.4+) into normalised findings,
 * one per affected component (`affects[].ref` → the component whose `bom-ref` it is, anywhere in
 * `components` or `metadata.component`; an unknown ref that is a package URL gives its name and
 * version). The severity is the highest of the `ratings` (a rating's `severity` word, else its
 * `score` as CVSS); without ratings it is `unknown`. `affects[].versions` with status `affected`
 * give the installed version when the component has none, `unaffected` ones the fixed version.
 * Vulnerabilities whose `analysis.state` is `not_affected`, `false_positive`, `resolved` or
 * `resolved_with_pedigree` (VEX) are not findings.
 * @throws InvalidReportError (format `cyclonedx`) naming the offending field; also when the BOM
 *   has no `vulnerabilities` section (an SBOM, not a report).
 * @public
 */
export function parseCycloneDxReport(
  document: unknown,
  options: ParseReportOptions & { readonly source?: string; readonly prefix?: string } = {},
): { vulnerabilities: Vulnerability[]; scanner?: string } {
  const prefix = options.prefix ?? '';
  const bom = parseWith(bomSchema, document, 'cyclonedx', prefix);
  if (bom.vulnerabilities === undefined) {
    throw invalidReport(
      'cyclonedx',
      `${prefix === '' ? '' : `${prefix}.`}vulnerabilities`,
      'missing: a BOM without a vulnerabilities section is an SBOM, not a vulnerability report (scan it with `trivy sbom` or `grype sbom:` first)',
    );
  }
  const components = new Map<string, Component>();
  const index = (component: Component | undefined): void => {
    if (component === undefined) return;
    const ref = component['bom-ref'];
    if (ref !== undefined && !components.has(ref)) components.set(ref, component);
    for (const child of component.components ?? []) index(child);
  };
  index(bom.metadata?.component);
  for (const component of bom.components ?? []) index(component);

  const source = options.source ?? 'cyclonedx';
  const vulnerabilities: Vulnerability[] = [];
  for (const entry of bom.vulnerabilities) {
    if (entry.analysis?.state !== undefined && NOT_EXPLOITABLE.has(entry.analysis.state)) continue;
    let severity: Severity = 'unknown';
    for (const rating of entry.ratings ?? []) {
      const fromWord = rating.severity === undefined ? undefined : normalizeSeverity(rating.severity);
      const rated =
        fromWord !== undefined && fromWord !== 'unknown'
          ? fromWord
          : rating.score === undefined
            ? 'unknown'
            : (cvssSeverity(rating.score) ?? 'unknown');
      severity = maxSeverity(severity, rated);
    }
    const common = {
      id: entry.id,
      severity,
      ...optional('title', firstLine(entry.description)),
      source,
      ...optional('reportDigest', options.reportDigest),
    };
    const affects = entry.affects ?? [];
    if (affects.length === 0) {
      vulnerabilities.push(common);
      continue;
    }
    for (const affected of affects) {
      const ref = bomLinkRef(affected.ref);
      const component = components.get(ref);
      const purl = component === undefined ? parsePurl(ref) : undefined;
      const versions = affected.versions ?? [];
      const installed =
        component?.version ??
        purl?.version ??
        versions.find((version) => version.status === 'affected' && version.version !== undefined)?.version;
      const fixed = versions.find(
        (version) => version.status === 'unaffected' && version.version !== undefined,
      )?.version;
      vulnerabilities.push({
        ...common,
        package: component?.name ?? purl?.name ?? ref,
        ...optional('installedVersion', installed),
        ...optional('fixedVersion', fixed),
      });
    }
  }
  return { vulnerabilities };
}

/** A BOM-Link (`urn:cdx:<serial>/<version>#<bom-ref>`) names a component of another BOM by its bom-ref. */
function bomLinkRef(ref: string): string {
  if (!ref.startsWith('urn:cdx:')) return ref;
  const hash = ref.indexOf('#');
  if (hash < 0) return ref;
  try {
    return decodeURIComponent(ref.slice(hash + 1));
  } catch {
    return ref.slice(hash + 1);
  }
}

function firstLine(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
