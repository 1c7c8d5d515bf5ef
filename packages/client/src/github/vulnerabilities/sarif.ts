import type { Severity, Vulnerability } from '@ghcr/oci-types';
import { lazySchema, normalizeSeverity } from '@ghcr/oci-types';
import * as z from 'zod';
import { invalidReport, parseWith } from './invalid.js';
import { cvssSeverity, isSeverityWord } from './severity.js';
import type { ParseReportOptions } from './types.js';
import { isObject, optional, packageFromMessage, unescapeHtml } from './util.js';

const message = lazySchema(() =>
  z.looseObject({ text: z.string().optional(), markdown: z.string().optional() }),
);
const level = lazySchema(() => z.enum(['none', 'note', 'warning', 'error']));
const properties = lazySchema(() =>
  z.looseObject({
    'security-severity': z.union([z.string(), z.number()]).optional(),
    tags: z.array(z.string()).optional(),
  }),
);

/** A `reportingDescriptor` (SARIF 2.1.0 §3.49), the parts read here. */
const ruleSchema = lazySchema(() =>
  z.looseObject({
    id: z.string().min(1),
    name: z.string().optional(),
    shortDescription: message.optional(),
    fullDescription: message.optional(),
    defaultConfiguration: z.looseObject({ level: level.optional() }).optional(),
    properties: properties.optional(),
  }),
);

const toolComponent = lazySchema(() =>
  z.looseObject({
    name: z.string(),
    version: z.string().optional(),
    rules: z.array(ruleSchema).optional(),
  }),
);

/** A `result` (SARIF 2.1.0 §3.27), the parts read here. */
const resultSchema = lazySchema(() =>
  z.looseObject({
    ruleId: z.string().min(1).optional(),
    ruleIndex: z.number().int().min(0).optional(),
    rule: z.looseObject({ id: z.string().optional(), index: z.number().int().min(0).optional() }).optional(),
    kind: z.string().optional(),
    level: level.optional(),
    message: message,
    locations: z.array(z.looseObject({ message: message.optional() })).optional(),
    properties: properties.optional(),
    suppressions: z.array(z.looseObject({ status: z.string().optional() })).optional(),
  }),
);

const runSchema = lazySchema(() =>
  z.looseObject({
    tool: z.looseObject({ driver: toolComponent, extensions: z.array(toolComponent).optional() }),
    results: z.array(resultSchema).nullish(),
  }),
);

/** A SARIF 2.1.0 log (OASIS SARIF v2.1.0 §3.13). */
const sarifSchema = lazySchema(() =>
  z.looseObject({
    version: z.literal('2.1.0', { error: 'expected "2.1.0" (only SARIF 2.1.0 is read)' }),
    runs: z.array(runSchema),
  }),
);

type SarifRule = z.output<typeof ruleSchema>;
type SarifResult = z.output<typeof resultSchema>;

interface LocatedRule {
  readonly rule: SarifRule;
  /** Its path in the log, for error messages. */
  readonly field: string;
}

/**
 * True when `document` looks like a SARIF log: `version` and a `runs` array, or a SARIF `$schema`.
 * @internal
 */
export function looksLikeSarif(document: unknown): boolean {
  if (!isObject(document)) return false;
  const schema = typeof document.$schema === 'string' && /sarif/i.test(document.$schema);
  return schema || (typeof document.version === 'string' && Array.isArray(document.runs));
}

// Result kinds that are not failures (SARIF 2.1.0 §3.27.9): only `fail` (the default), `open` and
// `review` can be findings.
const NOT_FINDINGS = new Set(['pass', 'notApplicable', 'informational']);

/**
 * Reads a SARIF 2.1.0 log (`application/sarif+json`, e.g. `trivy --format sarif`) into normalised
 * findings, one per result. The id is the result's rule (`ruleId`, `rule.id`, or the rule at
 * `ruleIndex`). The severity is, first found:
 * 1. `properties["security-severity"]` of the result, then of its rule: a CVSS score mapped by
 *    {@link cvssSeverity} (GitHub code scanning does the same);
 * 2. a severity word among the rule's `properties.tags` (Trivy tags rules `CRITICAL`, `HIGH`, …);
 * 3. the result's `level`, then the rule's `defaultConfiguration.level`: `error` → high,
 *    `warning` → medium, `note` → low, `none` → unknown;
 * 4. `warning` (SARIF's default level) → medium.
 *
 * The package and versions come from the result message when it has Trivy's or Grype's form.
 * Results of kind `pass`, `notApplicable` or `informational`, and results with an accepted
 * suppression, are not findings.
 * @throws InvalidReportError (format `sarif`) naming the offending field.
 * @public
 */
