import type { ParsedManifest } from '@ghcr/manifest';
import type { Descriptor } from '@ghcr/oci-types';
import type { SignerIdentity } from '../../signatures/identity.js';
import type { DsseEnvelope } from './attestation.js';

/**
 * What a verifier is given: the DSSE envelope (and the sigstore bundle around it, if any), the
 * layer it came from (cosign keeps the certificate and Rekor bundle in its annotations) and the
 * subject it should attest.
 * @public
 */
export interface AttestationToVerify {
  readonly repository: string;
  /** The digest the attestation was found attached to. */
  readonly subject: string;
  readonly envelope: DsseEnvelope;
  /** The whole sigstore bundle, for bundle-format attestations. */
  readonly bundle?: unknown;
  /** The layer holding it, with its annotations. */
  readonly layer: Descriptor;
  /** The referrer manifest holding the layer. */
  readonly manifest: ParsedManifest;
}

/**
 * Checks an attestation's signature. `reason` says what was checked (identity, key) or why it failed.
 * @public
 */
export type AttestationVerifier = (
  attestation: AttestationToVerify,
) => Promise<{ readonly verified: boolean; readonly reason: string; readonly signer?: SignerIdentity }>;
