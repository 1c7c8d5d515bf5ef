import { ConfigError } from '@ghcr/oci-types';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { type TrustMaterial, toTrustMaterial } from '@sigstore/verify';

/**
 * A trusted root, loaded: sigstore-js's trust material, and how many of each authority it has.
 * @internal
 */
export interface LoadedTrustedRoot {
  readonly trust: TrustMaterial;
  readonly counts: {
    readonly certificateAuthorities: number;
    readonly tlogs: number;
    readonly ctlogs: number;
    readonly timestampAuthorities: number;
  };
}

const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot';

/**
 * Loads a `trusted_root.json` (a parsed object, or its text): the certificate authorities,
 * transparency logs, CT logs and timestamp authorities keyless signatures are checked against.
 * Nothing is fetched (no TUF). Public keys in the root are never used for `key` verification.
 * @throws ConfigError (field `trustedRoot`) when it is not a trusted root or holds no CA.
 * @internal
 */
export function loadTrustedRoot(document: unknown): LoadedTrustedRoot {
  let json = document;
  if (typeof document === 'string') {
    try {
      json = JSON.parse(document);
    } catch (error) {
      throw new ConfigError('invalid signature policy "trustedRoot": not JSON (give trusted_root.json)', {
        field: 'trustedRoot',
        cause: error,
      });
    }
  }
  const mediaType =
    typeof json === 'object' && json !== null && 'mediaType' in json ? json.mediaType : undefined;
  if (typeof mediaType !== 'string' || !mediaType.startsWith(TRUSTED_ROOT_MEDIA_TYPE)) {
    throw new ConfigError(
      `invalid signature policy "trustedRoot": mediaType is ${JSON.stringify(mediaType)}, expected ${TRUSTED_ROOT_MEDIA_TYPE}.v0.1+json (write one with \`gh attestation trusted-root > trusted_root.json\`)`,
      { field: 'trustedRoot' },
    );
  }
  let root: TrustedRoot;
  let trust: TrustMaterial;
  try {
    root = TrustedRoot.fromJSON(json);
    trust = toTrustMaterial(root);
  } catch (error) {
    throw new ConfigError(
      `invalid signature policy "trustedRoot": ${error instanceof Error ? error.message : String(error)}`,
      { field: 'trustedRoot', cause: error },
    );
  }
  if (root.certificateAuthorities.length === 0) {
    throw new ConfigError(
      'invalid signature policy "trustedRoot": it lists no certificate authority, so no keyless certificate can be trusted',
      { field: 'trustedRoot' },
    );
  }
  return {
    trust,
    counts: {
      certificateAuthorities: root.certificateAuthorities.length,
      tlogs: root.tlogs.length,
      ctlogs: root.ctlogs.length,
      timestampAuthorities: root.timestampAuthorities.length,
    },
  };
}
