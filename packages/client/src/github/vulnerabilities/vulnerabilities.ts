import {
  formatPlatform,
  isIndex,
  listPlatforms,
  type ParsedManifest,
  parsePlatform,
  selectPlatformManifest,
} from '@ghcr/manifest';
import {
  ConfigError,
  type Descriptor,
  definedProps,
  InvalidInputError,
  InvalidReportError,
  NotFoundError,
  PARSE_ONCE,
  type Platform,
  ProtocolError,
  parseReference,
  referenceTarget,
  type Vulnerability,
} from '@ghcr/oci-types';
import type { Blobs } from '../../registry/blobs.js';
import { mapLimit } from '../../registry/concurrency.js';
import type { ManifestLimits, RegistryEndpoint } from '../../registry/dependencies.js';
import type { Manifests } from '../../registry/manifests.js';
import type { PolicyInput } from '../../signatures/attestation-verifier.js';
import type { SignerIdentity } from '../../signatures/identity.js';
import { isVulnerabilityPredicateType, statementNames } from './attestation.js';
import { hasCodeScanningAnalysis, listCodeScanningAlerts } from './code-scanning.js';
import { dedupeVulnerabilities } from './dedupe.js';
import {
  type CodeScanningOptions,
  codeScanningOptionsSchema,
  evaluateGate,
  type GateImage,
  type GateOptions,
  type GateReport,
  type GateResult,
  type ResolvedCodeScanningOptions,
  resolveGateOptions,
} from './gate.js';
import { type ReportDocumentKind, readReportDocument, reportKindOfMediaType } from './report.js';
import type { AttestationToVerify, AttestationVerifier } from './verifier.js';

/**
 * Lists the referrer manifests of `digest` in `repository` (the referrers API, or the
 * `sha256-<hex>` fallback index and cosign's `sha256-<hex>.att` tag). Each descriptor names a
 * manifest in the same repository.
 * @public
 */
export type ListReports = (
  repository: string,
  digest: string,
  options: { readonly signal?: AbortSignal | undefined },
) => Promise<readonly Descriptor[]>;

/**
 * What {@link createVulnerabilities} needs besides the registry endpoint and limits.
 * @public
 */
export interface VulnerabilitiesDependencies {
  readonly manifests: Manifests;
  readonly blobs: Blobs;
  /** Finds referrer manifests of a digest (wired to `client.referrers`). */
  readonly listReports: ListReports;
  /**
   * Verifies DSSE signatures. If omitted, nothing is verified: attestations are reported with
   * `verified: false` and the reason "signature not verified".
   */
  readonly verifyAttestation?: AttestationVerifier;
  /** The GitHub REST API base URL for code-scanning alerts. If omitted, `https://api.github.com`. */
  readonly githubApiUrl?: string;
  /** Largest report blob read. If omitted, 32 MiB (Trivy JSON of a large image runs to megabytes). */
  readonly maxReportBytes?: number;
}

/**
 * Options of {@link Vulnerabilities.reports}.
 * @public
 */
