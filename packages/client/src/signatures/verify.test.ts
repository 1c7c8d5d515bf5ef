import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '@ghcr/oci-types';
import { dsse } from '@sigstore/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createLocalSigstore,
  FULCIO_OID,
  GITHUB_IDENTITY,
  GITHUB_ISSUER,
  generateSigningKey,
  type LocalSigstore,
} from '../testing/local-sigstore.js';
import { createAttestationVerifier } from './attestation-verifier.js';
import { CosignAnnotation } from './cosign-annotation.js';
import { resolveSignaturePolicy, type SignaturePolicy } from './policy.js';
import { loadSigningKey, signBytes, simpleSigningPayload } from './sign.js';
import { verifyBundle, verifyCosignAttestation, verifyCosignSignature } from './verify.js';

const IMAGE = `sha256:${'a'.repeat(64)}` as const;
const OTHER = `sha256:${'b'.repeat(64)}`;
const VULN = 'https://cosign.sigstore.dev/attestation/vuln/v1';

const statement = (digest: string = IMAGE, predicateType = VULN) => ({
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'ghcr.io/octo/app', digest: { sha256: digest.slice('sha256:'.length) } }],
  predicateType,
  predicate: { scanner: { uri: 'pkg:github/aquasecurity/trivy@v0.50.1', version: '0.50.1', result: {} } },
});

let sigstore: LocalSigstore;
let keyless: SignaturePolicy;

beforeAll(async () => {
  sigstore = await createLocalSigstore();
  keyless = {
    certificateIdentity: GITHUB_IDENTITY,
    certificateOidcIssuer: GITHUB_ISSUER,
    trustedRoot: sigstore.trustedRoot,
  };
});

const check = (bundle: unknown, policy: SignaturePolicy, digest = IMAGE) =>
  verifyBundle(bundle, resolveSignaturePolicy(policy), { digest });