export function parseSarifReport(
  document: unknown,
  options: ParseReportOptions & { readonly source?: string; readonly prefix?: string } = {},
): { vulnerabilities: Vulnerability[]; scanner?: string } {
  const prefix = options.prefix ?? '';
  const log = parseWith(sarifSchema, document, 'sarif', prefix);
  const source = options.source ?? 'sarif';
  const vulnerabilities: Vulnerability[] = [];
  const scanners: string[] = [];
  const at = prefix === '' ? '' : `${prefix}.`;
  for (const [runIndex, run] of log.runs.entries()) {
    const driver = run.tool.driver;
    scanners.push(driver.version === undefined ? driver.name : `${driver.name} ${driver.version}`);
    const rules = driver.rules ?? [];
    const runField = `${at}runs[${runIndex}]`;
    // Rules by id, first definition wins: the driver's, then each extension's (SARIF §3.19.23).
    const byId = new Map<string, LocatedRule>();
    const components = [
      { component: driver, field: `${runField}.tool.driver` },
      ...(run.tool.extensions ?? []).map((component, index) => ({
        component,
        field: `${runField}.tool.extensions[${index}]`,
      })),
    ];
    for (const { component, field } of components) {
      for (const [index, rule] of (component.rules ?? []).entries()) {
        if (!byId.has(rule.id)) byId.set(rule.id, { rule, field: `${field}.rules[${index}]` });
      }
    }
    for (const [resultIndex, result] of (run.results ?? []).entries()) {
      const field = `${runField}.results[${resultIndex}]`;
      if (result.kind !== undefined && NOT_FINDINGS.has(result.kind)) continue;
      // A suppression without a status is in effect (SARIF §3.34.5).
      if (result.suppressions?.some((suppression) => (suppression.status ?? 'accepted') === 'accepted'))
        continue;
      const index = result.ruleIndex ?? result.rule?.index;
      let located: LocatedRule | undefined;
      if (index !== undefined) {
        const rule = rules[index];
        if (rule === undefined) {
          throw invalidReport(
            'sarif',
            `${field}.ruleIndex`,
            `${index} is past the end of tool.driver.rules (${rules.length} rules)`,
          );
        }
        located = { rule, field: `${runField}.tool.driver.rules[${index}]` };
      }
      const id = result.ruleId ?? result.rule?.id ?? located?.rule.id;
      if (id === undefined) {
        throw invalidReport(
          'sarif',
          `${field}.ruleId`,
          'required: a result names its rule by ruleId, rule.id or ruleIndex',
        );
      }
      located ??= byId.get(id);
      const severity = resultSeverity(result, field, located);
      const text = result.message.text ?? result.message.markdown;
      const fromMessage = packageFromMessage(text);
      const fromLocation =
        fromMessage.package === undefined ? packageFromLocation(result.locations?.[0]?.message?.text) : {};
      const title = located?.rule.shortDescription?.text ?? located?.rule.fullDescription?.text;
      vulnerabilities.push({
        id,
        severity,
        ...fromLocation,
        ...fromMessage,
        ...optional('title', title === undefined ? undefined : unescapeHtml(title)),
        source,
        ...optional('reportDigest', options.reportDigest),
      });
    }
  }
  return { vulnerabilities, ...(scanners.length === 0 ? {} : { scanner: scanners.join(', ') }) };
}

function resultSeverity(result: SarifResult, field: string, located: LocatedRule | undefined): Severity {
  const scored =
    scoreSeverity(result.properties?.['security-severity'], `${field}.properties["security-severity"]`) ??
    scoreSeverity(
      located?.rule.properties?.['security-severity'],
      `${located?.field ?? ''}.properties["security-severity"]`,
    );
  if (scored !== undefined) return scored;
  const tag = located?.rule.properties?.tags?.find(isSeverityWord);
  if (tag !== undefined) return normalizeSeverity(tag);
  return normalizeSeverity(result.level ?? located?.rule.defaultConfiguration?.level ?? 'warning');
}

function scoreSeverity(value: string | number | undefined, field: string): Severity | undefined {
  if (value === undefined) return undefined;
  const score = typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value);
  const severity = cvssSeverity(score);
  if (severity === undefined) {
    throw invalidReport('sarif', field, `${JSON.stringify(value)} is not a CVSS score between 0.0 and 10.0`);
  }
  return severity;
}

/** Trivy's location message: `library/alpine: openssl@3.0.2`. */
function packageFromLocation(text: string | undefined): { package?: string; installedVersion?: string } {
  const match = text === undefined ? null : /:\s+([^\s@]+)@(\S+)\s*$/.exec(text);
  if (match?.[1] === undefined) return {};
  return { package: match[1], ...optional('installedVersion', match[2]) };
}
