import {
  ConfigError,
  lazySchema,
  PARSE_ONCE,
  type Platform,
  platformSchema,
  type Severity,
  severityRank,
  severitySchema,
  unknownKeysError,
  type Vulnerability,
} from '@ghcr/oci-types';
import * as z from 'zod';
import type { PolicyInput } from '../../signatures/attestation-verifier.js';
import type { SignerIdentity } from '../../signatures/identity.js';
import { dedupeVulnerabilities } from './dedupe.js';
import type { ReportDocumentKind } from './report.js';
import type { ReportEnvelope, ReportFormat } from './types.js';

/**
 * One report the gate looked at.
 * @public
 */
export interface GateReport {
  /** Digest of the blob the report was read from (the DSSE envelope, the SARIF file). Undefined for code scanning. */
  readonly digest?: string;
  /** Digest of the referrer manifest that carries it. */
  readonly manifestDigest?: string;
  /** The image or index digest it is attached to. */
  readonly subject?: string;
  /** For code scanning: `owner/repo@ref` (tool, category). */
  readonly location?: string;
  /** Its format (for an unreadable report, the kind its media type announced). */
  readonly format: ReportFormat | ReportDocumentKind;
  readonly envelope?: ReportEnvelope;
  /** The scanner, when the report says. */
  readonly scanner?: string;
  /**
   * Whether its signature verified under the policy (`policy` of the gate, or the client's
   * `verifyAttestation`). Plain artifacts (SARIF, CycloneDX, Trivy files) have no signature.
   */
  readonly verified: boolean;
  /** Why it is (not) verified: `signed by …`, `wrong identity: …`, `unsigned report: …`. */
  readonly reason: string;
  /** Who signed it, when its signature checked out. */
  readonly signer?: SignerIdentity;
  /** Findings read from it (before de-duplication). */
  readonly findings: number;
  /** Set when the report could not be read (then it counts as no report, and fails the gate unless `whenUnreadable: 'skip'`). */
  readonly error?: string;
}

/**
 * One image the gate judged (for an index: each platform manifest; the index itself is not an image).
 * @public
 */
export interface GateImage {
  readonly digest: string;
  /** `os/arch[/variant]`, for platform manifests of an index. */
  readonly platform?: string;
  /** Readable reports that cover it (attached to it, to the index above it, or code scanning). */
  readonly reports: number;
  /** Of those, verified ones. */
  readonly verifiedReports: number;
}

/**
 * The gate's verdict.
 * @public
 */
export interface GateResult {
  /** True when nothing blocks: no finding at or above the threshold, every image covered (or `whenNoReport: 'pass'`), every report readable (or `whenUnreadable: 'skip'`). */
  readonly passed: boolean;
  /** One sentence: why it passed or what blocked it. */
  readonly reason: string;
  /** The threshold applied. */
  readonly failOn: Severity;
  /** Findings at or above the threshold (not ignored), most severe first. */
  readonly blocking: readonly Vulnerability[];
  /** Every finding, de-duplicated by id and package, without the ignored ones, most severe first. */
  readonly findings: readonly Vulnerability[];
  /** Findings dropped by `ignore`. */
  readonly ignored: readonly Vulnerability[];
  /** Every report looked at, readable or not, with whether it was verified. */
  readonly reports: readonly GateReport[];
  /** The images judged, with how many reports cover each. */
  readonly images: readonly GateImage[];
  /** The reference given, and the digest it resolved to. */
  readonly reference: string;
  readonly digest: string;
}

/**
 * Where the gate reads GitHub code-scanning alerts (`codeScanning` of {@link GateOptions}).
 * @public
 */
export interface CodeScanningOptions {
  /** The repository owner (user or organisation). */
  readonly owner: string;
  /** The repository name. */
  readonly repo: string;
  /** `refs/heads/<branch>` or `refs/pull/<n>/merge`. If omitted, the default branch. */
  readonly ref?: string | undefined;
  /** Only alerts of this tool (`tool_name`, e.g. `Trivy`). If omitted, every tool. */
  readonly toolName?: string | undefined;
  /** Only alerts whose most recent analysis has this category (the upload's `category`). If omitted, every category. */
  readonly category?: string | undefined;
  /** Alert state. If omitted, `open`. */
  readonly state?: 'open' | 'closed' | 'dismissed' | 'fixed' | undefined;
}

/**
 * Options of GitHub code-scanning alerts as a report source.
 * @public
 */
export const codeScanningOptionsSchema = lazySchema(
  () =>
    z
      .object({
        owner: z.string().min(1),
        repo: z.string().min(1),
        ref: z.string().min(1).optional(),
        toolName: z.string().min(1).optional(),
        category: z.string().min(1).optional(),
        state: z.enum(['open', 'closed', 'dismissed', 'fixed']).default('open'),
      })
      .strict() satisfies z.ZodType<unknown, CodeScanningOptions>,
);