describe('verifyBundle, keyless, against a local Sigstore', () => {
  it.each(['0.1', '0.2', '0.3'] as const)(
    'accepts a valid v%s bundle and names the signer',
    async (version) => {
      const bundle = await sigstore.signStatement(statement(), { version });
      const result = check(bundle, keyless);
      expect(result).toMatchObject({
        verified: true,
        predicateType: VULN,
        subjects: [IMAGE],
        signer: { type: 'certificate', subjectAlternativeName: GITHUB_IDENTITY, issuer: GITHUB_ISSUER },
      });
      expect(result.reason).toBe(`signed by ${GITHUB_IDENTITY} (issuer ${GITHUB_ISSUER})`);
    },
  );

  it('accepts a bundle timestamped by the TSA alone, when the policy needs no log entry', async () => {
    const bundle = await sigstore.signStatement(statement(), { noTlog: true, timestamp: true });
    expect(check(bundle, keyless).reason).toMatch(
      /^timestamp not verified: expected 1 tlog timestamps, got 0/,
    );
    expect(check(bundle, { ...keyless, tlogThreshold: 0, timestampThreshold: 1 }).verified).toBe(true);
  });

  it('refuses the wrong identity, and anchors identity regexps', async () => {
    const bundle = await sigstore.signStatement(statement());
    const wrong = check(bundle, {
      ...keyless,
      certificateIdentity: 'https://github.com/evil/app/.github/workflows/release.yml@refs/heads/main',
    });
    expect(wrong.verified).toBe(false);
    expect(wrong.reason).toMatch(
      /^wrong identity: the certificate's identity is "https:\/\/github\.com\/octo\/app\//,
    );
    const { certificateIdentity: _, ...withoutExact } = keyless;
    // Unanchored, "octo/app" would match; anchored, the whole SAN must.
    expect(check(bundle, { ...withoutExact, certificateIdentityRegexp: 'octo/app' }).reason).toMatch(
      /^wrong identity/,
    );
    expect(
      check(bundle, {
        ...withoutExact,
        certificateIdentityRegexp: 'https://github\\.com/octo/app/\\.github/workflows/.+@refs/heads/main',
      }).verified,
    ).toBe(true);
  });

  it('refuses the wrong issuer', async () => {
    const bundle = await sigstore.signStatement(statement(), { issuer: 'https://accounts.google.com' });
    const result = check(bundle, keyless);
    expect(result.verified).toBe(false);
    expect(result.reason).toBe(
      'wrong issuer: the certificate was issued for OIDC issuer "https://accounts.google.com", the policy wants "https://token.actions.githubusercontent.com"',
    );
  });

  it('refuses a tampered payload', async () => {
    const bundle = await sigstore.signStatement(statement());
    const envelope = bundle.dsseEnvelope as { payload: string };
    const forged = JSON.stringify({ ...statement(), predicate: { scanner: { result: { clean: true } } } });
    envelope.payload = Buffer.from(forged).toString('base64');
    const result = check(bundle, keyless);
    expect(result.verified).toBe(false);
    expect(result.reason).toMatch(/^tampered: /);
  });

  it('refuses a statement whose subject is another image (sigstore-js does not check it)', async () => {
    const bundle = await sigstore.signStatement(statement(OTHER));
    const result = check(bundle, keyless);
    expect(result.verified).toBe(false);
    expect(result.reason).toBe(`subject mismatch: the statement attests ${OTHER}, not ${IMAGE}`);
    expect(result.signer?.subjectAlternativeName).toBe(GITHUB_IDENTITY);
  });

  it('refuses an expired certificate without a timestamp', async () => {
    const past = await createLocalSigstore({ signingTime: new Date(Date.now() - 3_600_000) });
    const bundle = await past.signStatement(statement(), { noTlog: true });
    const result = check(bundle, { ...keyless, trustedRoot: past.trustedRoot });
    expect(result.verified).toBe(false);
    expect(result.reason).toMatch(
      /^no timestamp: the bundle has no transparency-log entry and no signed timestamp, so nothing proves the certificate \(valid .+ to .+\) was used while it was valid$/,
    );
  });

  it('refuses a certificate from a CA that is not in the trusted root', async () => {
    const stranger = await createLocalSigstore();
    const bundle = await stranger.signStatement(statement());
    const result = check(bundle, keyless);
    expect(result.verified).toBe(false);
    expect(result.reason).toMatch(/^(untrusted certificate|transparency-log entry not verified)/);
    // With the stranger's log trusted but not its CA, the certificate is what fails.
    const mixed = {
      ...sigstore.trustedRoot,
      tlogs: [...(sigstore.trustedRoot.tlogs as unknown[]), ...(stranger.trustedRoot.tlogs as unknown[])],
    };
    expect(check(bundle, { ...keyless, trustedRoot: mixed }).reason).toMatch(
      /^untrusted certificate: it does not chain to a certificate authority of the trusted root/,
    );
  });

  it('checks the GitHub repository, owner and workflow extensions', async () => {
    const bundle = await sigstore.signStatement(statement(), {
      extensions: {
        [FULCIO_OID.sourceRepository]: 'https://github.com/octo/app',
        [FULCIO_OID.sourceRepositoryOwner]: 'https://github.com/octo',
        [FULCIO_OID.buildSignerUri]: GITHUB_IDENTITY,
      },
    });
    const policy = { certificateOidcIssuer: GITHUB_ISSUER, trustedRoot: sigstore.trustedRoot };
    expect(check(bundle, { ...policy, repository: 'octo/app' }).verified).toBe(true);
    expect(check(bundle, { ...policy, owner: 'octo' }).verified).toBe(true);
    expect(check(bundle, { ...policy, workflow: 'octo/app/.github/workflows/release.yml' }).verified).toBe(
      true,
    );
    expect(check(bundle, { ...policy, repository: 'evil/app' }).reason).toBe(
      'wrong repository: the certificate names source repository "https://github.com/octo/app", the policy wants https://github.com/evil/app',
    );
    expect(check(bundle, { ...policy, owner: 'evil' }).reason).toMatch(/^wrong owner/);
    expect(check(bundle, { ...policy, workflow: 'octo/app/.github/workflows/other.yml' }).reason).toMatch(
      /^wrong workflow/,
    );
  });

  it('checks the predicate type', async () => {
    const bundle = await sigstore.signStatement(statement(IMAGE, 'https://slsa.dev/provenance/v1'));
    expect(check(bundle, { ...keyless, predicateType: VULN }).reason).toBe(
      `wrong predicate type: the statement is https://slsa.dev/provenance/v1, the policy wants ${VULN}`,
    );
    expect(check(bundle, { ...keyless, predicateType: 'https://slsa.dev/provenance/v1' }).verified).toBe(
      true,
    );
  });

  it('refuses what is not a bundle', () => {
    expect(check({ mediaType: 'nope' }, keyless).reason).toMatch(/^not a valid sigstore bundle/);
  });
});

