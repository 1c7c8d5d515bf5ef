import { buildArtifactManifest, cosignTagsFor, descriptorOf, isIndex, referrersTagFor } from '@ghcr/manifest';
import { type Descriptor, MediaType } from '@ghcr/oci-types';
import { pushBlob, pushImage, pushIndex, pushManifest, type Simulation } from '@ghcr/simulation';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createLocalSigstore,
  GITHUB_IDENTITY,
  GITHUB_ISSUER,
  generateSigningKey,
  type LocalSigstore,
} from '../testing/local-sigstore.js';
import { simulatedClient } from '../testing/simulated-client.js';

const REPO = 'octo/app';
const VULN = 'https://cosign.sigstore.dev/attestation/vuln/v1';
const BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** A cosign vuln statement about `digest`, with Trivy findings (none when `clean`). */
const vulnStatement = (digest: string, clean: boolean) => ({
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: `ghcr.io/${REPO}`, digest: { sha256: digest.slice('sha256:'.length) } }],
  predicateType: VULN,
  predicate: {
    scanner: {
      uri: 'pkg:github/aquasecurity/trivy@v0.50.1',
      version: '0.50.1',
      result: {
        SchemaVersion: 2,
        ArtifactName: `ghcr.io/${REPO}`,
        Results: clean
          ? []
          : [
              {
                Target: 'app',
                Vulnerabilities: [
                  {
                    VulnerabilityID: 'CVE-2024-0001',
                    PkgName: 'openssl',
                    InstalledVersion: '3.0.0',
                    Severity: 'CRITICAL',
                  },
                ],
              },
            ],
      },
    },
    metadata: { scanStartedOn: '2026-01-01T00:00:00Z', scanFinishedOn: '2026-01-01T00:00:01Z' },
  },
});

/**
 * Attaches a bundle as `@sigstore/oci` and cosign v3 do on a registry without the referrers API:
 * an artifact manifest with `subject`, listed in the `sha256-<hex>` fallback index, whose
 * descriptor carries `listedType` as its artifactType (ghcr.io has been seen to write the empty type).
 */
async function attachBundle(
  sim: Simulation,
  subject: Descriptor,
  bundle: unknown,
  listedType: string,
  existing: Descriptor[],
): Promise<void> {
  const blob = await pushBlob(sim, REPO, JSON.stringify(bundle), BUNDLE_TYPE);
  await pushBlob(sim, REPO, '{}', 'application/vnd.oci.empty.v1+json'); // the artifact's config
  const artifact = buildArtifactManifest({
    artifactType: BUNDLE_TYPE,
    blobs: [blob],
    subject,
    annotations: {
      'dev.sigstore.bundle.content': 'dsse-envelope',
      'dev.sigstore.bundle.predicateType': VULN,
    },
  });
  pushManifest(sim, REPO, artifact);
  existing.push({ ...descriptorOf(artifact), artifactType: listedType });
  pushIndex(sim, REPO, existing, { tag: referrersTagFor(subject.digest) });
}

let sigstore: LocalSigstore;
let policy: { certificateIdentity: string; certificateOidcIssuer: string; trustedRoot: unknown };

beforeAll(async () => {
  sigstore = await createLocalSigstore();
  policy = {
    certificateIdentity: GITHUB_IDENTITY,
    certificateOidcIssuer: GITHUB_ISSUER,
    trustedRoot: sigstore.trustedRoot,
  };
});

