import {
  buildArtifactManifest,
  buildImageManifest,
  cosignTagsFor,
  descriptorOf,
  referrersTagFor,
} from '@ghcr/manifest';
import { type Descriptor, InvalidInputError, MediaType, NotFoundError } from '@ghcr/oci-types';
import { pushBlob, pushImage, pushIndex, pushManifest, type Simulation } from '@ghcr/simulation';
import { describe, expect, it } from 'vitest';
import { simulatedClient } from '../../testing/simulated-client.js';
import {
  envelopeOf,
  fixture,
  vulnerabilitiesFor,
  vulnStatement,
} from '../../testing/vulnerability-reports.js';
import { ReportMediaType } from './report.js';
import type { VulnerabilitiesDependencies } from './vulnerabilities.js';

const REPO = 'octo/app';
const VULN = 'https://cosign.sigstore.dev/attestation/vuln/v1';

/** A repository on the simulation's ghcr profile, with helpers that attach reports as real tools do. */
async function bed(dependencies: Partial<VulnerabilitiesDependencies> = {}) {
  const { sim, client } = simulatedClient();
  const vulnerabilities = vulnerabilitiesFor(client, dependencies);
  const image = await pushImage(sim, REPO, { tag: '1.0', seed: 'app' });
  const fallback = new Map<string, Descriptor[]>();
  return {
    sim,
    client,
    vulnerabilities,
    image,
    /** cosign attest: the DSSE envelopes as layers of the image at `sha256-<hex>.att`. */
    attest: (subject: string, layers: readonly { document: unknown; predicateType: string }[]) =>
      attest(sim, subject, layers),
    /** oras attach: an artifact manifest with `subject`, listed in the `sha256-<hex>` fallback index. */
    attach: async (
      subject: Descriptor,
      artifactType: string,
      content: string,
      layerMediaType: string,
      annotations?: Record<string, string>,
    ) => {
      const blob = await pushBlob(sim, REPO, content, layerMediaType);
      const artifact = buildArtifactManifest({ artifactType, blobs: [blob], subject });
      pushManifest(sim, REPO, artifact);
      const entries = fallback.get(subject.digest) ?? [];
      entries.push(descriptorOf(artifact, annotations === undefined ? {} : { annotations }));
      fallback.set(subject.digest, entries);
      pushIndex(sim, REPO, entries, { tag: referrersTagFor(subject.digest) });
      return { artifact, blob };
    },
  };
}

async function attest(
  sim: Simulation,
  subject: string,
  layers: readonly { document: unknown; predicateType: string }[],
): Promise<Descriptor[]> {
  const blobs: Descriptor[] = [];
  for (const layer of layers) {
    const blob = await pushBlob(sim, REPO, JSON.stringify(layer.document), ReportMediaType.Dsse);
    blobs.push({ ...blob, annotations: { predicateType: layer.predicateType } });
  }
  const config = await pushBlob(
    sim,
    REPO,
    JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: [] } }),
    MediaType.OciConfig,
  );
  pushManifest(sim, REPO, buildImageManifest({ config, layers: blobs }), cosignTagsFor(subject).attestation);
  return blobs;
}