export interface FindReportsOptions {
  /** For an index: only this platform (`linux/arm64` or a platform object). If omitted, every platform. */
  readonly platform?: string | Platform | undefined;
  /** Verify signed reports under this policy. If omitted, the client's `verifyAttestation`, if any. */
  readonly policy?: PolicyInput | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * The reports found for an image, and what they say.
 * @public
 */
export interface ImageReports {
  readonly reference: string;
  /** The digest the reference resolved to (an index or an image). */
  readonly digest: string;
  /** The images (for an index, its platform manifests) and how many reports cover each. */
  readonly images: readonly GateImage[];
  /** Every report found, readable or not. */
  readonly reports: readonly GateReport[];
  /** The findings of every readable report, de-duplicated by id and package, most severe first. */
  readonly vulnerabilities: readonly Vulnerability[];
  /** The findings before de-duplication, each report's own, in report order. */
  readonly allFindings: readonly Vulnerability[];
}

/**
 * Vulnerability reports attached to images, and the deployment gate over them.
 * @public
 */
export interface Vulnerabilities {
  /**
   * Finds the vulnerability reports attached to an image (`octo/app:1.0`, `octo/app@sha256:…`,
   * `ghcr.io/octo/app:1.0`) and, for an index, to its platform manifests; reads them (cosign vuln
   * attestations, SARIF, CycloneDX, Trivy JSON) into normalised findings. Signatures are not
   * verified unless a verifier was wired in.
   */
  reports(reference: string, options?: FindReportsOptions): Promise<ImageReports>;
  /** Code-scanning alerts of a repository and ref (filtered by tool and category), normalised. */
  codeScanningAlerts(
    options: CodeScanningOptions & { readonly signal?: AbortSignal | undefined },
  ): Promise<Vulnerability[]>;
  /**
   * The deployment gate: blocked by findings at or above `failOn` (not in `ignore`), by an image
   * with no report (unless `whenNoReport: 'pass'`), and by a report that cannot be read (unless
   * `whenUnreadable: 'skip'`). The result says whether each report was verified.
   */
  gate(reference: string, options?: GateOptions): Promise<GateResult>;
}

const DEFAULT_MAX_REPORT_BYTES = 32 * 1024 * 1024;
const UNVERIFIED_REASON =
  'signature not verified: no signature policy was given (a key, or a keyless identity and issuer with a trusted root)';

// Layer media types that say nothing about the content; the manifest's artifactType then decides.
const GENERIC_LAYER_TYPES = new Set([
  'application/json',
  'application/octet-stream',
  'text/plain',
  'application/vnd.oci.image.layer.v1.tar',
]);

/**
 * Referrers that are signatures, never reports: cosign's `.sig` (as `client.referrers` types it, and
 * cosign's own payload type) and Notary v2 signatures. Their manifests are not fetched.
 */
const SIGNATURE_ARTIFACT_TYPES = new Set([
  'application/vnd.dev.cosign.artifact.sig.v1+json',
  'application/vnd.dev.cosign.simplesigning.v1+json',
  'application/vnd.cncf.notary.signature',
]);

/** Layer annotations naming an attestation's predicate type (cosign, BuildKit). */
const PREDICATE_ANNOTATIONS = ['predicateType', 'in-toto.io/predicate-type'];
/** The referrer-manifest annotation cosign's bundle format sets. */
const BUNDLE_PREDICATE_ANNOTATION = 'dev.sigstore.bundle.predicateType';

/**
 * Creates the vulnerability capability.
 *
 * ```ts
 * const vulnerabilities = createVulnerabilities(deps, { manifests, blobs, listReports });
 * const verdict = await vulnerabilities.gate('octo/app:1.0', { failOn: 'critical' });
 * ```
 * @internal
 */
export function createVulnerabilities(
  deps: {
    readonly endpoint: Pick<RegistryEndpoint, 'host' | 'send'>;
    readonly limits: Pick<ManifestLimits, 'concurrency'>;
  },
  dependencies: VulnerabilitiesDependencies,
): Vulnerabilities {
  const { manifests, blobs, listReports } = dependencies;
  const maxReportBytes = dependencies.maxReportBytes ?? DEFAULT_MAX_REPORT_BYTES;
  const api = {
    transport: { send: deps.endpoint.send },
    apiBaseUrl: (dependencies.githubApiUrl ?? 'https://api.github.com').replace(/\/+$/, ''),
  };
  const concurrency = deps.limits.concurrency;

  const parseImageReference = (reference: string): { repository: string; target: string } => {
    const parsed = parseReference(reference);
    const named = reference.startsWith(`${parsed.registry}/`);
    if (named && parsed.registry !== deps.endpoint.host) {
      throw new InvalidInputError(
        `reference "${reference}" names registry ${parsed.registry}, but this client talks to ${deps.endpoint.host}: use a client for ${parsed.registry}, or leave the registry out`,
        { input: reference },
      );
    }
    return { repository: parsed.repository, target: referenceTarget(parsed) };
  };

  /** Reads one referrer manifest: a report entry and findings per report layer. */
  const readReferrer = async (
    repository: string,
    descriptor: Descriptor,
    subject: string,
    signal: AbortSignal | undefined,
    verifier: AttestationVerifier | undefined,
  ): Promise<{ reports: GateReport[]; findings: Vulnerability[] }> => {
    const none = { reports: [], findings: [] };
    if (descriptor.artifactType !== undefined && SIGNATURE_ARTIFACT_TYPES.has(descriptor.artifactType))
      return none;
    const bundlePredicate = descriptor.annotations?.[BUNDLE_PREDICATE_ANNOTATION];
    if (bundlePredicate !== undefined && !isVulnerabilityPredicateType(bundlePredicate)) return none;
    const announced = reportKindOfMediaType(descriptor.artifactType);
    let manifest: ParsedManifest;
    try {
      manifest = await manifests.get(repository, descriptor.digest, signal === undefined ? {} : { signal });
    } catch (error) {
      // A dangling referrer that announced a report is a report we could not read; others are ignored.
      if (announced !== undefined && isUnreadable(error)) {
        return {
          reports: [unreadable({ manifestDigest: descriptor.digest, subject, format: announced, error })],
          findings: [],
        };
      }
      if (isUnreadable(error)) return none;
      throw error;
    }
    if (isIndex(manifest)) return none;
    const body = manifest.manifest;
    const artifactType =
      manifest.kind === 'oci-manifest'
        ? (manifest.manifest.artifactType ?? manifest.manifest.config.mediaType)
        : manifest.manifest.config.mediaType;
    const manifestKind = reportKindOfMediaType(artifactType);
    const reports: GateReport[] = [];
    const findings: Vulnerability[] = [];
    for (const layer of body.layers) {
      const layerType = (layer.mediaType.split(';')[0] ?? '').trim().toLowerCase();
      let kind: ReportDocumentKind | undefined = reportKindOfMediaType(layer.mediaType);
      if (kind === undefined) {
        const generic = GENERIC_LAYER_TYPES.has(layerType) || layerType.endsWith('+json');
        if (manifestKind !== undefined && generic) kind = manifestKind;
        else if (layerType !== 'application/json') continue; // not a report: sniff plain JSON only
      }
      if (kind === 'dsse' || kind === 'in-toto') {
        const declared = PREDICATE_ANNOTATIONS.map((name) => layer.annotations?.[name]).find(
          (value) => value !== undefined,
        );
        // Skipping by annotation saves downloading SBOMs and provenance; what is read is always
        // judged by the signed payload's predicate type (the annotation is not trusted for that).
        if (declared !== undefined && !isVulnerabilityPredicateType(declared)) continue;
      }
      const where = { digest: layer.digest, manifestDigest: manifest.digest, subject };
      let read: ReturnType<typeof readReportDocument>;
      try {
        const bytes = await blobs.getBytes(repository, layer, {
          maxBytes: maxReportBytes,
          ...definedProps({ signal }),
        });
        read = readReportDocument(bytes, kind, { reportDigest: layer.digest });
      } catch (error) {
        if (!isUnreadable(error)) throw error;
        // Plain JSON that was only sniffed is not known to be a report: skip it.
        if (kind === undefined) continue;
        reports.push(unreadable({ ...where, format: kind, error }));
        continue;
      }
      const report = read?.report;
      if (read === undefined || report === undefined) continue;
      const base = {
        ...where,
        format: report.format,
        envelope: report.envelope,
        ...definedProps({ scanner: report.scanner }),
      };
      if (report.subjects !== undefined && !statementNames(report.subjects, subject)) {
        reports.push({
          ...base,
          verified: false,
          reason: 'not used: it attests another artifact',
          findings: 0,
          error: `the statement's subjects (${report.subjects.join(', ')}) do not name ${subject}, the digest it is attached to`,
        });
        continue;
      }
      let verification: { verified: boolean; reason: string; signer?: SignerIdentity };
      if (read.envelope !== undefined) {
        verification = await verify(verifier, {
          repository,
          subject,
          envelope: read.envelope,
          ...definedProps({ bundle: read.bundle }),
          layer,
          manifest,
        });
      } else {
        verification = {
          verified: false,
          reason:
            report.envelope === 'in-toto'
              ? 'unsigned report: a bare in-toto statement carries no signature'
              : `unsigned report: a plain ${report.format} artifact carries no signature`,
        };
      }
      reports.push({ ...base, ...verification, findings: report.vulnerabilities.length });
      findings.push(...report.vulnerabilities);
    }
    return { reports, findings };
  };

  const reports: Vulnerabilities['reports'] = async (reference, options = {}) => {
    const { repository, target } = parseImageReference(reference);
    const signal = options.signal;
    const signalOption = signal === undefined ? {} : { signal };
    const root = await manifests.get(repository, target, signalOption);
    const images: { digest: string; platform?: string }[] = [];
    if (isIndex(root)) {
      if (options.platform !== undefined) {
        const wanted =
          typeof options.platform === 'string' ? parsePlatform(options.platform) : options.platform;
        const chosen = selectPlatformManifest(root, wanted);
        if (chosen === undefined) {
          const available = listPlatforms(root).map(formatPlatform).join(', ');
          throw new NotFoundError(
            `${reference} has no ${formatPlatform(wanted)} image (it has ${available === '' ? 'no platforms' : available}); pick one of those, or leave platform out to judge them all`,
            { resource: reference },
          );
        }
        images.push(imageOf(chosen));
      } else {
        for (const entry of root.manifest.manifests) {
          if (isAttestationEntry(entry)) continue;
          images.push(imageOf(entry));
        }
      }
    } else {
      images.push({ digest: root.digest });
    }
    const subjects = isIndex(root) ? [root.digest, ...images.map((image) => image.digest)] : [root.digest];
    const listed = await mapLimit(subjects, concurrency, async (subject) => ({
      subject,
      descriptors: await listReports(repository, subject, signalOption),
    }));
    const seen = new Set<string>();
    const work: { subject: string; descriptor: Descriptor }[] = [];
    for (const { subject, descriptors } of listed) {
      for (const descriptor of descriptors) {
        if (seen.has(descriptor.digest)) continue;
        seen.add(descriptor.digest);
        work.push({ subject, descriptor });
      }
    }
    // sigstore-js is loaded only when a policy is given (a bad policy is a ConfigError here).
    const verifier =
      options.policy === undefined
        ? dependencies.verifyAttestation
        : (await import('../../signatures/attestation-verifier.js')).createAttestationVerifier(
            options.policy,
          );
    const read = await mapLimit(work, concurrency, ({ subject, descriptor }) =>
      readReferrer(repository, descriptor, subject, signal, verifier),
    );
    const found = read.flatMap((entry) => entry.reports);
    const allFindings = read.flatMap((entry) => entry.findings);
    const covering = (digest: string, verifiedOnly: boolean): number =>
      found.filter(
        (report) =>
          report.error === undefined &&
          (!verifiedOnly || report.verified) &&
          (report.subject === digest || (isIndex(root) && report.subject === root.digest)),
      ).length;
    return {
      reference,
      digest: root.digest,
      images: images.map((image) => ({
        ...image,
        reports: covering(image.digest, false),
        verifiedReports: covering(image.digest, true),
      })),
      reports: found,
      vulnerabilities: dedupeVulnerabilities(allFindings),
      allFindings,
    };
  };

  const codeScanningAlerts: Vulnerabilities['codeScanningAlerts'] = async (options) => {
    const { signal, ...rest } = options;
    const resolved = parseCodeScanningOptions(rest);
    return listCodeScanningAlerts(api, resolved, signal);
  };

  return {
    reports,
    codeScanningAlerts,
    async gate(reference, options = {}) {
      const resolved = resolveGateOptions(options);
      const signal = resolved.signal;
      const found = await reports(reference, {
        ...definedProps({ platform: resolved.platform, policy: resolved.policy, signal }),
      });
      let gateReports = found.reports;
      let images = found.images;
      let findings = found.allFindings;
      if (resolved.codeScanning !== undefined) {
        const scanning = resolved.codeScanning;
        const location = `${scanning.owner}/${scanning.repo}@${scanning.ref ?? '(default branch)'}${scanning.toolName === undefined ? '' : ` tool ${scanning.toolName}`}${scanning.category === undefined ? '' : ` category ${scanning.category}`}`;
        const analysed = await hasCodeScanningAnalysis(api, scanning, signal);
        const alerts = analysed ? await listCodeScanningAlerts(api, scanning, signal) : [];
        gateReports = [
          ...gateReports,
          {
            location,
            format: 'code-scanning',
            verified: false,
            reason: analysed
              ? 'not a signed report: code-scanning alerts are keyed by repository, ref and category, not by image digest'
              : 'not used: no code-scanning analysis matches, so no alerts cannot mean clean',
            findings: alerts.length,
          },
        ];
        if (analysed) {
          images = images.map((image) => ({ ...image, reports: image.reports + 1 }));
          findings = [...findings, ...alerts];
        }
      }
      return evaluateGate(
        { reference, digest: found.digest, findings, reports: gateReports, images },
        resolved,
      );
    },
  };
}

async function verify(
  verifier: AttestationVerifier | undefined,
  attestation: AttestationToVerify,
): Promise<{ verified: boolean; reason: string; signer?: SignerIdentity }> {
  if (verifier === undefined) return { verified: false, reason: UNVERIFIED_REASON };
  try {
    const { verified, reason, signer } = await verifier(attestation);
    return signer === undefined ? { verified, reason } : { verified, reason, signer };
  } catch (error) {
    return {
      verified: false,
      reason: `signature not verified: the verifier failed (${error instanceof Error ? error.message : String(error)})`,
    };
  }
}

function imageOf(descriptor: Descriptor): { digest: string; platform?: string } {
  return descriptor.platform === undefined
    ? { digest: descriptor.digest }
    : { digest: descriptor.digest, platform: formatPlatform(descriptor.platform) };
}

/** BuildKit's attestation manifests sit in the index as `unknown/unknown` entries; they are not images. */
function isAttestationEntry(descriptor: Descriptor): boolean {
  return (
    descriptor.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' ||
    (descriptor.platform?.os === 'unknown' && descriptor.platform.architecture === 'unknown')
  );
}

/** Failures that mean "this report cannot be read" (bad content, gone, too large), not "the registry is unreachable". */
function isUnreadable(error: unknown): boolean {
  return ProtocolError.isInstance(error) || NotFoundError.isInstance(error);
}

function unreadable(fields: {
  readonly digest?: string;
  readonly manifestDigest: string;
  readonly subject: string;
  readonly format: GateReport['format'];
  readonly error: unknown;
}): GateReport {
  const { error, ...rest } = fields;
  const message = error instanceof Error ? error.message : String(error);
  // The inner format when a wrapped document failed (a cosign predicate inside a DSSE layer).
  const format =
    InvalidReportError.isInstance(error) && REPORT_FORMATS.has(error.format)
      ? (error.format as GateReport['format'])
      : rest.format;
  return {
    ...rest,
    format,
    verified: false,
    reason: 'not used: it could not be read',
    findings: 0,
    error: message,
  };
}

const REPORT_FORMATS = new Set<string>([
  'cosign-vuln',
  'sarif',
  'cyclonedx',
  'trivy',
  'dsse',
  'in-toto',
  'sigstore-bundle',
]);

function parseCodeScanningOptions(options: CodeScanningOptions): ResolvedCodeScanningOptions {
  const result = codeScanningOptionsSchema.safeParse(options, PARSE_ONCE);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = (issue?.path ?? []).map(String).join('.');
  throw new ConfigError(`invalid code-scanning option "${field}": ${issue?.message ?? 'invalid'}`, {
    field,
    cause: result.error,
  });
}