/** @public */
export type ResolvedCodeScanningOptions = z.output<typeof codeScanningOptionsSchema>;

/**
 * Options of the vulnerability gate (`client.vulnerabilities.gate(reference, options)`), validated
 * once by {@link gateOptionsSchema}: an unknown key or a bad value is a `ConfigError` naming it.
 * @public
 */
export interface GateOptions {
  /** Block on findings at or above this severity. If omitted, `maxSeverity`, else `high`. */
  readonly failOn?: Severity | undefined;
  /** The same threshold under the seed's name (`severity >= maxSeverity` blocks). Give one of the two. */
  readonly maxSeverity?: Severity | undefined;
  /** Vulnerability ids (CVE, GHSA, scanner ids) never to block on, matched case-insensitively. If omitted, none. */
  readonly ignore?: readonly string[] | undefined;
  /** What an image with no readable report means: `fail` (closed) or `pass`. If omitted, `fail`. */
  readonly whenNoReport?: 'fail' | 'pass' | undefined;
  /** What a report that cannot be read means: `fail`, or `skip` it (then it is no report). If omitted, `fail`. */
  readonly whenUnreadable?: 'fail' | 'skip' | undefined;
  /**
   * The signature policy reports must verify under: a key (`{ key: pem }`) or a keyless identity
   * with a trusted root (see `SignaturePolicy`). If omitted, the client's `verifyAttestation`, if any.
   */
  readonly policy?: PolicyInput | undefined;
  /**
   * Count unverified reports too (the gate's old, trusting mode). If omitted, false: only reports
   * whose signature verifies under the policy count, their findings alone are judged, and an image
   * without a verified report is blocked (fail closed).
   */
  readonly allowUnverified?: boolean | undefined;
  /** With `allowUnverified`: count only verified reports as covering an image (findings of unverified ones still block). If omitted, false. */
  readonly requireVerified?: boolean | undefined;
  /** For an index: judge only this platform (`linux/arm64`, or a platform object). If omitted, every platform. */
  readonly platform?: string | Platform | undefined;
  /** Also read GitHub code-scanning alerts (they cover every image: they are keyed by repository, ref and category, not digest). If omitted, not read. */
  readonly codeScanning?: CodeScanningOptions | undefined;
  /** Aborts the registry and API reads; the gate then rejects with the abort error. If omitted, it runs to the end. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Options of the gate, validated on each call.
 * @public
 */
export const gateOptionsSchema = lazySchema(
  () =>
    z
      .object({
        failOn: severitySchema.optional(),
        maxSeverity: severitySchema.optional(),
        ignore: z.array(z.string().trim().min(1)).default([]),
        whenNoReport: z.enum(['fail', 'pass']).default('fail'),
        whenUnreadable: z.enum(['fail', 'skip']).default('fail'),
        policy: z
          .custom<PolicyInput>(
            (value) => typeof value === 'object' && value !== null,
            'must be a signature policy object',
          )
          .optional(),
        allowUnverified: z.boolean().default(false),
        requireVerified: z.boolean().default(false),
        platform: z.union([z.string().min(1), platformSchema]).optional(),
        codeScanning: codeScanningOptionsSchema.optional(),
        signal: z
          .custom<AbortSignal>((value) => value instanceof AbortSignal, 'must be an AbortSignal')
          .optional(),
      })
      .strict() satisfies z.ZodType<unknown, GateOptions>,
);

/** @public */
export type ResolvedGateOptions = z.output<typeof gateOptionsSchema> & { readonly threshold: Severity };

/**
 * Validates gate options; a bad one is a `ConfigError` naming the field.
 * @internal
 */
export function resolveGateOptions(options: GateOptions = {}): ResolvedGateOptions {
  const result = gateOptionsSchema.safeParse(options, PARSE_ONCE);
  if (!result.success) {
    const issue = result.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      throw unknownKeysError('gate option', gateOptionsSchema, issue, result.error);
    }
    const field = (issue?.path ?? []).map(String).join('.');
    throw new ConfigError(
      `invalid gate option ${field === '' ? '' : `"${field}"`}: ${issue?.message ?? 'invalid'}`,
      {
        field,
        cause: result.error,
      },
    );
  }
  const { failOn, maxSeverity } = result.data;
  if (failOn !== undefined && maxSeverity !== undefined && failOn !== maxSeverity) {
    throw new ConfigError(
      `gate options "failOn" (${failOn}) and "maxSeverity" (${maxSeverity}) disagree: they are the same threshold, give one`,
      { field: 'failOn' },
    );
  }
  return { ...result.data, threshold: failOn ?? maxSeverity ?? 'high' };
}

/**
 * What the gate judges: the findings read, the reports looked at, and the images with their coverage.
 * @internal
 */