describe('key-based cosign signatures and attestations', () => {
  it.each(['ecdsa', 'ed25519', 'rsa'] as const)(
    'verifies a .sig simple-signing layer written in cosign format (%s)',
    (type) => {
      const keys = generateSigningKey(type);
      const payload = simpleSigningPayload('ghcr.io/octo/app', IMAGE);
      const signature = signBytes(createPrivateKey(keys.privateKeyPem), payload).toString('base64');
      const annotations = { [CosignAnnotation.Signature]: signature };
      const policy = resolveSignaturePolicy({ key: keys.publicKeyPem });
      const result = verifyCosignSignature(payload, annotations, policy, { digest: IMAGE });
      expect(result).toMatchObject({ verified: true, subjects: [IMAGE], signer: { type: 'key' } });
      expect(result.signer?.keyFingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
      // Another key, a tampered payload, another image: refused.
      const other = resolveSignaturePolicy({ key: generateSigningKey(type).publicKeyPem });
      expect(verifyCosignSignature(payload, annotations, other, { digest: IMAGE }).reason).toMatch(
        /^tampered or another key/,
      );
      const tampered = simpleSigningPayload('ghcr.io/octo/app', OTHER);
      expect(verifyCosignSignature(tampered, annotations, policy, { digest: OTHER }).verified).toBe(false);
      expect(verifyCosignSignature(payload, annotations, policy, { digest: OTHER }).reason).toBe(
        `subject mismatch: the signature is for ${IMAGE}, not ${OTHER}`,
      );
    },
  );

  it("signs with cosign's encrypted key file (scrypt + secretbox), and refuses a wrong or missing password", () => {
    const file = readFileSync(
      new URL('./__fixtures__/cosign/encrypted-sigstore.key', import.meta.url),
      'utf8',
    );
    const { privateKey, publicKey } = loadSigningKey(file, 'hello');
    const payload = simpleSigningPayload('ghcr.io/octo/app', IMAGE);
    const annotations = { [CosignAnnotation.Signature]: signBytes(privateKey, payload).toString('base64') };
    const policy = resolveSignaturePolicy({
      key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    });
    expect(verifyCosignSignature(payload, annotations, policy, { digest: IMAGE }).verified).toBe(true);
    expect(() => loadSigningKey(file, 'wrong')).toThrow(/the password does not open the cosign key file/);
    expect(() => loadSigningKey(file)).toThrow(/give its password \(COSIGN_PASSWORD/);
  });

  it('writes the payload byte for byte as cosign does', () => {
    expect(Buffer.from(simpleSigningPayload('ghcr.io/octo/app', IMAGE)).toString()).toBe(
      `{"critical":{"identity":{"docker-reference":"ghcr.io/octo/app"},"image":{"docker-manifest-digest":"${IMAGE}"},"type":"cosign container image signature"},"optional":null}`,
    );
  });

  it('verifies a key-signed .att DSSE envelope, and refuses an unsigned layer', async () => {
    const keys = generateSigningKey();
    const payload = Buffer.from(JSON.stringify(statement()));
    const payloadType = 'application/vnd.in-toto+json';
    const sig = signBytes(createPrivateKey(keys.privateKeyPem), dsse.preAuthEncoding(payloadType, payload));
    const envelope = {
      payloadType,
      payload: payload.toString('base64'),
      signatures: [{ keyid: '', sig: sig.toString('base64') }],
    };
    const policy = resolveSignaturePolicy({ key: keys.publicKeyPem });
    expect(verifyCosignAttestation(envelope, {}, policy, { digest: IMAGE })).toMatchObject({
      verified: true,
      predicateType: VULN,
    });
    expect(verifyCosignAttestation(envelope, {}, policy, { digest: OTHER }).reason).toMatch(
      /^subject mismatch/,
    );
    expect(verifyCosignSignature(payload, {}, policy).reason).toMatch(/^unsigned/);
    // The gate's verifier, given the envelope as the gate reads it.
    const verifier = createAttestationVerifier({ key: keys.publicKeyPem });
    const result = await verifier({
      subject: IMAGE,
      envelope: { payloadType, payload, signatures: [{ sig: sig.toString('base64') }] },
      layer: { mediaType: 'application/vnd.dsse.envelope.v1+json', digest: IMAGE, size: 1 },
    });
    expect(result.verified).toBe(true);
  });

  it('refuses a keyless bundle under a key policy', async () => {
    const bundle = await sigstore.signStatement(statement());
    const result = check(bundle, { key: generateSigningKey().publicKeyPem });
    expect(result.reason).toMatch(/^tampered or another key/);
  });
});

describe('cosign legacy keyless signatures (.sig layer annotations)', () => {
  it('verifies the certificate and Rekor bundle annotations, and refuses another identity, payload or image', async () => {
    const payload = simpleSigningPayload('ghcr.io/octo/app', IMAGE);
    const annotations = await sigstore.signLegacy(payload);
    const policy = resolveSignaturePolicy(keyless);
    expect(verifyCosignSignature(payload, annotations, policy, { digest: IMAGE })).toMatchObject({
      verified: true,
      subjects: [IMAGE],
      signer: { subjectAlternativeName: GITHUB_IDENTITY, issuer: GITHUB_ISSUER },
    });
    const other = resolveSignaturePolicy({ ...keyless, certificateIdentity: 'https://github.com/evil/x' });
    expect(verifyCosignSignature(payload, annotations, other, { digest: IMAGE }).reason).toMatch(
      /^wrong identity/,
    );
    const forged = simpleSigningPayload('ghcr.io/octo/app', OTHER);
    expect(verifyCosignSignature(forged, annotations, policy, { digest: OTHER }).reason).toMatch(
      /^tampered: /,
    );
    expect(verifyCosignSignature(payload, annotations, policy, { digest: OTHER }).reason).toBe(
      `subject mismatch: the signature is for ${IMAGE}, not ${OTHER}`,
    );
    const { 'dev.sigstore.cosign/certificate': _, ...keyOnly } = annotations;
    expect(verifyCosignSignature(payload, keyOnly, policy, { digest: IMAGE }).reason).toMatch(
      /^not verified: a key-based signature \(no certificate\), but the policy is keyless/,
    );
  });
});

describe('resolveSignaturePolicy', () => {
  it.each<[string, SignaturePolicy, RegExp]>([
    ['no identity', { certificateOidcIssuer: GITHUB_ISSUER, trustedRoot: {} }, /give a key, or for keyless/],
    ['no issuer', { certificateIdentity: 'x' }, /need the OIDC issuer/],
    ['no trusted root', { certificateIdentity: 'x', certificateOidcIssuer: 'y' }, /need a trusted root/],
    [
      'a bad trusted root',
      { certificateIdentity: 'x', certificateOidcIssuer: 'y', trustedRoot: { a: 1 } },
      /mediaType/,
    ],
    ['a bad key', { key: 'not a key' }, /not a PEM public key/],
    [
      'a bad regex',
      { certificateIdentityRegexp: '(', certificateOidcIssuer: 'y', trustedRoot: {} },
      /not a regular expression/,
    ],
    ['a bad repository', { key: 'k', repository: 'octo' }, /expected owner\/name/],
    [
      'a misspelt key',
      { key: 'k', certificateIdentiy: 'x' } as SignaturePolicy,
      /unknown signature policy key "certificateIdentiy" \(did you mean "certificateIdentity"\?\)/,
    ],
  ])('refuses %s with a ConfigError', (_, policy, message) => {
    let thrown: unknown;
    try {
      resolveSignaturePolicy(policy);
    } catch (error) {
      thrown = error;
    }
    expect(ConfigError.isInstance(thrown)).toBe(true);
    expect(String(thrown)).toMatch(message);
  });
});

describe('published fixtures (Sigstore public good), verified offline', () => {
  const read = (path: string): unknown =>
    JSON.parse(readFileSync(new URL(`./__fixtures__/${path}`, import.meta.url), 'utf8'));

  it.each(['bundleV01-intoto-with-proof', 'bundleV02-dsse', 'bundleV03-dsse', 'bundleV03-intoto'])(
    "verifies sigstore-js's %s",
    (name) => {
      const policy = resolveSignaturePolicy({
        certificateIdentity: 'brian@dehamer.com',
        certificateOidcIssuer: 'https://github.com/login/oauth',
        trustedRoot: read('sigstore-js/trusted_root.json'),
      });
      const bundle = read(`sigstore-js/${name}.sigstore.json`);
      const result = verifyBundle(bundle, policy);
      expect(result).toMatchObject({
        verified: true,
        predicateType: 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1',
        signer: { subjectAlternativeName: 'brian@dehamer.com', issuer: 'https://github.com/login/oauth' },
      });
      // It attests an npm package, not an image: as an image attestation it is refused.
      expect(verifyBundle(bundle, policy, { digest: IMAGE }).reason).toMatch(/^subject mismatch/);
    },
  );

  it("verifies cosign's OCI attestation bundle for its image, and refuses it for another", () => {
    const policy = resolveSignaturePolicy({
      certificateIdentity: 'cody@soyland.com',
      certificateOidcIssuer: 'https://github.com/login/oauth',
      trustedRoot: read('cosign/trusted_root_pgi.json'),
    });
    const bundle = read('cosign/oci-attestation.sigstore.json');
    const digest = 'sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4';
    expect(verifyBundle(bundle, policy, { digest })).toMatchObject({
      verified: true,
      predicateType: 'https://cosign.sigstore.dev/attestation/v1',
      subjects: [digest],
    });
    expect(verifyBundle(bundle, policy, { digest: IMAGE }).verified).toBe(false);
    const someoneElse = resolveSignaturePolicy({
      certificateIdentity: 'someone@else.example',
      certificateOidcIssuer: 'https://github.com/login/oauth',
      trustedRoot: read('cosign/trusted_root_pgi.json'),
    });
    expect(verifyBundle(bundle, someoneElse, { digest }).reason).toMatch(/^wrong identity/);
  });
});