describe('client.signatures on the simulation (ghcr profile: tag fallbacks)', () => {
  it('signs with a key in cosign format at sha256-<hex>.sig, keeps earlier signatures, and verifies', async () => {
    const { sim, client } = simulatedClient();
    const image = await pushImage(sim, REPO, { tag: '1.0', seed: 'app' });
    const alice = generateSigningKey('ecdsa');
    const bob = generateSigningKey('ed25519');
    const signed = await client.signatures.sign(`${REPO}:1.0`, { key: alice.privateKeyPem });
    expect(signed.tag).toBe(cosignTagsFor(image.digest).signature);
    await client.signatures.sign(`${REPO}:1.0`, { key: bob.privateKeyPem });
    await client.signatures.sign(`${REPO}:1.0`, { key: alice.privateKeyPem }); // ECDSA signs anew: a second layer

    const manifest = await client.manifests.get(REPO, signed.tag);
    if (isIndex(manifest)) throw new Error('expected an image manifest');
    expect(manifest.manifest.config.mediaType).toBe(MediaType.OciConfig);
    expect(manifest.manifest.layers.map((layer) => layer.mediaType)).toEqual(
      Array(3).fill('application/vnd.dev.cosign.simplesigning.v1+json'),
    );
    const payload = await client.blobs.getBytes(REPO, manifest.manifest.layers[0] as Descriptor);
    expect(JSON.parse(payload.toString())).toEqual({
      critical: {
        identity: { 'docker-reference': `ghcr.io/${REPO}` },
        image: { 'docker-manifest-digest': image.digest },
        type: 'cosign container image signature',
      },
      optional: null,
    });

    const byBob = await client.signatures.verify(`${REPO}:1.0`, { policy: { key: bob.publicKeyPem } });
    expect(byBob.verified).toBe(true);
    expect(byBob.signatures.filter((entry) => entry.verified)).toHaveLength(1);
    expect(byBob.reason).toMatch(
      /^verified: 1 of 3 signatures and attestations verifies \(signed by key sha256:/,
    );
    const stranger = await client.signatures.verify(`${REPO}@${image.digest}`, {
      policy: { key: generateSigningKey().publicKeyPem },
    });
    expect(stranger.verified).toBe(false);
    expect(stranger.reason).toMatch(
      /^not verified: none of 3 signatures and attestations verifies \(tampered or another key/,
    );
  });

  it('says so when an image has no signature', async () => {
    const { sim, client } = simulatedClient();
    await pushImage(sim, REPO, { tag: '1.0', seed: 'app' });
    const result = await client.signatures.verify(`${REPO}:1.0`, {
      policy: { key: generateSigningKey().publicKeyPem },
    });
    expect(result).toMatchObject({
      verified: false,
      reason: 'not verified: no signatures and attestations found',
      signatures: [],
    });
  });

  it('finds a bundle listed in the fallback index under the empty artifactType, and lists attestations with signer and predicate', async () => {
    const { sim, client } = simulatedClient();
    const image = await pushImage(sim, REPO, { tag: '1.0', seed: 'app' });
    const entries: Descriptor[] = [];
    const bundle = await sigstore.signStatement(vulnStatement(image.digest, true));
    await attachBundle(sim, image.descriptor, bundle, 'application/vnd.oci.empty.v1+json', entries);

    const verified = await client.signatures.verify(`${REPO}:1.0`, { policy });
    expect(verified.verified).toBe(true);
    expect(verified.signatures).toEqual([
      expect.objectContaining({
        kind: 'attestation',
        format: 'sigstore-bundle',
        predicateType: VULN,
        verified: true,
        signer: expect.objectContaining({ subjectAlternativeName: GITHUB_IDENTITY, issuer: GITHUB_ISSUER }),
      }),
    ]);
    // Without a policy the attestation is listed with the signer its certificate claims, unverified.
    const listed = await client.signatures.attestations(`${REPO}:1.0`);
    expect(listed.signatures).toEqual([
      expect.objectContaining({
        predicateType: VULN,
        verified: false,
        reason: 'not verified: no policy given',
        signer: expect.objectContaining({ subjectAlternativeName: GITHUB_IDENTITY }),
      }),
    ]);
  });
});

describe('copies keep their signatures', () => {
  it('a bundle copied with its image (referrers, fallback index) still verifies at the destination', async () => {
    const { sim, client } = simulatedClient();
    const image = await pushImage(sim, REPO, { tag: '1.0', seed: 'app' });
    const bundle = await sigstore.signStatement(vulnStatement(image.digest, true));
    await attachBundle(sim, image.descriptor, bundle, 'application/vnd.oci.empty.v1+json', []);
    const copied = await client.images.copy(`${REPO}:1.0`, 'octo/mirror:1.0', {
      referrers: (descriptor) => client.referrers.list(REPO, descriptor.digest),
      referrerCopied: async (subject, referrer) => {
        await client.referrers.register('octo/mirror', subject.digest, referrer);
      },
    });
    expect(copied.referrers).toHaveLength(1);
    const verified = await client.signatures.verify('octo/mirror:1.0', { policy });
    expect(verified.verified).toBe(true);
    expect(verified.signatures[0]).toMatchObject({
      format: 'sigstore-bundle',
      verified: true,
      predicateType: VULN,
    });
    const gated = await client.vulnerabilities.gate('octo/mirror:1.0', { policy });
    expect(gated.passed).toBe(true);
  });
});

describe('the gate with a signature policy (fail closed)', () => {
  async function bedWithReport(sign: 'valid' | 'forged-identity' | 'unsigned', clean: boolean) {
    const { sim, client } = simulatedClient();
    const image = await pushImage(sim, REPO, { tag: '1.0', seed: 'app' });
    const entries: Descriptor[] = [];
    const statement = vulnStatement(image.digest, clean);
    let bundle: unknown;
    if (sign === 'unsigned') {
      bundle = {
        mediaType: BUNDLE_TYPE,
        verificationMaterial: { publicKey: { hint: 'none' }, tlogEntries: [] },
        dsseEnvelope: {
          payloadType: 'application/vnd.in-toto+json',
          payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
          signatures: [{ keyid: '', sig: Buffer.from('forged').toString('base64') }],
        },
      };
    } else {
      bundle = await sigstore.signStatement(
        statement,
        sign === 'forged-identity'
          ? { identity: 'https://github.com/mallory/app/.github/workflows/x.yml@refs/heads/main' }
          : {},
      );
    }
    await attachBundle(sim, image.descriptor, bundle, BUNDLE_TYPE, entries);
    return { client, image };
  }

  it('passes a signed clean report, naming the signer', async () => {
    const { client } = await bedWithReport('valid', true);
    const verdict = await client.vulnerabilities.gate(`${REPO}:1.0`, { policy });
    expect(verdict.passed).toBe(true);
    expect(verdict.reason).toBe('passed: 0 findings in 1 verified report, none at or above high');
    expect(verdict.reports).toEqual([
      expect.objectContaining({
        verified: true,
        signer: expect.objectContaining({ subjectAlternativeName: GITHUB_IDENTITY }),
      }),
    ]);
  });

  it('blocks on the findings of a signed report', async () => {
    const { client } = await bedWithReport('valid', false);
    const verdict = await client.vulnerabilities.gate(`${REPO}:1.0`, { policy });
    expect(verdict.passed).toBe(false);
    expect(verdict.blocking.map((finding) => finding.id)).toEqual(['CVE-2024-0001']);
  });

  it.each([
    [
      'unsigned',
      /tampered or another key|not verified|untrusted|no timestamp|timestamp not verified|signed with a key/,
    ],
    ['forged-identity', /wrong identity/],
  ] as const)('blocks a forged clean report (%s), listing why it did not count', async (kind, why) => {
    const { client } = await bedWithReport(kind, true);
    const verdict = await client.vulnerabilities.gate(`${REPO}:1.0`, { policy });
    expect(verdict.passed).toBe(false);
    expect(verdict.reason).toMatch(
      /^blocked: no verified vulnerability report for sha256:[0-9a-f]{64} \(1 unverified report not counted: /,
    );
    expect(verdict.reports[0]?.verified).toBe(false);
    expect(verdict.reports[0]?.reason).toMatch(why);
    // The old, trusting mode passes it: only when asked.
    expect((await client.vulnerabilities.gate(`${REPO}:1.0`, { policy, allowUnverified: true })).passed).toBe(
      true,
    );
  });

  it('blocks when no policy is given at all (nothing can verify), unless allowUnverified', async () => {
    const { client } = await bedWithReport('valid', true);
    const verdict = await client.vulnerabilities.gate(`${REPO}:1.0`);
    expect(verdict.passed).toBe(false);
    expect(verdict.reports[0]?.reason).toMatch(/^signature not verified: no signature policy was given/);
    expect((await client.vulnerabilities.gate(`${REPO}:1.0`, { allowUnverified: true })).passed).toBe(true);
  });

  it('does not let an unverified report with findings block either', async () => {
    const { client } = await bedWithReport('forged-identity', false);
    const verdict = await client.vulnerabilities.gate(`${REPO}:1.0`, { policy, whenNoReport: 'pass' });
    expect(verdict.blocking).toEqual([]);
    expect(verdict.passed).toBe(true);
  });
});