export interface GateInput {
  readonly reference: string;
  readonly digest: string;
  readonly findings: readonly Vulnerability[];
  readonly reports: readonly GateReport[];
  readonly images: readonly GateImage[];
}

/**
 * The gate as a pure function of what was read: blocked by findings at or above the threshold
 * (after `ignore`), by images without a report (unless `whenNoReport: 'pass'`), and by unreadable
 * reports (unless `whenUnreadable: 'skip'`).
 * @public
 */
export function evaluateGate(input: GateInput, options: ResolvedGateOptions): GateResult {
  const ignore = new Set(options.ignore.map((id) => id.toUpperCase()));
  const strict = !options.allowUnverified;
  const readable = input.reports.filter((report) => report.error === undefined);
  const unverified = readable.filter((report) => !report.verified);
  // Fail closed: only findings of verified reports are judged (a forged report neither clears nor blocks).
  const verifiedDigests = new Set(
    readable
      .filter((report) => report.verified && report.digest !== undefined)
      .map((report) => report.digest),
  );
  const judged = strict
    ? input.findings.filter(
        (finding) => finding.reportDigest !== undefined && verifiedDigests.has(finding.reportDigest),
      )
    : input.findings;
  const all = dedupeVulnerabilities(judged);
  const ignored = all.filter((finding) => ignore.has(finding.id.toUpperCase()));
  const findings = all.filter((finding) => !ignore.has(finding.id.toUpperCase()));
  const rank = severityRank(options.threshold);
  const blocking = findings.filter((finding) => severityRank(finding.severity) >= rank);
  const unreadable = input.reports.filter((report) => report.error !== undefined);
  const covering = (image: GateImage): number =>
    strict || options.requireVerified ? image.verifiedReports : image.reports;
  const uncovered = input.images.filter((image) => covering(image) === 0);

  const problems: string[] = [];
  if (blocking.length > 0) {
    const shown = blocking
      .slice(0, 5)
      .map(
        (finding) =>
          `${finding.id} (${finding.severity}${finding.package === undefined ? '' : `, ${finding.package}`})`,
      )
      .join(', ');
    problems.push(
      `${blocking.length} finding${blocking.length === 1 ? '' : 's'} at or above ${options.threshold}: ${shown}${blocking.length > 5 ? ', …' : ''}`,
    );
  }
  if (unreadable.length > 0 && options.whenUnreadable === 'fail') {
    problems.push(
      `${unreadable.length} report${unreadable.length === 1 ? '' : 's'} could not be read (${unreadable
        .map((report) => `${report.digest ?? report.location ?? report.format}: ${report.error}`)
        .join(
          '; ',
        )}); fix or remove ${unreadable.length === 1 ? 'it' : 'them'}, or set whenUnreadable: 'skip'`,
    );
  }
  if (uncovered.length > 0 && options.whenNoReport === 'fail') {
    const which = uncovered.map((image) => image.platform ?? image.digest).join(', ');
    if (strict) {
      const why =
        unverified.length === 0
          ? ''
          : ` (${unverified.length} unverified report${unverified.length === 1 ? '' : 's'} not counted: ${unverified
              .slice(0, 3)
              .map((report) => report.reason)
              .join('; ')}${unverified.length > 3 ? '; …' : ''})`;
      problems.push(
        `no verified vulnerability report for ${which}${why}: sign one (cosign attest --type vuln) and give the policy it verifies under, or set allowUnverified to trust unsigned reports`,
      );
    } else {
      const kind = options.requireVerified ? 'verified vulnerability report' : 'vulnerability report';
      problems.push(
        `no ${kind} found for ${which}: attach one (cosign attest --type vuln, or a SARIF/CycloneDX referrer) or set whenNoReport: 'pass'`,
      );
    }
  }
  const counted = strict ? readable.length - unverified.length : readable.length;
  const skipped =
    strict && unverified.length > 0
      ? `; ${unverified.length} unverified report${unverified.length === 1 ? '' : 's'} not counted`
      : '';
  let reason: string;
  if (problems.length > 0) {
    reason = `blocked: ${problems.join('; ')}`;
  } else if (uncovered.length > 0) {
    reason = `passed: no vulnerability report for ${uncovered.map((image) => image.platform ?? image.digest).join(', ')}, and whenNoReport is 'pass'${findings.length > 0 ? `; ${findings.length} findings below ${options.threshold}` : ''}`;
  } else {
    reason = `passed: ${findings.length} finding${findings.length === 1 ? '' : 's'} in ${counted}${strict ? ' verified' : ''} report${counted === 1 ? '' : 's'}, none at or above ${options.threshold}${ignored.length > 0 ? ` (${ignored.length} ignored)` : ''}${skipped}`;
  }
  return {
    passed: problems.length === 0,
    reason,
    failOn: options.threshold,
    blocking,
    findings,
    ignored,
    reports: input.reports,
    images: input.images,
    reference: input.reference,
    digest: input.digest,
  };
}