describe('client.vulnerabilities on the simulation (ghcr profile, tag fallbacks)', () => {
  it('blocks on a critical from a cosign attestation and a SARIF referrer; passes with it ignored', async () => {
    const t = await bed();
    const [layer] = await t.attest(t.image.digest, [
      { document: envelopeOf(vulnStatement(t.image.digest)), predicateType: VULN },
    ]);
    const { blob: sarif } = await t.attach(
      t.image.descriptor,
      ReportMediaType.Sarif,
      JSON.stringify(fixture('sarif.json')),
      ReportMediaType.Sarif,
    );

    const blocked = await t.vulnerabilities.gate(`${REPO}:1.0`, {
      allowUnverified: true,
      failOn: 'critical',
    });
    expect(blocked.passed).toBe(false);
    expect(blocked.digest).toBe(t.image.digest);
    // Both reports name CVE-2023-45853 in zlib: one finding, from the first report that said critical.
    expect(blocked.blocking).toEqual([
      expect.objectContaining({ id: 'CVE-2023-45853', severity: 'critical', package: 'zlib' }),
    ]);
    expect(blocked.findings.map((v) => v.id)).toEqual(['CVE-2023-45853', 'CVE-2023-39325', 'CVE-2024-0727']);
    expect(blocked.reason).toMatch(
      /^blocked: 1 finding at or above critical: CVE-2023-45853 \(critical, zlib\)$/,
    );
    expect(blocked.reports).toEqual([
      expect.objectContaining({
        digest: sarif.digest,
        subject: t.image.digest,
        format: 'sarif',
        envelope: 'none',
        verified: false,
        reason: 'unsigned report: a plain sarif artifact carries no signature',
        findings: 3,
      }),
      expect.objectContaining({
        digest: layer?.digest,
        subject: t.image.digest,
        format: 'cosign-vuln',
        envelope: 'dsse',
        scanner: 'pkg:github/aquasecurity/trivy@v0.49.1',
        verified: false,
        findings: 2,
      }),
    ]);
    expect(blocked.reports[1]?.reason).toMatch(/^signature not verified/);
    expect(blocked.images).toEqual([{ digest: t.image.digest, reports: 2, verifiedReports: 0 }]);

    const passed = await t.vulnerabilities.gate(`${REPO}:1.0`, {
      allowUnverified: true,
      failOn: 'critical',
      ignore: ['CVE-2023-45853'],
    });
    expect(passed.passed).toBe(true);
    expect(passed.ignored.map((v) => v.id)).toEqual(['CVE-2023-45853']);
    expect(passed.reason).toBe('passed: 2 findings in 2 reports, none at or above critical (1 ignored)');

    // By digest and with the registry named, the same verdict.
    const byDigest = await t.vulnerabilities.gate(`ghcr.io/${REPO}@${t.image.digest}`, {
      allowUnverified: true,
      maxSeverity: 'critical',
    });
    expect(byDigest.blocking.map((v) => v.id)).toEqual(['CVE-2023-45853']);
  });

  it('fails closed when no report is attached, and passes when told to', async () => {
    const t = await bed();
    const closed = await t.vulnerabilities.gate(`${REPO}:1.0`, { allowUnverified: true, failOn: 'critical' });
    expect(closed.passed).toBe(false);
    expect(closed.reports).toEqual([]);
    expect(closed.reason).toContain(`no vulnerability report found for ${t.image.digest}`);
    const open = await t.vulnerabilities.gate(`${REPO}:1.0`, {
      allowUnverified: true,
      failOn: 'critical',
      whenNoReport: 'pass',
    });
    expect(open.passed).toBe(true);
  });

  it('lists reports with each finding’s report digest', async () => {
    const t = await bed();
    const [layer] = await t.attest(t.image.digest, [
      { document: envelopeOf(vulnStatement(t.image.digest)), predicateType: VULN },
    ]);
    const found = await t.vulnerabilities.reports(`${REPO}:1.0`);
    expect(found.digest).toBe(t.image.digest);
    expect(found.vulnerabilities.map((v) => [v.id, v.severity, v.source, v.reportDigest])).toEqual([
      ['CVE-2023-45853', 'critical', 'cosign-vuln', layer?.digest],
      ['CVE-2024-0727', 'medium', 'cosign-vuln', layer?.digest],
    ]);
  });

  it('reads only the vulnerability layers of a .att image; an SBOM alone is no report', async () => {
    const t = await bed();
    const provenance = {
      ...vulnStatement(t.image.digest),
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {},
    };
    await t.attest(t.image.digest, [
      { document: envelopeOf(provenance), predicateType: 'https://slsa.dev/provenance/v1' },
      // Mislabelled as SPDX: skipped by its annotation without being downloaded.
      { document: envelopeOf(vulnStatement(t.image.digest)), predicateType: 'https://spdx.dev/Document' },
    ]);
    await t.attach(
      t.image.descriptor,
      ReportMediaType.CycloneDx,
      JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [] }),
      ReportMediaType.CycloneDx,
    );
    const result = await t.vulnerabilities.gate(`${REPO}:1.0`, {
      allowUnverified: true,
    });
    expect(result.reports).toEqual([]);
    expect(result.passed).toBe(false);
    expect(result.reason).toContain('no vulnerability report found');
  });

  it('refuses an attestation whose statement names another image', async () => {
    const t = await bed();
    const other = await pushImage(t.sim, REPO, { seed: 'other' });
    await t.attest(t.image.digest, [
      { document: envelopeOf(vulnStatement(other.digest)), predicateType: VULN },
    ]);
    const result = await t.vulnerabilities.gate(`${REPO}:1.0`, { allowUnverified: true, failOn: 'critical' });
    expect(result.passed).toBe(false);
    expect(result.blocking).toEqual([]);
    expect(result.reports[0]?.error).toContain(`do not name ${t.image.digest}`);
    expect(result.reason).toContain('1 report could not be read');
    // Skipping it leaves the image without a report: still closed.
    const skipped = await t.vulnerabilities.gate(`${REPO}:1.0`, {
      allowUnverified: true,
      failOn: 'critical',
      whenUnreadable: 'skip',
    });
    expect(skipped.passed).toBe(false);
    expect(skipped.reason).toContain('no vulnerability report found');
  });

  it('reports an unreadable SARIF artifact with the field at fault', async () => {
    const t = await bed();
    const { blob } = await t.attach(
      t.image.descriptor,
      ReportMediaType.Sarif,
      JSON.stringify({
        version: '2.1.0',
        runs: [{ tool: { driver: { name: 'x' } }, results: [{ message: { text: 'x' } }] }],
      }),
      ReportMediaType.Sarif,
    );
    const result = await t.vulnerabilities.gate(`${REPO}:1.0`, {
      allowUnverified: true,
    });
    expect(result.passed).toBe(false);
    expect(result.reports).toEqual([
      expect.objectContaining({ digest: blob.digest, format: 'sarif', findings: 0 }),
    ]);
    expect(result.reports[0]?.error).toContain('runs[0].results[0].ruleId');
  });

  it('judges every platform of an index; reports on the index cover them all', async () => {
    const t = await bed();
    const amd = await pushImage(t.sim, REPO, {
      seed: 'multi',
      platform: { os: 'linux', architecture: 'amd64' },
    });
    const arm = await pushImage(t.sim, REPO, {
      seed: 'multi',
      platform: { os: 'linux', architecture: 'arm64' },
    });
    const index = pushIndex(
      t.sim,
      REPO,
      [
        descriptorOf(amd.parsed, { platform: { os: 'linux', architecture: 'amd64' } }),
        descriptorOf(arm.parsed, { platform: { os: 'linux', architecture: 'arm64' } }),
      ],
      { tag: 'multi' },
    );
    await t.attest(amd.digest, [{ document: envelopeOf(vulnStatement(amd.digest)), predicateType: VULN }]);

    const all = await t.vulnerabilities.gate(`${REPO}:multi`, {
      allowUnverified: true,
      failOn: 'critical',
      ignore: ['CVE-2023-45853'],
    });
    expect(all.digest).toBe(index.digest);
    expect(all.images).toEqual([
      { digest: amd.digest, platform: 'linux/amd64', reports: 1, verifiedReports: 0 },
      { digest: arm.digest, platform: 'linux/arm64', reports: 0, verifiedReports: 0 },
    ]);
    expect(all.passed).toBe(false);
    expect(all.reason).toContain('no vulnerability report found for linux/arm64');

    const amdOnly = await t.vulnerabilities.gate(`${REPO}:multi`, {
      allowUnverified: true,
      failOn: 'critical',
      ignore: ['CVE-2023-45853'],
      platform: 'linux/amd64',
    });
    expect(amdOnly.passed).toBe(true);
    expect(amdOnly.images.map((image) => image.platform)).toEqual(['linux/amd64']);

    await expect(
      t.vulnerabilities.gate(`${REPO}:multi`, { allowUnverified: true, platform: 'linux/s390x' }),
    ).rejects.toSatisfy(
      (error) =>
        NotFoundError.isInstance(error) &&
        /has no linux\/s390x image \(it has linux\/amd64, linux\/arm64\)/.test(String(error)),
    );

    // A SARIF report attached to the index covers both platforms.
    await t.attach(
      index.descriptor,
      ReportMediaType.Sarif,
      JSON.stringify(fixture('sarif.json')),
      ReportMediaType.Sarif,
    );
    const covered = await t.vulnerabilities.gate(`${REPO}:multi`, {
      allowUnverified: true,
      failOn: 'critical',
      ignore: ['CVE-2023-45853'],
    });
    expect(covered.passed).toBe(true);
    expect(covered.images.map((image) => image.reports)).toEqual([2, 1]);
  });

  it('reads Trivy JSON artifacts (typed by artifactType, or plain application/json) and sigstore bundles', async () => {
    const t = await bed();
    await t.attach(
      t.image.descriptor,
      'application/vnd.aquasecurity.trivy.report.v1+json',
      JSON.stringify(fixture('trivy.json')),
      'application/vnd.oci.image.layer.v1.tar',
    );
    await t.attach(
      t.image.descriptor,
      'application/vnd.example.scan',
      JSON.stringify(fixture('cyclonedx.json')),
      'application/json',
    );
    const bundle = {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: 'k' } },
      dsseEnvelope: envelopeOf(vulnStatement(t.image.digest)),
    };
    await t.attach(
      t.image.descriptor,
      ReportMediaType.SigstoreBundle,
      JSON.stringify(bundle),
      ReportMediaType.SigstoreBundle,
      {
        'dev.sigstore.bundle.predicateType': VULN,
      },
    );
    // A bundle of another predicate type is passed over by its annotation.
    await t.attach(t.image.descriptor, ReportMediaType.SigstoreBundle, '{}', ReportMediaType.SigstoreBundle, {
      'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1',
    });
    const found = await t.vulnerabilities.reports(`${REPO}:1.0`);
    expect(
      found.reports.map((report) => [report.format, report.envelope, report.findings, report.error]),
    ).toEqual([
      ['trivy', 'none', 5, undefined],
      ['cyclonedx', 'none', 4, undefined],
      ['cosign-vuln', 'sigstore-bundle', 2, undefined],
    ]);
  });

  it('states what a verifier said, and counts only verified reports when asked', async () => {
    const seen: string[] = [];
    const t = await bed({
      verifyAttestation: async ({ envelope, subject, layer }) => {
        seen.push(`${subject} ${layer.annotations?.predicateType} ${envelope.signatures.length}`);
        return { verified: true, reason: 'verified: key k1' };
      },
    });
    await t.attest(t.image.digest, [
      { document: envelopeOf(vulnStatement(t.image.digest)), predicateType: VULN },
    ]);
    await t.attach(
      t.image.descriptor,
      ReportMediaType.Sarif,
      JSON.stringify(fixture('sarif.json')),
      ReportMediaType.Sarif,
    );
    const result = await t.vulnerabilities.gate(`${REPO}:1.0`, {
      allowUnverified: true,
      requireVerified: true,
      ignore: ['CVE-2023-45853', 'CVE-2023-39325'],
    });
    expect(seen).toEqual([`${t.image.digest} ${VULN} 1`]);
    expect(result.reports.map((report) => [report.format, report.verified, report.reason])).toEqual([
      ['sarif', false, 'unsigned report: a plain sarif artifact carries no signature'],
      ['cosign-vuln', true, 'verified: key k1'],
    ]);
    expect(result.images[0]).toMatchObject({ reports: 2, verifiedReports: 1 });
    expect(result.passed).toBe(true);

    const failing = await bed({
      verifyAttestation: async () => {
        throw new Error('no trusted root');
      },
    });
    await failing.attest(failing.image.digest, [
      { document: envelopeOf(vulnStatement(failing.image.digest)), predicateType: VULN },
    ]);
    const strict = await failing.vulnerabilities.gate(`${REPO}:1.0`, {
      allowUnverified: true,
      requireVerified: true,
      failOn: 'critical',
      ignore: ['CVE-2023-45853'],
    });
    expect(strict.reports[0]).toMatchObject({
      verified: false,
      reason: 'signature not verified: the verifier failed (no trusted root)',
    });
    expect(strict.passed).toBe(false);
    expect(strict.reason).toContain('no verified vulnerability report found');
  });

  it('does not fetch signature referrers', async () => {
    const { sim, client } = simulatedClient();
    const image = await pushImage(sim, REPO, { tag: '1.0' });
    const fetched: string[] = [];
    const signature: Descriptor = {
      mediaType: MediaType.OciManifest,
      digest: `sha256:${'5a'.repeat(32)}`,
      size: 400,
    };
    const vulnerabilities = vulnerabilitiesFor(client, {
      manifests: {
        ...client.manifests,
        get: (repository, reference, options) => {
          fetched.push(reference);
          return client.manifests.get(repository, reference, options);
        },
      },
      listReports: async () => [
        { ...signature, artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' },
        { ...signature, artifactType: 'application/vnd.cncf.notary.signature' },
      ],
    });
    const result = await vulnerabilities.gate(`${REPO}:1.0`, { allowUnverified: true, whenNoReport: 'pass' });
    expect(result.passed).toBe(true);
    expect(fetched).toEqual(['1.0']);
    expect(image.digest).toBe(result.digest);
  });

  it('refuses a reference to another registry, and passes registry errors on', async () => {
    const t = await bed();
    await expect(
      t.vulnerabilities.gate(`docker.io/${REPO}:1.0`, { allowUnverified: true }),
    ).rejects.toSatisfy(
      (error) => InvalidInputError.isInstance(error) && /this client talks to ghcr\.io/.test(String(error)),
    );
    await expect(t.vulnerabilities.gate(`${REPO}:missing`, { allowUnverified: true })).rejects.toSatisfy(
      (error) => NotFoundError.isInstance(error),
    );
  });
});
