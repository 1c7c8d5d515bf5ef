/**
 * Annotations cosign puts on a legacy signature or attestation layer.
 * @public
 */
export const CosignAnnotation = {
  /** The base64 signature (over the payload, or empty on `.att` layers). */
  Signature: 'dev.cosignproject.cosign/signature',
  /** The PEM signing certificate (keyless). */
  Certificate: 'dev.sigstore.cosign/certificate',
  /** The PEM chain above it. */
  Chain: 'dev.sigstore.cosign/chain',
  /** The Rekor bundle: `{SignedEntryTimestamp, Payload: {body, integratedTime, logIndex, logID}}`. */
  Bundle: 'dev.sigstore.cosign/bundle',
  /** An RFC 3161 timestamp: `{SignedRFC3161Timestamp}`. */
  Timestamp: 'dev.sigstore.cosign/rfc3161timestamp',
} as const;
