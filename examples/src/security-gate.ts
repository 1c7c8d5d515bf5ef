/**
 * The seed's security-gate pattern (§7.3), on the sources that really exist: GitHub has no
 * vulnerability endpoint for packages, so the gate reads the reports attached to the image's
 * digest (cosign vulnerability attestations, SARIF, CycloneDX) through the referrers API or
 * GHCR's `sha256-<hex>` tag fallback, and fails closed when there is none.
 */
import type { GateOptions, GateResult } from '@ghcr/client';
import type { Severity } from '@ghcr/oci-types';
import { type ExampleTarget, runIfMain } from './connect.js';
import { pushWithTags } from './push-and-tag.js';

/**
 * `verification` says which reports count: `{ policy }` (a key, or a keyless identity with a trusted
 * root) counts only reports signed under it; `{ allowUnverified: true }` trusts unsigned ones, such
 * as the SARIF file attached below (anyone who can push to the package could attach a clean one).
 */
export async function securityGate(
  target: ExampleTarget,
  reference: string,
  verification: Pick<GateOptions, 'policy' | 'allowUnverified'>,
  failOn: Severity = 'high',
): Promise<GateResult> {
  return target.client.vulnerabilities.gate(reference, { failOn, ...verification });
}

/** Attaches a small SARIF report (as a scanner in CI would) so the embedded run has something to judge. */
export async function attachScan(
  target: ExampleTarget,
  repository: string,
  digest: string,
  ruleId: string,
  cvss: string,
) {
  const sarif = {
    version: '2.1.0',
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    runs: [
      {
        tool: {
          driver: {
            name: 'Trivy',
            rules: [
              {
                id: ruleId,
                shortDescription: { text: `${ruleId} in openssl` },
                properties: { 'security-severity': cvss },
              },
            ],
          },
        },
        results: [
          {
            ruleId,
            level: 'error',
            message: { text: `Package: openssl\nInstalled Version: 3.0.1\nFixed Version: 3.0.7` },
          },
        ],
      },
    ],
  };
  return target.client.referrers.attach(repository, digest, {
    artifactType: 'application/sarif+json',
    files: [{ content: Buffer.from(JSON.stringify(sarif)), mediaType: 'application/sarif+json' }],
  });
}

runIfMain(import.meta.url, async (target) => {
  const repository = `${target.owner}/hello`;
  let reference = process.argv[2] ?? `${target.client.registry}/${repository}:latest`;
  if (target.simulation !== undefined) {
    const pushed = await pushWithTags(target, repository);
    await attachScan(target, repository, pushed.digest, 'CVE-2022-3602', '9.8');
    reference = `ghcr.io/${repository}@${pushed.digest}`;
  }
  // The embedded run attaches an unsigned SARIF report, so it asks for the trusting mode.
  const result = await securityGate(target, reference, { allowUnverified: true });
  if (!result.passed) process.exitCode = 3;
  return {
    passed: result.passed,
    reason: result.reason,
    blocking: result.blocking.map((v) => `${v.id} (${v.severity})`),
  };
});
