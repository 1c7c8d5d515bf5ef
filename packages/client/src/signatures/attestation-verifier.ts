import type { Descriptor } from '@ghcr/oci-types';
import { type ResolvedSignaturePolicy, resolveSignaturePolicy, type SignaturePolicy } from './policy.js';
import { type SignatureVerification, verifyBundle, verifyCosignAttestation } from './verify.js';

/**
 * An attestation as the vulnerability gate found it: the DSSE envelope (payload decoded), the
 * sigstore bundle around it if any, the layer (cosign keeps the certificate and Rekor bundle in its
 * annotations), and the digest it must attest.
 * @public
 */
export interface AttestationInput {
  readonly subject: string;
  readonly envelope: {
    readonly payloadType: string;
    readonly payload: Uint8Array;
    readonly signatures: readonly { readonly keyid?: string; readonly sig: string }[];
  };
  readonly bundle?: unknown;
  readonly layer: Descriptor;
}

/**
 * A policy given as options, or already resolved.
 * @public
 */
export type PolicyInput = SignaturePolicy | ResolvedSignaturePolicy;

/**
 * Resolves a policy unless it already is.
 * @internal
 */
export function asResolvedPolicy(policy: PolicyInput): ResolvedSignaturePolicy {
  return 'thresholds' in policy ? policy : resolveSignaturePolicy(policy);
}

/**
 * A verifier of attestations under `policy`, for the vulnerability gate (`gate(ref, { policy })`,
 * or the client's `verifyAttestation` option): sigstore bundles are verified whole; cosign's
 * legacy `.att` envelopes with the key, or with the certificate and Rekor bundle in the layer's
 * annotations. The statement must name the digest the attestation is attached to.
 * @throws ConfigError when the policy is invalid (at creation, not per attestation).
 * @public
 */
export function createAttestationVerifier(
  policy: PolicyInput,
): (attestation: AttestationInput) => Promise<SignatureVerification> {
  const resolved = asResolvedPolicy(policy);
  return async (attestation) => {
    const expect = { digest: attestation.subject };
    if (attestation.bundle !== undefined) return verifyBundle(attestation.bundle, resolved, expect);
    const envelope = {
      payloadType: attestation.envelope.payloadType,
      payload: Buffer.from(attestation.envelope.payload).toString('base64'),
      signatures: attestation.envelope.signatures.map((signature) => ({
        keyid: signature.keyid ?? '',
        sig: signature.sig,
      })),
    };
    return verifyCosignAttestation(envelope, attestation.layer.annotations ?? {}, resolved, expect);
  };
}
