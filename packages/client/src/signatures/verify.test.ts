import { describe, expect, it } from 'vitest';
import { resolveSignaturePolicy } from './policy.js';
import { createLocalSigstore, GITHUB_IDENTITY, GITHUB_ISSUER } from './testing/local-sigstore.js';
import { verifyBundle } from './verify.js';

const IMAGE = `sha256:${'a'.repeat(64)}`;
const statement = (digest = IMAGE) => ({
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'ghcr.io/octo/app', digest: { sha256: digest.slice(7) } }],
  predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  predicate: { scanner: { uri: 'x', version: '1', result: {} } },
});

describe('spike', () => {
  it('verifies', async () => {
    const sigstore = await createLocalSigstore();
    const bundle = await sigstore.signStatement(statement(), { timestamp: true });
    const policy = resolveSignaturePolicy({
      certificateIdentity: GITHUB_IDENTITY,
      certificateOidcIssuer: GITHUB_ISSUER,
      trustedRoot: sigstore.trustedRoot,
    });
    const result = verifyBundle(bundle, policy, { digest: IMAGE });
    console.log(result);
    expect(result.verified).toBe(true);
  });
});
