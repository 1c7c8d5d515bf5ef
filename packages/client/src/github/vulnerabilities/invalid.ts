import { definedProps, InvalidReportError } from '@ghcr/oci-types';
import type * as z from 'zod';

/**
 * The formats a report can be read as, with the words error messages use for them and what to
 * check when one fails.
 * @internal
 */
export const FORMAT_LABELS = {
  sarif: {
    label: 'SARIF 2.1.0 log',
    advice: 'check that the artifact is a SARIF 2.1.0 log (`trivy --format sarif`)',
  },
  cyclonedx: {
    label: 'CycloneDX BOM',
    advice: 'check that the artifact is a CycloneDX JSON BOM (`trivy --format cyclonedx --scanners vuln`)',
  },
  trivy: {
    label: 'Trivy JSON report',
    advice: 'check that the artifact is Trivy JSON output (`trivy --format json`)',
  },
  dsse: {
    label: 'DSSE envelope',
    advice:
      'check that the layer is a DSSE envelope ({payloadType, payload, signatures}) as cosign attest writes it',
  },
  'in-toto': {
    label: 'in-toto statement',
    advice:
      'check that the payload is an in-toto Statement v0.1 or v1 ({_type, subject, predicateType, predicate})',
  },
  'cosign-vuln': {
    label: 'cosign vulnerability attestation',
    advice:
      'check that the predicate follows https://cosign.sigstore.dev/attestation/vuln/v1 (`trivy --format cosign-vuln`, then `cosign attest --type vuln`)',
  },
  'sigstore-bundle': {
    label: 'sigstore bundle',
    advice:
      'check that the layer is a sigstore bundle with a dsseEnvelope (`cosign attest --new-bundle-format`)',
  },
  report: {
    label: 'vulnerability report',
    advice:
      'attach a SARIF 2.1.0 log, a CycloneDX BOM with vulnerabilities, Trivy JSON or a cosign vuln attestation',
  },
  'code-scanning': {
    label: 'GitHub code-scanning alert',
    advice: 'check the API base URL: the answer does not look like GitHub code-scanning alerts',
  },
} as const;

/** A format name of {@link FORMAT_LABELS}. @internal */
export type DocumentFormat = keyof typeof FORMAT_LABELS;

/** `['runs', 0, 'ruleId']` → `runs[0].ruleId`; keys that are not identifiers are quoted. @internal */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_$][\w$-]*$/.test(part))
      out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}

/** An {@link InvalidReportError} for `format` at `field`. @internal */
export function invalidReport(
  format: DocumentFormat,
  field: string,
  problem: string,
  cause?: unknown,
): InvalidReportError {
  const { label, advice } = FORMAT_LABELS[format];
  const where = field === '' ? '' : `${field}: `;
  return new InvalidReportError(`invalid ${label}: ${where}${problem}; ${advice}`, {
    format,
    field,
    ...definedProps({ cause }),
  });
}

/**
 * Parses `value` with `schema`; the first issue becomes an {@link InvalidReportError} naming the
 * format and the field (under `prefix`, the path of the document inside its container).
 * @internal
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  format: DocumentFormat,
  prefix = '',
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = formatPath(issue?.path ?? [], prefix);
  throw invalidReport(format, field, describeIssue(issue?.message), result.error);
}

/** zod's "Invalid input: expected string, received undefined" says "missing (expected string)". */
function describeIssue(message: string | undefined): string {
  if (message === undefined) return 'does not match the format';
  const missing = /^Invalid input: expected (.+), received undefined$/.exec(message);
  return missing === null ? message : `missing (expected ${missing[1]})`;
}

/** Parses JSON text, or throws an {@link InvalidReportError} saying it is not JSON. @internal */
export function parseJsonText(text: string, format: DocumentFormat, field = ''): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidReport(format, field, `not JSON (${(error as Error).message})`, error);
  }
}
